// How templates look in API responses: the catalogue entry, the full template, and a pipeline
// made from one (the pipeline view plus its origin and whether the secrets it reads exist).
import { z } from 'zod';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { TemplateCatalog } from '../templates/catalog.js';
import { exampleValues } from '../templates/instantiate.js';
import { originView, TemplateOriginSchema, type TemplateOrigin } from '../templates/template-origin.store.js';
import { TEMPLATE_CATEGORIES, type LoadedTemplate } from '../templates/template.schema.js';
import type { ApiContext } from './context.js';
import { PipelineLinksSchema, PipelineViewSchema, pipelineView } from './pipeline-views.js';

export const TemplateSummarySchema = z.object({
  id: z.string(),
  version: z.string(),
  title: z.string(),
  description: z.string(),
  category: z.enum(TEMPLATE_CATEGORIES),
  tags: z.array(z.string()),
  links: z.object({ self: z.string(), instantiate: z.string() }),
});

const TemplateSecretViewSchema = z.object({
  param: z.string().meta({ description: 'The param whose value names the secret' }),
  defaultName: z.string().nullable().meta({ description: "The param's default, if any" }),
  description: z.string(),
});

export const TemplateDetailSchema = TemplateSummarySchema.extend({
  params: z.record(z.string(), z.unknown()).meta({ description: 'JSON Schema of the values' }),
  examples: z
    .record(z.string(), z.unknown())
    .meta({ description: 'Example values (each param’s first example)' }),
  secrets: z.array(TemplateSecretViewSchema),
  pipeline: z
    .record(z.string(), z.unknown())
    .meta({ description: 'The document, with {{ template.x }} placeholders' }),
  readme: z.string().meta({ description: 'README.md: what it does, needs and produces (Markdown)' }),
});

const SecretStatusSchema = z.object({
  param: z.string(),
  name: z.string(),
  description: z.string(),
  exists: z
    .boolean()
    .nullable()
    .meta({ description: 'Whether the project has this secret; null when secrets are not available' }),
});

/** A pipeline as GET /pipelines/:id shows it, with its template origin and the secrets it reads. */
export const TemplatedPipelineSchema = PipelineViewSchema.extend({
  template: TemplateOriginSchema,
  secrets: z
    .array(SecretStatusSchema)
    .meta({ description: 'The secrets its nodes read, and whether they exist' }),
  links: PipelineLinksSchema.extend({ template: z.string() }),
});

export const UpgradedSchema = TemplatedPipelineSchema.extend({
  upgraded: z.boolean().meta({ description: 'false when the pipeline already uses the latest version' }),
  from: z.string().meta({ description: 'The template version before' }),
  to: z.string().meta({ description: 'The template version now' }),
  schedule: z
    .object({ refreshed: z.boolean(), pipelineVersion: z.number().int() })
    .passthrough()
    .optional()
    .meta({ description: "What the new version did to the pipeline's schedule, when it has one" }),
});

export function templateSummary(t: LoadedTemplate) {
  return {
    id: t.id,
    version: t.version,
    title: t.title,
    description: t.description,
    category: t.category,
    tags: t.tags,
    links: { self: `/api/templates/${t.id}`, instantiate: `/api/templates/${t.id}/instantiate` },
  };
}

export function templateDetail(t: LoadedTemplate) {
  return {
    ...templateSummary(t),
    params: t.params,
    examples: exampleValues(t),
    secrets: t.secrets.map((s) => {
      const fallback = t.params.properties[s.param]?.default;
      return {
        param: s.param,
        defaultName: typeof fallback === 'string' ? fallback : null,
        description: s.description,
      };
    }),
    pipeline: t.pipeline,
    readme: t.readme,
  };
}

export async function secretStatus(
  deps: Pick<ApiContext, 'secrets'>,
  template: LoadedTemplate,
  project: string,
  values: Record<string, unknown>,
) {
  const existing = deps.secrets ? new Set((await deps.secrets.list(project)).map((s) => s.name)) : undefined;
  // A secret param left out (an optional connection, say) names no secret.
  return template.secrets.flatMap((s) => {
    const name = values[s.param];
    if (typeof name !== 'string') return [];
    return [
      { param: s.param, name, description: s.description, exists: existing ? existing.has(name) : null },
    ];
  });
}

/** A pipeline made (or remade) from a template, as instantiate and upgrade answer. */
export async function templatedView(
  deps: Pick<ApiContext, 'secrets' | 'catalog'>,
  made: {
    pipeline: StoredPipeline;
    template: LoadedTemplate;
    origin: TemplateOrigin;
    values: Record<string, unknown>;
  },
  templates: TemplateCatalog,
) {
  const view = pipelineView(made.pipeline, deps.catalog);
  return {
    ...view,
    template: originView(made.origin, made.pipeline.current.document, templates),
    secrets: await secretStatus(deps, made.template, made.pipeline.project, made.values),
    links: { ...view.links, template: `/api/templates/${made.template.id}` },
  };
}
