// Drafts and publishing (as in n8n): the editor autosaves a draft that is not a version; publishing
// makes it the next immutable version, the one schedules, webhooks and API runs use.
import { ConflictError, InvalidError, NotFoundError } from '../errors.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import type { PipelineDraft } from '../store/drafts.store.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import { checkConnectorConfigs } from '../connectors/connector-config-check.js';
import { validity } from './pipeline-compile.js';
import type { PipelineServices } from './pipeline-services.js';
import { savePipeline, type Saved } from './save-pipeline.js';

/** The pipeline's draft, or 404 naming what to do instead. */
export async function requireDraft(
  services: Pick<PipelineServices, 'drafts'>,
  pipeline: StoredPipeline,
): Promise<PipelineDraft> {
  const draft = await services.drafts.get(pipeline.id);
  if (!draft) {
    throw new NotFoundError(
      `Pipeline "${pipeline.id}" has no draft; PUT /api/pipelines/${pipeline.id}/draft starts one ` +
        `from version ${pipeline.version}`,
    );
  }
  return draft;
}

/** Saves the editor's document as the draft; a new draft is based on the current version. */
export function saveDraft(
  services: PipelineServices,
  pipeline: StoredPipeline,
  document: Pipeline,
  actor: string,
): Promise<PipelineDraft> {
  return services.drafts.put(pipeline.id, document, pipeline.version, actor);
}

export async function discardDraft(services: PipelineServices, pipeline: StoredPipeline, actor: string) {
  const draft = await requireDraft(services, pipeline);
  await services.drafts.remove(pipeline.id);
  await services.audit.record({
    actor,
    project: pipeline.project,
    action: 'pipeline.draft_discarded',
    target: `pipeline:${pipeline.id}`,
    summary: { baseVersion: draft.baseVersion },
  });
}

export interface PublishRequest {
  pipeline: StoredPipeline;
  actor: string;
  /** The version the publisher believes is current; a stale one is refused with 409. */
  expectedVersion?: number | undefined;
  message?: string | undefined;
}

/**
 * Makes the draft the next version (audit `pipeline.published`) and removes it. A draft that does
 * not compile is refused with 400 naming every error: what is published is what triggers run.
 */
export async function publishDraft(services: PipelineServices, request: PublishRequest): Promise<Saved> {
  const { pipeline } = request;
  const draft = await requireDraft(services, pipeline);
  if (request.expectedVersion !== undefined && request.expectedVersion !== pipeline.version) {
    throw new ConflictError(
      `Pipeline "${pipeline.id}" is at version ${pipeline.version}, not ${request.expectedVersion}: someone ` +
        `published since the draft was opened; GET /api/pipelines/${pipeline.id}/versions/${pipeline.version} ` +
        'shows what changed, then publish again with that expectedVersion',
    );
  }
  const compiles = validity(draft.document, services.catalog);
  // A connector config its (cached) spec refuses would fail the first run: refused here as well.
  const connectors = await checkConnectorConfigs(services.pool, services.catalog, draft.document);
  const errors = [...compiles.errors, ...connectors.errors];
  if (errors.length) {
    throw new InvalidError(
      `The draft of pipeline "${pipeline.id}" ${compiles.valid ? "has a connector config its connector's spec refuses" : 'does not compile'}, so it cannot be published: ` +
        errors.map((e) => e.message).join('; '),
      errors,
    );
  }
  const saved = await savePipeline(services, {
    current: pipeline,
    document: draft.document,
    actor: request.actor,
    expectedVersion: request.expectedVersion,
    action: 'pipeline.published',
    ...(request.message ? { message: request.message } : {}),
    auditSummary: {
      baseVersion: draft.baseVersion,
      ...(request.message ? { message: request.message } : {}),
    },
  });
  // Only the draft that was published goes: an autosave that landed meanwhile stays a draft.
  await services.drafts.remove(pipeline.id, draft.document);
  return saved;
}
