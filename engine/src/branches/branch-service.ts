// The use cases of development branches: make one (copy-on-write of the project's pipelines), save
// and create pipelines in it, diff it against main (pipelines and data), merge it, delete it.
import { ConflictError } from '../errors.js';
import { quoteTable } from '@tributary/activities';
import type pg from 'pg';
import { versionHash } from '../compiler/compile.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import { createPipeline } from '../pipelines/create-pipeline.js';
import { diffPipelines, type PipelineDiff } from '../pipelines/pipeline-diff.js';
import type { PipelineServices } from '../pipelines/pipeline-services.js';
import { savePipeline } from '../pipelines/save-pipeline.js';
import { startPipelineRun, type RunStartDeps } from '../runs/start-run.js';
import {
  asStoredPipeline,
  type Branch,
  type BranchPipeline,
  type BranchStore,
} from '../store/branches.store.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { ProjectStore } from '../store/projects.store.js';
import { branchSchemas, dropBranchSchemas } from '../warehouse/branch-warehouse.js';
import { checkBranchName } from './branch-name.js';

export interface BranchServices extends PipelineServices, RunStartDeps {
  branches: BranchStore;
  projects: ProjectStore;
  /** The warehouse's owner connection (branch schemas are made and dropped there). */
  warehousePool: pg.Pool;
}

export async function createBranch(
  services: BranchServices,
  project: string,
  name: string,
  actor: string,
): Promise<Branch> {
  const { schemas } = await services.projects.require(project);
  checkBranchName(name, project, schemas);
  const branch = await services.branches.create(project, name, actor);
  const pipelines = await services.branches.pipelines(project, name);
  await services.audit.record({
    actor,
    project,
    action: 'branch.created',
    target: `branch:${project}/${name}`,
    summary: { pipelines: Object.fromEntries(pipelines.map((p) => [p.pipelineId, p.baseVersion])) },
  });
  return branch;
}

/** Drops the branch's schemas (with its tables), its pipeline copies and its incremental state. */
export async function deleteBranch(
  services: BranchServices,
  project: string,
  name: string,
  actor: string,
): Promise<{ droppedSchemas: string[] }> {
  await services.branches.require(project, name);
  const droppedSchemas = await dropBranchSchemas(services.warehousePool, project, name);
  await services.branches.delete(project, name);
  await services.audit.record({
    actor,
    project,
    action: 'branch.deleted',
    target: `branch:${project}/${name}`,
    summary: { droppedSchemas },
  });
  return { droppedSchemas };
}

/** A pipeline as the branch sees it, shaped like a stored main pipeline. */
export function branchView(project: string, copy: BranchPipeline): StoredPipeline {
  return asStoredPipeline(project, copy, versionHash(copy.document));
}

export async function saveInBranch(
  services: Pick<BranchServices, 'branches' | 'audit'>,
  request: {
    project: string;
    branch: string;
    document: Pipeline;
    actor: string;
    expectedRevision?: number | undefined;
  },
): Promise<{ pipeline: StoredPipeline; created: boolean }> {
  const { project, branch, document, actor } = request;
  const created = await services.branches.save(project, branch, document, actor, request.expectedRevision);
  const copy = await services.branches.requirePipeline(project, branch, document.id);
  // Schedules are not moved: they run main's versions only, never a branch's.
  if (created) {
    await services.audit.record({
      actor,
      project,
      action: 'branch.pipeline_saved',
      target: `pipeline:${document.id}`,
      summary: { branch, version: copy.revision, baseVersion: copy.baseVersion },
    });
  }
  return { pipeline: branchView(project, copy), created };
}

export async function createInBranch(
  services: Pick<BranchServices, 'branches' | 'audit'>,
  request: { project: string; branch: string; document: Pipeline; actor: string },
): Promise<StoredPipeline> {
  const { project, branch, document, actor } = request;
  await services.branches.createPipeline(project, branch, document, actor);
  await services.audit.record({
    actor,
    project,
    action: 'branch.pipeline_saved',
    target: `pipeline:${document.id}`,
    summary: { branch, version: 1, baseVersion: null },
  });
  return branchView(project, await services.branches.requirePipeline(project, branch, document.id));
}

export interface SqlChange {
  nodeId: string;
  from: string | null;
  to: string | null;
}

export interface PipelineChange {
  pipelineId: string;
  /** `added`: made in the branch; `changed`: saved in the branch over main's base version. */
  status: 'added' | 'changed';
  baseVersion: number | null;
  mainVersion: number | null;
  /** main saved the pipeline since the branch was made (or took the id): a merge is refused. */
  conflict: boolean;
  diff: PipelineDiff;
  sql: SqlChange[];
}

export interface TableChange {
  /** main's table the branch's copy stands for. */
  schema: string;
  table: string;
  branchSchema: string;
  branchRows: number;
  /** null when main has no such table. */
  mainRows: number | null;
}

const EMPTY: Pipeline = {
  apiVersion: 'tributary/v1',
  id: '',
  name: '',
  project: '',
  nodes: [],
  edges: [],
} as unknown as Pipeline;

/** What the branch changed: its pipelines (graph and SQL) and the tables it wrote, against main. */
export async function diffBranch(
  services: BranchServices,
  project: string,
  name: string,
): Promise<{ branch: Branch; pipelines: PipelineChange[]; tables: TableChange[] }> {
  const branch = await services.branches.require(project, name);
  const pipelines: PipelineChange[] = [];
  for (const copy of await services.branches.pipelines(project, name)) {
    if (!copy.own) continue;
    const base =
      copy.baseVersion === null
        ? undefined
        : (await services.pipelines.requireVersion(copy.pipelineId, copy.baseVersion)).document;
    if (base && JSON.stringify(base) === JSON.stringify(copy.own)) continue;
    const before = base ?? { ...EMPTY, id: copy.pipelineId, project };
    pipelines.push({
      pipelineId: copy.pipelineId,
      status: base ? 'changed' : 'added',
      baseVersion: copy.baseVersion,
      mainVersion: copy.mainVersion,
      conflict: isConflict(copy),
      diff: diffPipelines(before, copy.own),
      sql: sqlChanges(before, copy.own),
    });
  }
  return { branch, pipelines, tables: await tableChanges(services.warehousePool, project, name) };
}

