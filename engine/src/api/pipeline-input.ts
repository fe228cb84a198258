// What the pipeline routes share in parsing a request: the If-Match header, version numbers,
// loading a live pipeline under the caller's scope, and a body that must be that pipeline.
import { z } from 'zod';
import type { Pipeline } from '../model/pipeline.schema.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { ApiContext } from './context.js';
import { badRequest } from './problem.js';
import { versionNumberMax } from './schemas.js';

export const versionNumber = z.coerce.number().int().min(1).max(versionNumberMax);

export const IfMatch = z.object({
  'if-match': z
    .string()
    .regex(
      /^(W\/)?"?\d+(-[\w-]+)?"?$/,
      'must be the current version number, e.g. "3", or the ETag of GET ("3-…")',
    )
    // The ETag's version leads; its digest (which changes with a draft) does not matter to a save.
    .transform((v) => Number(/\d+/.exec(v)![0]))
    .optional()
    .meta({ description: 'The version being edited; a save over a newer version is refused with 409' }),
});

/** Loads a live pipeline and checks the caller's scope on its project. */
export async function loadPipeline(
  deps: ApiContext,
  id: string,
  authorize: (project: string) => void,
): Promise<StoredPipeline> {
  const pipeline = await deps.pipelines.require(id);
  authorize(pipeline.project);
  return pipeline;
}

/** Refuses (400 naming `id` / `project`) a body that is not the pipeline the URL names. */
export function requireSamePipeline(body: Pipeline, current: StoredPipeline): void {
  const errors = [];
  if (body.id !== current.id)
    errors.push({
      in: 'body' as const,
      path: 'id',
      message: `id: is "${body.id}", but the URL names "${current.id}"`,
    });
  if (body.project !== current.project) {
    errors.push({
      in: 'body' as const,
      path: 'project',
      message: `project: the pipeline is in "${current.project}" and cannot move; create a new pipeline in "${body.project}" instead`,
    });
  }
  if (errors.length) throw badRequest(errors.map((e) => e.message).join('; '), errors);
}
