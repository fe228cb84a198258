// Starting a run of a stored pipeline version, or of its draft (the editor's Run): compile with the
// params (400 naming every problem when it does not compile), then start it through the runs client.
import { InvalidError } from '../errors.js';
import type { RunMarks, RunsClient } from '../client/runs.js';
import type { NodeCatalog } from '../compiler/compile.js';
import type { ExecutionPlan, RunTrigger } from '../model/plan.js';
import { compile } from '../compiler/compile.js';
import { planCacheOf } from '../pipelines/plan-cache.js';
import { requireDraft } from '../pipelines/pipeline-drafts.js';
import type { DraftStore } from '../store/drafts.store.js';
import type { PipelineStore, StoredPipeline } from '../store/pipelines.store.js';

export interface RunStartDeps {
  pipelines: PipelineStore;
  drafts: DraftStore;
  runs: RunsClient;
  catalog: NodeCatalog;
}

export interface StartRequest {
  pipeline: StoredPipeline;
  /** Default: the current version. */
  version?: number;
  /** Run the pipeline's draft instead of a version (only the editor does). */
  draft?: boolean;
  params: Record<string, unknown>;
  trigger: RunTrigger;
  idempotencyKey?: string;
  /** Runs the branch's copy (given as `pipeline`) in that development branch. */
  branch?: string;
}

/** What a run would run: a saved version (with its hash), or the draft (numbered by its base version). */
export interface RunnableDocument {
  document: unknown;
  version: number;
  draft: boolean;
  /** The saved version's hash; absent for a draft. */
  versionHash?: string;
  draftSavedAt?: string;
}

/** The document a run would run: a stored version, or the draft (numbered by its base version). */
export async function runnableDocument(
  deps: Pick<RunStartDeps, 'pipelines' | 'drafts'>,
  pipeline: StoredPipeline,
  choice: { version?: number; draft?: boolean },
): Promise<RunnableDocument> {
  if (choice.draft) {
    const draft = await requireDraft(deps, pipeline);
    return {
      document: draft.document,
      version: draft.baseVersion,
      draft: true,
      draftSavedAt: draft.updatedAt,
    };
  }
  const version =
    choice.version === undefined || choice.version === pipeline.version
      ? pipeline.current
      : await deps.pipelines.requireVersion(pipeline.id, choice.version);
  return {
    document: version.document,
    version: version.version,
    draft: false,
    versionHash: version.versionHash,
  };
}

/**
 * The plan of a runnable document with params, or 400 naming every error. A saved version's comes
 * from the plan cache (compiled at its first run with these params); a draft is compiled each time.
 */
export function planFor(
  catalog: NodeCatalog,
  pipeline: StoredPipeline,
  runnable: RunnableDocument,
  params: Record<string, unknown>,
): ExecutionPlan {
  const compiled =
    runnable.versionHash !== undefined && !runnable.draft
      ? planCacheOf(catalog).plan(
          {
            pipelineId: pipeline.id,
            version: runnable.version,
            versionHash: runnable.versionHash,
            document: runnable.document,
          },
          params,
        )
      : compile(runnable.document, {
          catalog,
          params,
          requireParams: true,
          pipelineVersion: runnable.version,
        });
  if (!compiled.ok) {
    const what = runnable.draft ? 'its draft' : `version ${runnable.version}`;
    throw new InvalidError(
      `Pipeline "${pipeline.id}" ${what} does not compile with these params: ` +
        compiled.errors.map((e) => e.message).join('; '),
      compiled.errors,
    );
  }
  return compiled.plan;
}

export async function startPipelineRun(deps: RunStartDeps, request: StartRequest) {
  const { pipeline } = request;
  const runnable = await runnableDocument(deps, pipeline, request);
  const plan = planFor(deps.catalog, pipeline, runnable, request.params);
  if (request.branch) plan.branch = request.branch;
  // A run someone started by hand (the editor's Run, the CLI's run) or a run of the draft is one to
  // look into: its step outputs are kept for previews, without the pipeline's settings being edited.
  if (runnable.draft || request.trigger.type === 'manual') plan.keepStaging = true;
  // The same key on main and in a branch names two runs, not one.
  const key =
    request.idempotencyKey &&
    (request.branch ? `branch:${request.branch}:${request.idempotencyKey}` : request.idempotencyKey);
  const started = await startPlan(deps, plan, {
    trigger: request.trigger,
    ...(runnable.draft
      ? { draft: true, ...(runnable.draftSavedAt ? { draftSavedAt: runnable.draftSavedAt } : {}) }
      : {}),
    ...(key ? { idempotencyKey: key } : {}),
  });
  // What a draft run ran, so its kept outputs can describe the editor's nodes afterwards.
  if (runnable.draft && started.created)
    await deps.drafts.recordRun(started.runId, pipeline.id, runnable.document);
  return started;
}

/** Starts a compiled plan and says what was started (a repeated key may name an ended run). */
export async function startPlan(
  deps: Pick<RunStartDeps, 'runs'>,
  plan: ExecutionPlan,
  options: RunMarks & { trigger: RunTrigger; idempotencyKey?: string; runId?: string },
) {
  const { runId, created } = await deps.runs.start(plan, options);
  const status = created ? 'running' : (await deps.runs.get(runId)).status;
  return {
    runId,
    status,
    created,
    pipelineId: plan.pipelineId,
    pipelineVersion: plan.pipelineVersion ?? 0,
    draft: options.draft === true,
    draftSavedAt: options.draft ? (options.draftSavedAt ?? null) : null,
    branch: plan.branch ?? null,
  };
}
