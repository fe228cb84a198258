// The template a pipeline came from (tributary.pipeline_templates): template, version, values and the
// document it made, and the view GET /api/pipelines/:id shows (edited since? newer version?).
import type pg from 'pg';
import { z } from 'zod';
import { versionHash } from '../compiler/compile.js';
import { PipelineSchema, type Pipeline } from '../model/pipeline.schema.js';
import { templateCatalog, type TemplateCatalog } from './catalog.js';
import { compareSemver } from './semver.js';

export interface TemplateOrigin {
  pipelineId: string;
  template: string;
  templateVersion: string;
  values: Record<string, unknown>;
  /** The document the template made. */
  document: Pipeline;
  /** The pipeline version the template made. */
  pipelineVersion: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

interface OriginRow {
  pipeline_id: string;
  template: string;
  template_version: string;
  template_values: Record<string, unknown>;
  document: Pipeline;
  pipeline_version: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const toOrigin = (r: OriginRow): TemplateOrigin => ({
  pipelineId: r.pipeline_id,
  template: r.template,
  templateVersion: r.template_version,
  values: r.template_values,
  document: r.document,
  pipelineVersion: r.pipeline_version,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

type Queryable = Pick<pg.Pool, 'query'>;

/** Records (or, after an upgrade, replaces) the template origin of a pipeline. */
export async function saveTemplateOrigin(
  db: Queryable,
  origin: Omit<TemplateOrigin, 'createdAt' | 'updatedAt'>,
): Promise<void> {
  await db.query(
    `insert into tributary.pipeline_templates
       (pipeline_id, template, template_version, template_values, document, pipeline_version, created_by)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (pipeline_id) do update
       set template = excluded.template, template_version = excluded.template_version,
           template_values = excluded.template_values, document = excluded.document,
           pipeline_version = excluded.pipeline_version, updated_at = now()`,
    [
      origin.pipelineId,
      origin.template,
      origin.templateVersion,
      JSON.stringify(origin.values),
      JSON.stringify(origin.document),
      origin.pipelineVersion,
      origin.createdBy,
    ],
  );
}

export async function getTemplateOrigin(
  db: Queryable,
  pipelineId: string,
): Promise<TemplateOrigin | undefined> {
  const result = await db.query<OriginRow>(
    'select * from tributary.pipeline_templates where pipeline_id = $1',
    [pipelineId],
  );
  return result.rows[0] && toOrigin(result.rows[0]);
}

/** Whether `current` differs from what the template made, ignoring node positions on the canvas. */
export function editedSince(made: unknown, current: unknown): boolean {
  return versionHash(PipelineSchema.parse(made)) !== versionHash(PipelineSchema.parse(current));
}

export const TemplateOriginSchema = z
  .object({
    template: z.string(),
    templateVersion: z.string(),
    values: z.record(z.string(), z.unknown()).meta({ description: 'The values it was instantiated with' }),
    pipelineVersion: z.number().int().meta({ description: 'The pipeline version the template made' }),
    edited: z.boolean().meta({ description: 'The current version differs from what the template made' }),
    latestVersion: z
      .string()
      .nullable()
      .meta({ description: "The catalogue's version of the template; null when it is no longer there" }),
    upgradeAvailable: z.boolean(),
    links: z.object({ template: z.string(), upgrade: z.string() }),
  })
  .meta({ description: 'The template a pipeline was made from' });
export type TemplateOriginView = z.infer<typeof TemplateOriginSchema>;

/** The view of an origin, given the pipeline's current document. */
export function originView(
  origin: TemplateOrigin,
  currentDocument: unknown,
  catalog: TemplateCatalog,
): TemplateOriginView {
  const latest = catalog.get(origin.template)?.version ?? null;
  return {
    template: origin.template,
    templateVersion: origin.templateVersion,
    values: origin.values,
    pipelineVersion: origin.pipelineVersion,
    edited: editedSince(origin.document, currentDocument),
    latestVersion: latest,
    upgradeAvailable: latest !== null && compareSemver(latest, origin.templateVersion) > 0,
    links: {
      template: `/api/templates/${origin.template}`,
      upgrade: `/api/pipelines/${origin.pipelineId}/upgrade-template`,
    },
  };
}

/**
 * The template origin of a pipeline for GET /api/pipelines/:id (its `template` field), or null
 * when the pipeline was not made from a template (or does not exist).
 */
export async function templateOriginOf(
  pool: Queryable,
  pipelineId: string,
  catalog: TemplateCatalog = templateCatalog(),
): Promise<TemplateOriginView | null> {
  const result = await pool.query<OriginRow & { current: Pipeline }>(
    `select t.*, v.document as current
       from tributary.pipeline_templates t
       join tributary.pipelines p on p.id = t.pipeline_id
       join tributary.pipeline_versions v on v.pipeline_id = p.id and v.version = p.current_version
      where t.pipeline_id = $1`,
    [pipelineId],
  );
  const row = result.rows[0];
  return row ? originView(toOrigin(row), row.current, catalog) : null;
}
