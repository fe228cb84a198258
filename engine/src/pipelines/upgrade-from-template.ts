// Re-making a pipeline from its template's newer version (or the same one with new values), as a
// new pipeline version. Refused when the pipeline was edited since, unless forced: an upgrade
// would discard the edits.
import { ConflictError } from '../errors.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { TemplateCatalog } from '../templates/catalog.js';
import { templateNodeCatalog } from '../templates/check-template.js';
import { instantiate, validateValues } from '../templates/instantiate.js';
import { compareSemver } from '../templates/semver.js';
import { editedSince, getTemplateOrigin, type TemplateOrigin } from '../templates/template-origin.store.js';
import type { LoadedTemplate } from '../templates/template.schema.js';
import { rememberOrigin } from './instantiate-from-template.js';
import type { PipelineServices } from './pipeline-services.js';
import { savePipeline, type Saved } from './save-pipeline.js';
import { describeEdits, instantiationProblem } from './template-problems.js';

export interface UpgradeRequest {
  current: StoredPipeline;
  /** Replace or add to the values it was made with. */
  values?: Record<string, unknown> | undefined;
  /** Upgrade even if the pipeline was edited since the template made it. */
  force: boolean;
  actor: string;
}

export type Upgrade = {
  template: LoadedTemplate;
  origin: TemplateOrigin;
  /** The template version before. */
  from: string;
  /** The values after defaults, which name the secrets the pipeline reads. */
  values: Record<string, unknown>;
} & ({ upgraded: false; pipeline: StoredPipeline } | ({ upgraded: true } & Saved));

export async function upgradeFromTemplate(
  services: PipelineServices,
  catalog: TemplateCatalog,
  request: UpgradeRequest,
): Promise<Upgrade> {
  const { current } = request;
  const origin = await getTemplateOrigin(services.pool, current.id);
  if (!origin) {
    throw new ConflictError(
      `Pipeline "${current.id}" was not made from a template, so there is nothing to upgrade`,
    );
  }
  const template = catalog.get(origin.template);
  if (!template) {
    throw new ConflictError(
      `Pipeline "${current.id}" was made from template "${origin.template}" ${origin.templateVersion}, ` +
        'which is no longer in the catalogue',
    );
  }
  const order = compareSemver(template.version, origin.templateVersion);
  if (order < 0) {
    throw new ConflictError(
      `Pipeline "${current.id}" was made by template "${origin.template}" ${origin.templateVersion}, but the ` +
        `catalogue has the older ${template.version}; a pipeline is never moved back to an older version`,
    );
  }
  if (order === 0 && !request.values) {
    const resolved = validateValues(template, origin.values);
    return {
      upgraded: false,
      pipeline: current,
      template,
      origin,
      from: origin.templateVersion,
      values: resolved.ok ? resolved.values : origin.values,
    };
  }
  if (!request.force && editedSince(origin.document, current.current.document)) {
    throw new ConflictError(
      `Pipeline "${current.id}" was edited since template "${origin.template}" ${origin.templateVersion} made it ` +
        `(as version ${origin.pipelineVersion}; changed: ${describeEdits(origin.document, current.current.document)}). ` +
        `Upgrading to ${template.version} would discard those edits. Roll back to version ` +
        `${origin.pipelineVersion} first, or send {"force": true} to upgrade anyway.`,
    );
  }
  // Values of params the new version no longer has are dropped rather than refused.
  const kept = Object.fromEntries(
    Object.entries({ ...origin.values, ...request.values }).filter(([k]) => k in template.params.properties),
  );
  const made = instantiate(
    template,
    { pipelineId: current.id, project: current.project, name: current.current.document.name, values: kept },
    templateNodeCatalog,
  );
  if (!made.ok) {
    throw instantiationProblem(
      template,
      made,
      `Upgrading to ${template.version} needs other values (send them as "values"). `,
    );
  }
  const saved = await savePipeline(services, {
    current,
    document: made.document,
    actor: request.actor,
    expectedVersion: current.version,
    auditSummary: { template: template.id, templateVersion: template.version },
  });
  const next = await rememberOrigin(
    services,
    {
      pipelineId: saved.pipeline.id,
      template: template.id,
      templateVersion: template.version,
      values: kept,
      document: made.document,
      pipelineVersion: saved.pipeline.version,
      createdBy: origin.createdBy,
    },
    origin.createdAt,
  );
  return {
    upgraded: true,
    ...saved,
    template,
    origin: next,
    from: origin.templateVersion,
    values: made.values,
  };
}
