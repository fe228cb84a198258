// Making a pipeline (version 1) from a template: values checked and substituted, the result
// compiled, the pipeline created with its audit entry, and its origin remembered for upgrades.
import type { StoredPipeline } from '../store/pipelines.store.js';
import { templateNodeCatalog } from '../templates/check-template.js';
import { instantiate } from '../templates/instantiate.js';
import { saveTemplateOrigin, type TemplateOrigin } from '../templates/template-origin.store.js';
import type { LoadedTemplate } from '../templates/template.schema.js';
import { createPipeline } from './create-pipeline.js';
import type { PipelineServices } from './pipeline-services.js';
import { instantiationProblem } from './template-problems.js';

export interface InstantiateInput {
  project: string;
  pipelineId: string;
  name?: string | undefined;
  values: Record<string, unknown>;
}

export interface Instantiated {
  pipeline: StoredPipeline;
  origin: TemplateOrigin;
  /** The values after defaults, which name the secrets the pipeline reads. */
  values: Record<string, unknown>;
}

export async function instantiateFromTemplate(
  services: PipelineServices,
  template: LoadedTemplate,
  input: InstantiateInput,
  actor: string,
): Promise<Instantiated> {
  const made = instantiate(
    template,
    {
      pipelineId: input.pipelineId,
      project: input.project,
      values: input.values,
      ...(input.name ? { name: input.name } : {}),
    },
    templateNodeCatalog,
  );
  if (!made.ok) throw instantiationProblem(template, made, '');
  const pipeline = await createPipeline(services, made.document, actor, {
    template: template.id,
    templateVersion: template.version,
  });
  const origin = await rememberOrigin(services, {
    pipelineId: pipeline.id,
    template: template.id,
    templateVersion: template.version,
    values: input.values,
    document: made.document,
    pipelineVersion: pipeline.version,
    createdBy: actor,
  });
  return { pipeline, origin, values: made.values };
}

/** Stores the origin and returns it as it now is (first made, or updated by an upgrade). */
export async function rememberOrigin(
  services: PipelineServices,
  origin: Omit<TemplateOrigin, 'createdAt' | 'updatedAt'>,
  createdAt?: string,
): Promise<TemplateOrigin> {
  await saveTemplateOrigin(services.pool, origin);
  const now = new Date().toISOString();
  return { ...origin, createdAt: createdAt ?? now, updatedAt: now };
}
