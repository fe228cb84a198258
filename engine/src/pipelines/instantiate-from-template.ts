// Making a pipeline (version 1) from a template: values checked and substituted, the result
// compiled, the secrets it reads looked for in the project, the pipeline created with its audit
// entry, and its origin remembered for upgrades.
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { ProjectStore } from '../store/projects.store.js';
import type { SecretStore } from '../store/secrets.store.js';
import { templateNodeCatalog } from '../templates/check-template.js';
import { instantiate } from '../templates/instantiate.js';
import { saveTemplateOrigin, type TemplateOrigin } from '../templates/template-origin.store.js';
import type { LoadedTemplate } from '../templates/template.schema.js';
import { createPipeline } from './create-pipeline.js';
import type { PipelineServices } from './pipeline-services.js';
import { instantiationProblem } from './template-problems.js';
import {
  missingSecretsProblem,
  templateSecretStatus,
  type TemplateSecretStatus,
} from './template-secrets.js';

export interface InstantiateInput {
  project: string;
  pipelineId: string;
  name?: string | undefined;
  values: Record<string, unknown>;
  /** Create the pipeline even when its project lacks a secret it reads (it is added later). */
  allowMissingSecrets?: boolean | undefined;
}

export interface Instantiated {
  pipeline: StoredPipeline;
  origin: TemplateOrigin;
  /** The values after defaults, which name the secrets the pipeline reads. */
  values: Record<string, unknown>;
  secrets: TemplateSecretStatus[];
}

export async function instantiateFromTemplate(
  services: PipelineServices & {
    secrets?: Pick<SecretStore, 'list'> | undefined;
    projects?: Pick<ProjectStore, 'get'>;
  },
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
  const secrets = await templateSecretStatus(services.secrets, template, input.project, made.values);
  const missing = secrets.filter((s) => s.exists === false);
  // A project that does not exist has no secrets either; creating the pipeline names the real fault.
  const projectExists = !services.projects || (await services.projects.get(input.project)) !== undefined;
  if (missing.length > 0 && !input.allowMissingSecrets && projectExists)
    throw missingSecretsProblem(template, input.project, missing);
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
  return { pipeline, origin, values: made.values, secrets };
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
