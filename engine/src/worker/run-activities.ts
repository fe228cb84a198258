// The run's own lifecycle activities: its staging schema in the warehouse, and what happens when
// it ends (incremental state committed on success, staging dropped unless kept for previews).
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type pg from 'pg';
import { acquireLockSignal, lockWorkflowId } from '../workflows/pipeline-lock.workflow.js';
import { quoteIdent } from '@tributary/activities';
import { createStagingSchema, provisionProject } from '../warehouse/provision.js';

export interface FinishRunInput {
  runId: string;
  stagingSchema: string;
  keepStaging: boolean;
  pipelineId: string;
  /** States to commit; empty unless the run succeeded. */
  states: { nodeId: string; state: unknown }[];
  /** The development branch the run was in (its state is the branch's own); absent on main. */
  branch?: string;
}

export interface RunActivities {
  /** Creates the run's staging schema, owned by its project's role (absent in runs started before roles). */
  prepareRun(input: { stagingSchema: string; project?: string }): Promise<void>;
  finishRun(input: FinishRunInput): Promise<void>;
  /** Queues the run for the pipeline's lock (starting the lock workflow if needed). */
  requestPipelineLock(input: { pipelineId: string; runId: string }): Promise<void>;
  runIsOpen(input: { runId: string }): Promise<boolean>;
}

export interface RunActivityDeps {
  warehouse: pg.Pool;
  platform: pg.Pool;
  temporal: Client;
  taskQueue: string;
  /** Keep every run's staging for previews, whatever the pipeline says (TRIBUTARY_KEEP_STAGING). */
  keepStagingAlways?: boolean;
  /** How long kept staging stays before the sweeper drops it. */
  stagingTtlMs?: number;
}

export function createRunActivities(deps: RunActivityDeps): RunActivities {
  const provisionedProjects = new Map<string, Promise<void>>();
  return {
    async requestPipelineLock({ pipelineId, runId }) {
      await deps.temporal.workflow.signalWithStart('pipelineLock', {
        workflowId: lockWorkflowId(pipelineId),
        taskQueue: deps.taskQueue,
        args: [{ holder: null, queue: [] }],
        signal: acquireLockSignal,
        signalArgs: [{ runId }],
      });
    },
    async runIsOpen({ runId }) {
      try {
        const description = await deps.temporal.workflow.getHandle(runId).describe();
        return description.status.name === 'RUNNING';
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },
    async prepareRun({ stagingSchema, project = 'default' }) {
      // Provisioning is idempotent; once per project and process is enough to pick up new projects.
      let provisioned = provisionedProjects.get(project);
      if (!provisioned) {
        provisioned = provisionProject(deps.warehouse, project, await projectSchemas(deps.platform, project));
        provisionedProjects.set(project, provisioned);
        provisioned.catch(() => provisionedProjects.delete(project));
      }
      await provisioned;
      await createStagingSchema(deps.warehouse, project, stagingSchema);
      await deps.warehouse.query(`comment on schema ${quoteIdent(stagingSchema)} is $$tributary staging$$`);
    },
    async finishRun({ runId, stagingSchema, keepStaging, pipelineId, states, branch }) {
      if (states.length > 0) {
        const client = await deps.platform.connect();
        try {
          await client.query('begin');
          for (const { nodeId, state } of states) {
            await client.query(
              `insert into tributary.node_state (pipeline_id, node_id, state, run_id, branch) values ($1, $2, $3, $4, $5)
               on conflict (pipeline_id, node_id, branch) do update set state = excluded.state, run_id = excluded.run_id, updated_at = now()`,
              [pipelineId, nodeId, JSON.stringify(state), runId, branch ?? ''],
            );
          }
          await client.query('commit');
        } catch (error) {
          await client.query('rollback').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      }
      if (keepStaging || deps.keepStagingAlways) {
        const until = new Date(Date.now() + (deps.stagingTtlMs ?? DEFAULT_STAGING_TTL_MS));
        await deps.warehouse.query(
          `comment on schema ${quoteIdent(stagingSchema)} is ${pgLiteral(`${KEPT_PREFIX}${until.toISOString()}`)}`,
        );
      } else {
        await deps.warehouse.query(`drop schema if exists ${quoteIdent(stagingSchema)} cascade`);
      }
    },
  };
}

/** How long kept staging schemas stay for previews before the sweeper drops them. */
export const DEFAULT_STAGING_TTL_MS = 24 * 3600 * 1000;
/** The schema comment of kept staging; the sweeper reads the expiry back from it. */
export const KEPT_PREFIX = 'tributary staging kept until ';

/** Drops kept staging schemas whose time is up; returns their names. */
export async function sweepExpiredStaging(warehouse: pg.Pool, now = new Date()): Promise<string[]> {
  const kept = await warehouse.query<{ name: string; comment: string }>(
    `select nspname as name, obj_description(oid, 'pg_namespace') as comment
       from pg_namespace where nspname like 'tr\\_run\\_%' and obj_description(oid, 'pg_namespace') like $1`,
    [`${KEPT_PREFIX}%`],
  );
  const dropped: string[] = [];
  for (const { name, comment } of kept.rows) {
    const until = Date.parse(comment.slice(KEPT_PREFIX.length));
    if (Number.isNaN(until) || until > now.getTime()) continue;
    await warehouse.query(`drop schema if exists ${quoteIdent(name)} cascade`);
    dropped.push(name);
  }
  return dropped;
}

function pgLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

export async function loadNodeState(
  platform: pg.Pool,
  pipelineId: string,
  nodeId: string,
  branch?: string,
): Promise<unknown> {
  const result = await platform.query<{ state: unknown }>(
    'select state from tributary.node_state where pipeline_id = $1 and node_id = $2 and branch = $3',
    [pipelineId, nodeId, branch ?? ''],
  );
  return result.rows[0]?.state;
}

/** The extra schemas a project's settings list. */
async function projectSchemas(platform: pg.Pool, project: string): Promise<string[]> {
  const result = await platform.query<{ schemas: string[] }>(
    'select schemas from tributary.projects where id = $1',
    [project],
  );
  return result.rows[0]?.schemas ?? [];
}

export async function projectExists(platform: pg.Pool, project: string): Promise<boolean> {
  const result = await platform.query('select 1 from tributary.projects where id = $1', [project]);
  return (result.rowCount ?? 0) > 0;
}

export async function resolveProduct(
  platform: pg.Pool,
  id: string,
): Promise<{ project: string; schema: string; table: string } | undefined> {
  const { rows } = await platform.query<{ project: string; schema: string; table: string }>(
    'select project_id as project, table_schema as schema, table_name as "table" from tributary.data_products where id = $1',
    [id],
  );
  return rows[0];
}
