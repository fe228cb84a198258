// Creating a pipeline (version 1) and its audit entry, whether from a document or a template.
import { InvalidError } from '../errors.js';
import { versionHash } from '../compiler/compile.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import { ProjectMissingError, type StoredPipeline } from '../store/pipelines.store.js';
import type { PipelineServices } from './pipeline-services.js';

export async function createPipeline(
  services: PipelineServices,
  document: Pipeline,
  actor: string,
  /** Added to the audit entry (the template it came from, say). */
  auditSummary: Record<string, unknown> = {},
): Promise<StoredPipeline> {
  let pipeline: StoredPipeline;
  try {
    pipeline = await services.pipelines.create(document, versionHash(document), actor);
  } catch (error) {
    if (error instanceof ProjectMissingError) {
      throw new InvalidError(error.message, [
        { in: 'body', path: 'project', message: `${error.message}; create it with POST /api/projects` },
      ]);
    }
    throw error;
  }
  await services.audit.record({
    actor,
    project: pipeline.project,
    action: 'pipeline.created',
    target: `pipeline:${pipeline.id}`,
    summary: { version: pipeline.version, ...auditSummary },
  });
  return pipeline;
}
