// The shape of `templates/<id>/template.json`: metadata, the params as a JSON Schema (with defaults
// and examples), the secrets it needs, and the pipeline document with `{{ template.x }}` placeholders.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';

export const TEMPLATE_CATEGORIES = [
  'ingestion',
  'replication',
  'transformation',
  'analytics',
  'quality',
  'export',
] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

/** Semantic version: major.minor.patch with an optional pre-release (no build metadata). */
export const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
/** Param names are snake_case, so they read the same in JSON, SQL and prose. */
export const PARAM_NAME = /^[a-z][a-z0-9_]{0,62}$/;

const JsonSchemaProperty = z
  .looseObject({
    description: z.string().min(1, 'describe the param: the UI and the README show it'),
    examples: z.array(z.unknown()).min(1).optional(),
  })
  .meta({ description: 'A JSON Schema of one param; `description` is required' });

export const TemplateParamsSchema = z
  .object({
    $schema: z.string().optional(),
    type: z.literal('object'),
    additionalProperties: z.literal(false, 'must be false, so a misspelt value is refused'),
    required: z.array(z.string()).default([]),
    properties: z.record(z.string().regex(PARAM_NAME, 'param names are snake_case'), JsonSchemaProperty),
  })
  .strict()
  .meta({ description: 'JSON Schema of the values an instantiation takes' });

export const TemplateSecretSchema = z
  .object({
    param: z
      .string()
      .regex(PARAM_NAME)
      .describe('The param whose value is the name of the secret (so two pipelines can use two secrets)'),
    description: z.string().min(1).describe('What the secret must hold'),
  })
  .strict();

export const TemplateSchema = z
  .object({
    $schema: z.string().optional(),
    id: slug,
    version: z.string().regex(SEMVER, 'must be a semantic version such as 1.2.0'),
    title: z.string().min(1).max(100),
    description: z.string().min(1).max(1000),
    category: z.enum(TEMPLATE_CATEGORIES),
    tags: z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'tags are lowercase words')).default([]),
    params: TemplateParamsSchema,
    secrets: z.array(TemplateSecretSchema).default([]),
    pipeline: z.record(z.string(), z.unknown()).meta({
      description: 'The pipeline document, without id and project, with {{ template.x }} placeholders',
    }),
  })
  .strict();

export type Template = z.infer<typeof TemplateSchema>;
export type TemplateParams = Template['params'];

/** A template as the catalogue holds it: the parsed template.json plus its README. */
export interface LoadedTemplate extends Template {
  readme: string;
  /** The template's folder, for fixtures and goldens. */
  dir: string;
}
