// What the pipeline routes share in parsing a request: the If-Match header, version numbers, and
// loading a live pipeline under the caller's scope.
import { z } from 'zod';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { ApiContext } from './context.js';
import { versionNumberMax } from './schemas.js';

export const versionNumber = z.coerce.number().int().min(1).max(versionNumberMax);

export const IfMatch = z.object({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d+"?$/, 'must be the current version number, e.g. "3" (the ETag of GET)')
    .transform((v) => Number(v.replace(/\D/g, '')))
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
