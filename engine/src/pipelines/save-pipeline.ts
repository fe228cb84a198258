// Saving a new version of a pipeline: the version, its audit entry and the schedule's move onto
// it, in one place for every way a version is made (save, rollback, template upgrade).
import { versionHash } from '../compiler/compile.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import type { ScheduleRefresh } from '../schedules/schedule-service.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { PipelineServices } from './pipeline-services.js';

export interface SaveRequest {
  current: StoredPipeline;
  document: Pipeline;
  actor: string;
  /** The version being edited (If-Match); a save over another one is refused with 409. */
  expectedVersion?: number | undefined;
  action?: 'pipeline.saved' | 'pipeline.rolled_back' | 'pipeline.published' | 'pipeline.merged';
  /** Added to the audit entry. */
  auditSummary?: Record<string, unknown>;
  /** What the publisher said about the version (kept with it, shown in History). */
  message?: string | undefined;
}

export interface Saved {
  pipeline: StoredPipeline;
  /** false when the document equals the current version: nothing was saved. */
  created: boolean;
  /** What the save did to the pipeline's schedule, when it has one. */
  schedule?: ScheduleRefresh;
}

export async function savePipeline(services: PipelineServices, request: SaveRequest): Promise<Saved> {
  const { current, document, actor } = request;
  const { pipeline, created } = await services.pipelines.addVersion(
    current.id,
    document,
    versionHash(document),
    actor,
    request.expectedVersion,
    request.message,
  );
  // A save of an unchanged document adds no version, so there is nothing to record or move.
  if (!created) return { pipeline, created };
  await services.audit.record({
    actor,
    project: pipeline.project,
    action: request.action ?? 'pipeline.saved',
    target: `pipeline:${pipeline.id}`,
    // Versions are consecutive under the store's row lock, so the one saved over is the one
    // before, even when another save landed between this request's load and its save.
    summary: { ...request.auditSummary, version: pipeline.version, fromVersion: pipeline.version - 1 },
  });
  const schedule = await services.schedules.refresh(pipeline);
  return { pipeline, created, ...(schedule ? { schedule } : {}) };
}

/** Saves an older version again, as the new current version. */
export async function rollbackPipeline(
  services: PipelineServices,
  request: { current: StoredPipeline; version: number; actor: string; expectedVersion?: number | undefined },
): Promise<Saved> {
  const old = await services.pipelines.requireVersion(request.current.id, request.version);
  return savePipeline(services, {
    current: request.current,
    document: old.document,
    actor: request.actor,
    expectedVersion: request.expectedVersion,
    action: 'pipeline.rolled_back',
    auditSummary: { toVersion: request.version },
  });
}

/** Deletes a pipeline and its schedule; its versions stay, for the run history. */
export async function deletePipeline(
  services: PipelineServices,
  pipeline: StoredPipeline,
  actor: string,
): Promise<void> {
  await services.schedules.remove(pipeline.id);
  await services.pipelines.softDelete(pipeline.id);
  await services.audit.record({
    actor,
    project: pipeline.project,
    action: 'pipeline.deleted',
    target: `pipeline:${pipeline.id}`,
    summary: { version: pipeline.version },
  });
}
