// Pipeline templates: the catalogue, instantiating a template into a new pipeline (which remembers
// its origin), a pipeline's template origin, and upgrading a pipeline onto a newer template version.
// The use cases are in pipelines/; this file parses, authorises, calls and shapes the answer.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';
import { instantiateFromTemplate } from '../pipelines/instantiate-from-template.js';
import { upgradeFromTemplate } from '../pipelines/upgrade-from-template.js';
import { templateCatalog, type TemplateCatalog } from '../templates/catalog.js';
import { getTemplateOrigin, originView, TemplateOriginSchema } from '../templates/template-origin.store.js';
import { TEMPLATE_CATEGORIES, type LoadedTemplate } from '../templates/template.schema.js';
import type { ApiContext } from './context.js';
import { notFound } from './problem.js';
import { route, type AnyRoute } from './route.js';
import { page, PipelineIdParams } from './schemas.js';
import {
  TemplateDetailSchema,
  templateDetail,
  TemplatedPipelineSchema,
  templatedView,
  TemplateSummarySchema,
  templateSummary,
  UpgradedSchema,
} from './template-views.js';

const ValuesSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: "Values of the template's params (see its `params` JSON Schema)" });

const TemplateIdParams = z.object({ id: slug });

export interface TemplateRoutesOptions {
  /** The catalogue to serve; the repository's templates folder by default. */
  catalog?: () => TemplateCatalog;
}

export function templateRoutes(options: TemplateRoutesOptions = {}): AnyRoute[] {
  let logged = false;
  const catalogOf = (deps: ApiContext): TemplateCatalog => {
    const catalog = (options.catalog ?? templateCatalog)();
    if (!logged) {
      logged = true;
      for (const p of catalog.problems) {
        deps.log.warn('template left out of the catalogue', { folder: p.folder, problems: p.problems });
      }
    }
    return catalog;
  };
  const requireTemplate = (deps: ApiContext, id: string): LoadedTemplate => {
    const template = catalogOf(deps).get(id);
    if (!template) throw notFound(`Template "${id}"`);
    return template;
  };

  return [
    route({
      method: 'get',
      path: '/templates',
      operationId: 'listTemplates',
      summary: 'Pipeline templates, by id',
      tag: 'templates',
      scope: 'read',
      query: z.object({
        category: z.enum(TEMPLATE_CATEGORIES).optional(),
        q: z
          .string()
          .max(200)
          .optional()
          .meta({ description: 'Part of the id, title, description or a tag' }),
      }),
      responses: {
        200: { description: 'The templates', schema: page(TemplateSummarySchema) },
      },
      handler({ deps, query, res }) {
        const items = catalogOf(deps).list({
          ...(query.category ? { category: query.category } : {}),
          ...(query.q ? { q: query.q } : {}),
        });
        res.json({ items: items.map(templateSummary), nextCursor: null });
      },
    }),
    route({
      method: 'get',
      path: '/templates/:id',
      operationId: 'getTemplate',
      summary: 'A template: params (JSON Schema), secrets, pipeline and README',
      tag: 'templates',
      scope: 'read',
      params: TemplateIdParams,
      responses: { 200: { description: 'The template', schema: TemplateDetailSchema } },
      handler({ deps, params, res }) {
        const template = requireTemplate(deps, params.id);
        res.set('ETag', `"${template.version}"`).json(templateDetail(template));
      },
    }),
    route({
      method: 'post',
      path: '/templates/:id/instantiate',
      operationId: 'instantiateTemplate',
      summary: 'Create a pipeline (version 1) from a template',
      description:
        "The values are checked against the template's params schema (400 names each one at fault), " +
        'substituted into its pipeline, and the result must compile. A secret the pipeline would read that the ' +
        'project lacks is a 400 (`missing_secret`, naming `values.<param>` and the secret), unless ' +
        '`allowMissingSecrets` is true. The pipeline remembers the template, its version and the values, for upgrades.',
      tag: 'templates',
      scope: 'write',
      params: TemplateIdParams,
      body: z.strictObject({
        project: slug.default('default'),
        pipelineId: slug,
        name: z.string().min(1).max(200).optional(),
        values: ValuesSchema.default({}),
        allowMissingSecrets: z
          .boolean()
          .default(false)
          .meta({ description: 'Create the pipeline even if its project lacks a secret it reads' }),
      }),
      responses: { 201: { description: 'Created', schema: TemplatedPipelineSchema } },
      problems: [409],
      async handler({ deps, params, body, actor, authorize, res }) {
        authorize(body.project);
        const template = requireTemplate(deps, params.id);
        const made = await instantiateFromTemplate(deps, template, body, actor);
        res.location(`/api/pipelines/${made.pipeline.id}`);
        res.status(201).json(await templatedView(deps, { ...made, template }, catalogOf(deps)));
      },
    }),
    route({
      method: 'get',
      path: '/pipelines/:id/template',
      operationId: 'getPipelineTemplate',
      summary: 'The template a pipeline was made from, and whether a newer version exists',
      tag: 'templates',
      scope: 'read',
      params: PipelineIdParams,
      responses: { 200: { description: 'Its template origin', schema: TemplateOriginSchema } },
      async handler({ deps, params, authorize, res }) {
        const pipeline = await deps.pipelines.require(params.id);
        authorize(pipeline.project);
        const origin = await getTemplateOrigin(deps.pool, params.id);
        if (!origin)
          throw notFound(`A template origin of pipeline "${params.id}" (it was not made from a template)`);
        res.json(originView(origin, pipeline.current.document, catalogOf(deps)));
      },
    }),
    route({
      method: 'post',
      path: '/pipelines/:id/upgrade-template',
      operationId: 'upgradePipelineTemplate',
      summary: "Re-make a pipeline from its template's newer version, as a new pipeline version",
      description:
        'Uses the values it was instantiated with (those in the body replace or add to them). Refused with ' +
        '409 when the pipeline was edited since the template made it, as upgrading would discard the ' +
        'edits; `force: true` upgrades anyway. A pipeline already on the latest version is left as it is (200), ' +
        'unless the body has values: then it is made again from the same version with them.',
      tag: 'templates',
      scope: 'write',
      params: PipelineIdParams,
      body: z
        .strictObject({
          values: ValuesSchema.optional(),
          force: z.boolean().default(false).meta({ description: 'Upgrade even if the pipeline was edited' }),
        })
        .optional(),
      responses: {
        201: { description: 'Upgraded: a new pipeline version', schema: UpgradedSchema },
        200: { description: 'Already on the latest template version: nothing saved', schema: UpgradedSchema },
      },
      problems: [409],
      async handler({ deps, params, body, actor, authorize, res }) {
        const current = await deps.pipelines.require(params.id);
        authorize(current.project);
        const catalog = catalogOf(deps);
        const upgrade = await upgradeFromTemplate(deps, catalog, {
          current,
          values: body?.values,
          force: body?.force ?? false,
          actor,
        });
        res.status(upgrade.upgraded ? 201 : 200).json({
          ...(await templatedView(deps, upgrade, catalog)),
          upgraded: upgrade.upgraded,
          from: upgrade.from,
          to: upgrade.template.version,
          ...(upgrade.upgraded && upgrade.schedule ? { schedule: upgrade.schedule } : {}),
        });
      },
    }),
  ];
}
