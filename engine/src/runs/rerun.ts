// Re-running a run from its failed steps or from a node: a new run of the same version (or of the
// current draft) with the same params, which reuses the kept outputs of the steps it need not run.
// The earlier run is the pipeline's own (the pipeline is read from it), so a re-run never reads
// another pipeline's or project's tables; the tables it reads are leased against the sweeper.
import { ConflictError, InvalidError, NotFoundError, type FieldProblem } from '../errors.js';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { fetchRunHistory } from '../audit/run-history.js';
import type { ExecutionPlan, RerunOf, RunTrigger } from '../model/plan.js';
import { runIdFor } from '../model/run-ids.js';
import { leaseKeptTables } from '../warehouse/kept-staging.js';
import { selectRerun, RerunRefusal, type EarlierRun } from './rerun-plan.js';
import { stepsWithChangedFiles } from './changed-files.js';
import { planFor, runnableDocument, startPlan, type RunStartDeps } from './start-run.js';

export interface RerunDeps extends RunStartDeps {
  /** The files folder: a step whose file was written since it ran is run again, not reused. */
  dataDir?: string | undefined;
  temporal: Client;
  /** The warehouse's owner connection: it checks and leases kept staging. */
  warehousePool: pg.Pool;
}

export interface RerunRequest {
  runId: string;
  from: string;
  draft?: boolean;
  trigger: RunTrigger;
}

export async function rerunRun(deps: RerunDeps, request: RerunRequest) {
  const earlier = await deps.runs.get(request.runId);
  if (earlier.status === 'running')
    throw refused(409, `Run "${request.runId}" is still running; re-run it once it has ended`);
  // A branch run's version is the branch's copy, which main's versions do not hold.
  if (earlier.branch)
    throw refused(
      409,
      `Run "${request.runId}" ran in branch "${earlier.branch}"; start a new run there (POST /api/pipelines/${earlier.pipelineId}/runs?branch=${earlier.branch})`,
    );
  const history = await fetchRunHistory(deps.temporal, request.runId);
  const pipeline = await deps.pipelines.get(earlier.pipelineId);
  if (!pipeline || pipeline.project !== earlier.project)
    throw refused(404, `Pipeline "${earlier.pipelineId}" of run "${request.runId}" does not exist any more`);
  if (!request.draft && earlier.pipelineVersion === 0)
    throw refused(409, `Run "${request.runId}" is not of a saved version; re-run the draft with draft: true`);

  const runnable = await runnableDocument(deps, pipeline, {
    ...(request.draft ? { draft: true } : { version: earlier.pipelineVersion }),
  });
  const plan = planFor(
    deps.catalog,
    pipeline,
    runnable,
    declaredParams(runnable.document, history.input.plan),
  );

  const outputs: EarlierRun['outputs'] = { ...history.input.rerun?.reused };
  for (const task of history.activities.values()) {
    if (!task.step || task.closed?.outcome !== 'completed') continue;
    const table = (task.closed.result as { table?: { schema: string; table: string } | null } | undefined)
      ?.table;
    outputs[task.activityId] = { runId: request.runId, table: table ?? null };
  }
  let selection;
  try {
    const steps = earlier.progress?.steps ?? {};
    selection = selectRerun(
      { runId: request.runId, plan: history.input.plan, steps, outputs },
      plan,
      request.from,
      await stepsWithChangedFiles(deps.catalog, deps.dataDir, plan, steps),
    );
  } catch (error) {
    if (error instanceof RerunRefusal) {
      const at = error.nodeIds.map((nodeId) => ({
        in: 'body' as const,
        path: 'from',
        nodeId,
        message: error.message,
      }));
      throw refused(error.status, error.message, at);
    }
    throw error;
  }

  const runId = runIdFor(plan.pipelineId);
  const gone = await leaseNeeded(deps.warehousePool, selection.reused, selection.needed, runId);
  if (gone.length > 0) {
    throw refused(
      409,
      `The kept output of ${gone.map((id) => `step "${id}"`).join(', ')} is gone (a failed run keeps its ` +
        `staging for STAGING_TTL_HOURS): re-run from ${gone.map((id) => `"${id}"`).join(' or ')}, or start a new run`,
      gone.map((nodeId) => ({
        nodeId,
        code: 'output_gone',
        message: `Step "${nodeId}": its kept output is gone`,
      })),
    );
  }
  const rerun: RerunOf = { runId: request.runId, from: request.from, reused: selection.reused };
  const started = await startPlan(deps, plan, {
    trigger: request.trigger,
    runId,
    rerun,
    ...(runnable.draft
      ? { draft: true, ...(runnable.draftSavedAt ? { draftSavedAt: runnable.draftSavedAt } : {}) }
      : {}),
  });
  if (runnable.draft && started.created)
    await deps.drafts.recordRun(started.runId, pipeline.id, runnable.document);
  return {
    ...started,
    rerunOf: request.runId,
    reused: Object.fromEntries(Object.entries(selection.reused).map(([id, r]) => [id, r.runId])),
  };
}

/** The earlier run's param values that the document still declares (a draft may have dropped some). */
function declaredParams(document: unknown, earlier: ExecutionPlan): Record<string, unknown> {
  const declared = (document as { params?: Record<string, unknown> }).params ?? {};
  return Object.fromEntries(
    Object.entries(earlier.params).filter(([name, value]) => Object.hasOwn(declared, name) && value !== null),
  );
}

/** Leases the tables the re-run reads, schema by schema; returns the steps whose table is gone. */
async function leaseNeeded(
  warehouse: pg.Pool,
  reused: RerunOf['reused'],
  needed: string[],
  runId: string,
): Promise<string[]> {
  const bySchema = new Map<string, { nodeId: string; table: string }[]>();
  const gone: string[] = [];
  for (const nodeId of needed) {
    const table = reused[nodeId]!.table;
    if (!table) {
      gone.push(nodeId);
      continue;
    }
    bySchema.set(table.schema, [...(bySchema.get(table.schema) ?? []), { nodeId, table: table.table }]);
  }
  for (const [schema, tables] of bySchema) {
    const missing = await leaseKeptTables(
      warehouse,
      schema,
      tables.map((t) => t.table),
      runId,
    );
    gone.push(...tables.filter((t) => missing.includes(t.table)).map((t) => t.nodeId));
  }
  return gone;
}

function refused(status: 400 | 404 | 409, detail: string, errors: FieldProblem[] = []) {
  const Refusal = status === 400 ? InvalidError : status === 404 ? NotFoundError : ConflictError;
  return new Refusal(detail, errors);
}
