// Starting a run of a stored pipeline version: compile with the params (400 naming every problem
// when it does not compile), then start it through the runs client.
import { HttpProblem } from '../api/problem.js';
import type { RunsClient } from '../client/runs.js';
import type { NodeCatalog } from '../compiler/compile.js';
import type { RunTrigger } from '../model/plan.js';
import { compileForRun } from '../pipelines/pipeline-compile.js';
import type { PipelineStore, StoredPipeline } from '../store/pipelines.store.js';

export interface RunStartDeps {
  pipelines: PipelineStore;
  runs: RunsClient;
  catalog: NodeCatalog;
}

export interface StartRequest {
  pipeline: StoredPipeline;
  /** Default: the current version. */
  version?: number;
  params: Record<string, unknown>;
  trigger: RunTrigger;
  idempotencyKey?: string;
  /** Runs the branch's copy (given as `pipeline`) in that development branch. */
  branch?: string;
}

export async function startPipelineRun(deps: RunStartDeps, request: StartRequest) {
  const { pipeline } = request;
  const version =
    request.version === undefined || request.version === pipeline.version
      ? pipeline.current
      : await deps.pipelines.requireVersion(pipeline.id, request.version);
  const compiled = compileForRun(deps.catalog, version.document, request.params, version.version);
  if (!compiled.ok) {
    throw new HttpProblem(
      400,
      'Bad Request',
      `Pipeline "${pipeline.id}" version ${version.version} does not compile with these params: ` +
        compiled.errors.map((e) => e.message).join('; '),
      compiled.errors,
    );
  }
  if (request.branch) compiled.plan.branch = request.branch;
  // The same key on main and in a branch names two runs, not one.
  const key =
    request.idempotencyKey &&
    (request.branch ? `branch:${request.branch}:${request.idempotencyKey}` : request.idempotencyKey);
  const { runId, created } = await deps.runs.start(compiled.plan, {
    trigger: request.trigger,
    ...(key ? { idempotencyKey: key } : {}),
  });
  // A repeated key may name a run that has ended since: report what it is now.
  const status = created ? 'running' : (await deps.runs.get(runId)).status;
  return {
    runId,
    status,
    created,
    pipelineId: pipeline.id,
    pipelineVersion: version.version,
    branch: request.branch ?? null,
  };
}