/** The branch changed the pipeline and main moved on (or, for a new one, took its id) meanwhile. */
const isConflict = (copy: BranchPipeline) =>
  copy.baseVersion === null ? copy.mainVersion !== null : copy.mainVersion !== copy.baseVersion;

function sqlChanges(from: Pipeline, to: Pipeline): SqlChange[] {
  const sqlOf = (p: Pipeline) =>
    new Map(
      p.nodes.flatMap((n) => {
        const sql = (n.config as { sql?: unknown } | undefined)?.sql;
        return typeof sql === 'string' ? [[n.id, sql] as const] : [];
      }),
    );
  const a = sqlOf(from);
  const b = sqlOf(to);
  return [...new Set([...a.keys(), ...b.keys()])]
    .sort()
    .filter((id) => a.get(id) !== b.get(id))
    .map((id) => ({ nodeId: id, from: a.get(id) ?? null, to: b.get(id) ?? null }));
}

async function tableChanges(warehouse: pg.Pool, project: string, branch: string): Promise<TableChange[]> {
  const changes: TableChange[] = [];
  for (const schema of await branchSchemas(warehouse, project, branch)) {
    const { rows } = await warehouse.query<{ table: string }>(
      `select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relkind in ('r', 'p') order by c.relname`,
      [schema.name],
    );
    for (const { table } of rows) {
      const own = { schema: schema.name, table };
      const main = { schema: schema.base, table };
      const count = async (t: { schema: string; table: string }) =>
        Number(
          (await warehouse.query<{ n: string }>(`select count(*) as n from ${quoteTable(t)}`)).rows[0]!.n,
        );
      const exists = await warehouse.query<{ found: boolean }>(
        'select to_regclass($1) is not null as found',
        [quoteTable(main)],
      );
      const branchRows = await count(own);
      const mainRows = exists.rows[0]!.found ? await count(main) : null;
      changes.push({
        schema: schema.base,
        table,
        branchSchema: schema.name,
        branchRows,
        mainRows,
      });
    }
  }
  return changes;
}

export interface MergeResult {
  merged: { pipelineId: string; version: number; created: boolean }[];
  runs: { pipelineId: string; runId: string | null; error: string | null }[];
}

/**
 * Merges the branch's changed pipelines into main, each as a new main version audited as a merge.
 * Refused (409, every conflict listed, nothing merged) when main changed one of them since the
 * branch was made. With `rebuild`, runs each merged pipeline on main.
 */
export async function mergeBranch(
  services: BranchServices,
  request: { project: string; name: string; actor: string; rebuild: boolean },
): Promise<MergeResult> {
  const { project, name, actor } = request;
  const { pipelines: changes } = await diffBranch(services, project, name);
  const conflicts = changes.filter((c) => c.conflict);
  if (conflicts.length > 0) {
    const errors = conflicts.map((c) => ({
      path: `pipelines.${c.pipelineId}`,
      code: 'merge_conflict',
      message:
        c.baseVersion === null
          ? `pipeline "${c.pipelineId}" was made in the branch, and main has a pipeline of that id now (version ${c.mainVersion})`
          : `pipeline "${c.pipelineId}" changed on main since the branch was made: the branch started from version ${c.baseVersion}, main is at ${c.mainVersion ?? 'deleted'}`,
    }));
    throw new ConflictError(
      `Branch "${name}" cannot be merged: ${errors.map((e) => e.message).join('; ')}. Nothing was merged; ` +
        `bring the branch up to date with main first (POST /api/projects/${project}/branches/${name}/update, ` +
        "choosing per pipeline whether the branch's or main's version stays), then merge again",
      errors,
    );
  }
  const merged: MergeResult['merged'] = [];
  const mergedPipelines: StoredPipeline[] = [];
  for (const change of changes) {
    const copy = await services.branches.requirePipeline(project, name, change.pipelineId);
    let pipeline: StoredPipeline;
    if (change.baseVersion === null) {
      pipeline = await createPipeline(services, copy.own!, actor, { mergedFrom: name });
    } else {
      const current = await services.pipelines.require(change.pipelineId);
      ({ pipeline } = await savePipeline(services, {
        current,
        document: copy.own!,
        actor,
        // A save on main between the diff and here is caught by the store's row lock.
        expectedVersion: change.baseVersion,
        action: 'pipeline.merged',
        auditSummary: { branch: name },
      }));
    }
    await services.branches.rebase(project, name, pipeline.id, pipeline.version, actor);
    merged.push({ pipelineId: pipeline.id, version: pipeline.version, created: change.baseVersion === null });
    mergedPipelines.push(pipeline);
  }
  const runs: MergeResult['runs'] = [];
  if (request.rebuild) {
    for (const pipeline of mergedPipelines) {
      try {
        const started = await startPipelineRun(services, {
          pipeline,
          params: {},
          trigger: { type: 'api', actor },
        });
        runs.push({ pipelineId: pipeline.id, runId: started.runId, error: null });
      } catch (error) {
        // The merge stands; a pipeline that cannot run without params says so here.
        runs.push({ pipelineId: pipeline.id, runId: null, error: (error as Error).message });
      }
    }
  }
  return { merged, runs };
}
