// How templates look in API responses: the catalogue entry (with its graph and what it needs), the
// full template, and a pipeline made from one (the pipeline view plus its origin and whether the
// secrets it reads exist).
import { z } from 'zod';
import { templateSecretStatus } from '../pipelines/template-secrets.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { TemplateCatalog } from '../templates/catalog.js';
import { exampleValues } from '../templates/instantiate.js';
import { templateGraph, templateNeeds } from '../templates/template-needs.js';
import { originView, TemplateOriginSchema, type TemplateOrigin } from '../templates/template-origin.store.js';
import { TEMPLATE_CATEGORIES, type LoadedTemplate } from '../templates/template.schema.js';
import type { ApiContext } from './context.js';
import { PipelineLinksSchema, PipelineViewSchema, pipelineView } from './pipeline-views.js';

const TemplateSecretViewSchema = z.object({
  param: z.string().meta({ description: 'The param whose value names the secret' }),
  defaultName: z.string().nullable().meta({ description: "The param's default, if any" }),
  description: z.string(),
});

const TemplateGraphSchema = z
  .object({
    nodes: z.array(
      z.object({
        id: z.string(),
        type: z.string(),
        kind: z.enum(['source', 'transform', 'sink']),
        name: z.string().nullable(),
      }),
    ),
    edges: z.array(z.object({ from: z.string(), to: z.string() })),
  })
  .meta({ description: "The template pipeline's nodes and edges, for a picture of it" });

const TemplateNeedsSchema = z
  .object({
    secrets: z.array(TemplateSecretViewSchema),
    files: z.array(
      z.object({
        nodeId: z.string(),
        nodeType: z.string(),
        field: z.string().meta({ description: 'The config field that names the file' }),
        param: z.string().nullable().meta({ description: 'The param that gives the path, if one does' }),
        example: z.string().nullable().meta({ description: 'The example (or default, or fixed) path' }),
      }),
    ),
  })
  .meta({
    description:
      "What a pipeline from it needs besides its values: secrets and files in the project's folder",
  });

export const TemplateSummarySchema = z.object({
  id: z.string(),
  version: z.string(),
  title: z.string(),
  description: z.string(),
  category: z.enum(TEMPLATE_CATEGORIES),
  tags: z.array(z.string()),
  graph: TemplateGraphSchema,
  needs: TemplateNeedsSchema,
  links: z.object({ self: z.string(), instantiate: z.string() }),
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
    graph: templateGraph(t),
    needs: templateNeeds(t),
    links: { self: `/api/templates/${t.id}`, instantiate: `/api/templates/${t.id}/instantiate` },
  };
}

export function templateDetail(t: LoadedTemplate) {
  return {
    ...templateSummary(t),
    params: t.params,
    examples: exampleValues(t),
    secrets: templateNeeds(t).secrets,
    pipeline: t.pipeline,
    readme: t.readme,
  };
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
    secrets: await templateSecretStatus(deps.secrets, made.template, made.pipeline.project, made.values),
    links: { ...view.links, template: `/api/templates/${made.template.id}` },
  };
}
