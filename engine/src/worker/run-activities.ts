// The run's own lifecycle activities: its staging schema in the warehouse, and what happens when
// it ends (incremental state committed on success; staging dropped unless kept for previews or,
// for a failed run, for a re-run to reuse).
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client, type SignalDefinition } from '@temporalio/client';
import type pg from 'pg';
import {
  acquireLockSignal,
  acquireSlotSignal,
  acquireSlotsSignal,
  LOCK_WORKFLOW,
  releaseSlotsSignal,
  lockWorkflowId,
  SLOTS_WORKFLOW,
  slotsWorkflowId,
  type RunActivities,
} from '../model/run-contract.js';
import { quoteIdent } from '@tributary/activities';
import type { Logger } from '../infra/logger.js';
import { keepStagingUntil } from '../warehouse/kept-staging.js';
import { provisionBranchRole } from '../warehouse/branch-role.js';
import { createStagingSchema, provisionProject } from '../warehouse/provision.js';
import { withTransaction } from '../store/transaction.js';

export type { FinishRunInput, RunActivities } from '../model/run-contract.js';

export interface RunActivityDeps {
  warehouse: pg.Pool;
  platform: pg.Pool;
  temporal: Client;
  taskQueue: string;
  /** Keep every run's staging for previews, whatever the pipeline says (TRIBUTARY_KEEP_STAGING). */
  keepStagingAlways?: boolean;
  /** How long kept staging stays before the sweeper drops it. */
  stagingTtlMs?: number;
  /** Told when a run has finished (it enqueues failure and success notifications). */
  runClosed?: (runId: string) => Promise<unknown>;
  log?: Logger;
}

/** How long finishing a run waits for its notifications to be queued before it gives up on them. */
const NOTIFY_TIMEOUT_MS = 5_000;

export function createRunActivities(deps: RunActivityDeps): RunActivities {
  const provisionedProjects = new Map<string, Promise<void>>();
  return {
    async requestPipelineLock({ pipelineId, runId }) {
      await deps.temporal.workflow.signalWithStart(LOCK_WORKFLOW, {
        workflowId: lockWorkflowId(pipelineId),
        taskQueue: deps.taskQueue,
        args: [{ holder: null, queue: [] }],
        signal: acquireLockSignal,
        signalArgs: [{ runId }],
      });
    },
    runIsOpen: ({ runId }) => isRunOpen(deps.temporal, runId),
    requestProjectSlot: ({ project, runId, key, capacity }) =>
      askProjectSlots(deps.temporal, project, capacity, acquireSlotSignal, { runId, key, capacity }),
    requestProjectSlots: ({ project, runId, keys, capacity }) =>
      askProjectSlots(deps.temporal, project, capacity, acquireSlotsSignal, { runId, keys, capacity }),
    async releaseProjectSlots({ project, keys }) {
      const workflowId = slotsWorkflowId(project, Context.current().info.taskQueue);
      try {
        await deps.temporal.workflow.getHandle(workflowId).signal(releaseSlotsSignal, { keys });
      } catch (error) {
        // No semaphore (it ended idle) holds nothing to give back.
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    },
    async prepareRun({ stagingSchema, project = 'default', branch }) {
      // Provisioning is idempotent; once per project and process is enough to pick up new projects.
      let provisioned = provisionedProjects.get(project);
      if (!provisioned) {
        provisioned = provisionProject(deps.warehouse, project, await projectSchemas(deps.platform, project));
        provisionedProjects.set(project, provisioned);
        provisioned.catch(() => provisionedProjects.delete(project));
      }
      await provisioned;
      // A branch run works under the branch role, which owns its staging and reads main's schemas.
      const role = branch ? await provisionBranchRole(deps.warehouse, project) : undefined;
      await createStagingSchema(deps.warehouse, project, stagingSchema, role);
    },
    async finishRun({
      runId,
      stagingSchema,
      keepStaging,
      pipelineId,
      states,
      branch,
      status,
      reusedSchemas = [],
    }) {
      if (states.length > 0) {
        await withTransaction(deps.platform, async (client) => {
          for (const { nodeId, state } of states) {
            await client.query(
              `insert into tributary.node_state (pipeline_id, node_id, state, run_id, branch) values ($1, $2, $3, $4, $5)
               on conflict (pipeline_id, node_id, branch) do update set state = excluded.state, run_id = excluded.run_id, updated_at = now()`,
              [pipelineId, nodeId, JSON.stringify(state), runId, branch ?? ''],
            );
          }
        });
      }
      // A failed run keeps what its steps made, so a re-run can start from the failed steps.
      const failed = status === 'failed' || status === 'succeeded_with_warnings';
      if (keepStaging || deps.keepStagingAlways || failed) {
        const until = new Date(Date.now() + (deps.stagingTtlMs ?? DEFAULT_STAGING_TTL_MS));
        await keepStagingUntil(deps.warehouse, stagingSchema, until);
        // A re-run of this run reads the tables this run reused: they stay as long as its own.
        for (const schema of reusedSchemas) await keepStagingUntil(deps.warehouse, schema, until);
      } else {
        await deps.warehouse.query(`drop schema if exists ${quoteIdent(stagingSchema)} cascade`);
      }
      // Notifications are queued here, from the run's own finishing step (queueing is idempotent, so a
      // retried finish queues nothing twice); a failure to queue is logged and never fails the run.
      if (deps.runClosed) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          deps.runClosed(runId),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), NOTIFY_TIMEOUT_MS);
          }),
        ])
          .catch((error: Error) =>
            deps.log?.warn('could not queue the notifications of a run', { runId, error: error.message }),
          )
          .finally(() => clearTimeout(timer));
      }
    },
  };
}

/** Whether a run is still going (false for one that ended or never started). */
export async function isRunOpen(temporal: Client, runId: string): Promise<boolean> {
  try {
    const description = await temporal.workflow.getHandle(runId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** How long kept staging schemas stay for previews before the sweeper drops them. */
export const DEFAULT_STAGING_TTL_MS = 24 * 3600 * 1000;

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

/**
 * Signals a request for slots to the project's semaphore, starting it if it is not running. It runs
 * on the run's task queue and is the share of that queue's workers; its id is returned so the run
 * knows where to give the slots back.
 */
async function askProjectSlots<Args>(
  temporal: Client,
  project: string,
  capacity: number,
  signal: SignalDefinition<[Args]>,
  request: Args,
): Promise<{ workflowId: string }> {
  const taskQueue = Context.current().info.taskQueue;
  const workflowId = slotsWorkflowId(project, taskQueue);
  await temporal.workflow.signalWithStart(SLOTS_WORKFLOW, {
    workflowId,
    taskQueue,
    args: [{ capacity, holders: [], queue: [] }],
    signal,
    signalArgs: [request],
  });
  return { workflowId };
}
