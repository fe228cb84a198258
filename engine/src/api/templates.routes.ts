// Pipeline templates: the catalogue, instantiating a template into a new pipeline (which remembers
// its origin), a pipeline's template origin, and upgrading a pipeline onto a newer template version.
import { z } from 'zod';
import { versionHash } from '../compiler/compile.js';
import type { CompileError } from '../compiler/errors.js';
import { PipelineSchema, slug, type Pipeline } from '../model/pipeline.schema.js';
import { ProjectMissingError, type StoredPipeline } from '../store/pipelines.store.js';
import { templateCatalog, type TemplateCatalog } from '../templates/catalog.js';
import { templateNodeCatalog } from '../templates/check-template.js';
import {
  exampleValues,
  instantiate,
  validateValues,
  type InstantiateResult,
} from '../templates/instantiate.js';
import { compareSemver } from '../templates/semver.js';
import { placeholderUses } from '../templates/template-placeholders.js';
import {
  editedSince,
  getTemplateOrigin,
  originView,
  saveTemplateOrigin,
  TemplateOriginSchema,
} from '../templates/template-origin.store.js';
import { TEMPLATE_CATEGORIES, type LoadedTemplate } from '../templates/template.schema.js';
import type { ApiContext } from './context.js';
import { diffPipelines } from './pipeline-diff.js';
import { validity } from './pipeline-compile.js';
import { badRequest, conflict, type HttpProblem, notFound, type ProblemDetail } from './problem.js';
import { route, type AnyRoute } from './route.js';
import { CompileErrorSchema, page, PipelineIdParams } from './schemas.js';

const TemplateSummarySchema = z.object({
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

const TemplateDetailSchema = TemplateSummarySchema.extend({
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

const TemplatedPipelineSchema = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string(),
  version: z.number().int(),
  versionHash: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  valid: z.boolean(),
  errors: z.array(CompileErrorSchema),
  document: PipelineSchema,
  template: TemplateOriginSchema,
  secrets: z
    .array(SecretStatusSchema)
    .meta({ description: 'The secrets its nodes read, and whether they exist' }),
  links: z.object({ self: z.string(), runs: z.string(), template: z.string() }),
});

const UpgradedSchema = TemplatedPipelineSchema.extend({
  upgraded: z.boolean().meta({ description: 'false when the pipeline already uses the latest version' }),
  from: z.string().meta({ description: 'The template version before' }),
  to: z.string().meta({ description: 'The template version now' }),
  schedule: z
    .object({ refreshed: z.boolean(), pipelineVersion: z.number().int() })
    .passthrough()
    .optional()
    .meta({ description: "What the new version did to the pipeline's schedule, when it has one" }),
});

const ValuesSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: "Values of the template's params (see its `params` JSON Schema)" });

const TemplateIdParams = z.object({ id: slug });

function summary(t: LoadedTemplate) {
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

function detail(t: LoadedTemplate) {
  return {
    ...summary(t),
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

/** Where a document problem came from: the param whose placeholder sits at (or above) its path. */
function paramAt(template: LoadedTemplate, path: string | undefined): string | undefined {
  if (!path) return undefined;
  const uses = placeholderUses(template.pipeline);
  const hit = uses.find(
    (u) => u.path === path || path.startsWith(`${u.path}.`) || path.startsWith(`${u.path}[`),
  );
  return hit?.name;
}

/** A failed instantiation as a 400 naming each value (or pipeline part) at fault. */
function instantiationProblem(
  template: LoadedTemplate,
  result: Exclude<InstantiateResult, { ok: true }>,
  context: string,
): HttpProblem {
  let errors: ProblemDetail[];
  if (result.stage === 'values') {
    errors = result.errors.map((e) => ({
      in: 'body',
      path: e.path,
      message: e.message,
      ...(e.code ? { code: e.code } : {}),
    }));
  } else {
    errors = (result.errors as CompileError[]).map((e) => {
      const param = paramAt(template, e.path);
      return {
        in: 'body',
        path: param ? `values.${param}` : 'values',
        message: param ? `values.${param}: ${e.message}` : e.message,
        code: e.code,
        ...(e.nodeId ? { nodeId: e.nodeId } : {}),
      };
    });
  }
  const what =
    result.stage === 'values'
      ? `The values do not fit template "${template.id}" ${template.version}`
      : `With these values, template "${template.id}" ${template.version} makes a pipeline that does not compile`;
  return badRequest(`${context}${what}: ${errors.map((e) => e.message).join('; ')}`, errors);
}

async function secretStatus(
  deps: ApiContext,
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

function pipelineView(pipeline: StoredPipeline) {
  return {
    id: pipeline.id,
    project: pipeline.project,
    name: pipeline.name,
    version: pipeline.version,
    versionHash: pipeline.current.versionHash,
    createdBy: pipeline.createdBy,
    createdAt: pipeline.createdAt,
    updatedAt: pipeline.updatedAt,
    ...validity(pipeline.current.document),
    document: pipeline.current.document,
  };
}

/** The changes an edit made, as a short list for a 409 message. */
function describeEdits(made: Pipeline, current: Pipeline): string {
  const diff = diffPipelines(made, current);
  const parts = [
    ...diff.nodes.added.map((n) => `added node "${n.id}"`),
    ...diff.nodes.removed.map((n) => `removed node "${n.id}"`),
    ...diff.nodes.changed.flatMap((n) =>
      n.changes.filter((c) => c.path !== 'position').map((c) => `node "${n.id}" ${c.path}`),
    ),
    ...diff.edges.added.map((e) => `added edge ${e}`),
    ...diff.edges.removed.map((e) => `removed edge ${e}`),
    ...[...diff.params, ...diff.settings, ...diff.metadata].map((c) => c.path),
  ];
  const shown = parts.slice(0, 8).join(', ');
  return parts.length > 8 ? `${shown} and ${parts.length - 8} more` : shown;
}

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
        res.json({ items: items.map(summary), nextCursor: null });
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
        res.set('ETag', `"${template.version}"`).json(detail(template));
      },
    }),
    route({
      method: 'post',
      path: '/templates/:id/instantiate',
      operationId: 'instantiateTemplate',
      summary: 'Create a pipeline (version 1) from a template',
      description:
        "The values are checked against the template's params schema (400 names each one at fault), " +
        'substituted into its pipeline, and the result must compile. The pipeline remembers the template, ' +
        'its version and the values, for upgrades.',
      tag: 'templates',
      scope: 'write',
      params: TemplateIdParams,
      body: z.strictObject({
        project: slug.default('default'),
        pipelineId: slug,
        name: z.string().min(1).max(200).optional(),
        values: ValuesSchema.default({}),
      }),
      responses: { 201: { description: 'Created', schema: TemplatedPipelineSchema } },
      problems: [409],
      async handler({ deps, params, body, actor, authorize, res }) {
        authorize(body.project);
        const template = requireTemplate(deps, params.id);
        const made = instantiate(
          template,
          {
            pipelineId: body.pipelineId,
            project: body.project,
            values: body.values,
            ...(body.name ? { name: body.name } : {}),
          },
          templateNodeCatalog,
        );
        if (!made.ok) throw instantiationProblem(template, made, '');
        let pipeline: StoredPipeline;
        try {
          pipeline = await deps.pipelines.create(made.document, versionHash(made.document), actor);
        } catch (error) {
          if (error instanceof ProjectMissingError) {
            throw badRequest(error.message, [
              { in: 'body', path: 'project', message: `${error.message}; create it with POST /api/projects` },
            ]);
          }
          throw error;
        }
        const origin = {
          pipelineId: pipeline.id,
          template: template.id,
          templateVersion: template.version,
          values: body.values,
          document: made.document,
          pipelineVersion: pipeline.version,
          createdBy: actor,
        };
        await saveTemplateOrigin(deps.pool, origin);
        await deps.audit.record({
          actor,
          project: pipeline.project,
          action: 'pipeline.created',
          target: `pipeline:${pipeline.id}`,
          summary: { version: pipeline.version, template: template.id, templateVersion: template.version },
        });
        const now = new Date().toISOString();
        res.location(`/api/pipelines/${pipeline.id}`);
        res.status(201).json({
          ...pipelineView(pipeline),
          template: originView({ ...origin, createdAt: now, updatedAt: now }, made.document, catalogOf(deps)),
          secrets: await secretStatus(deps, template, body.project, made.values),
          links: {
            self: `/api/pipelines/${pipeline.id}`,
            runs: `/api/runs?pipeline=${pipeline.id}`,
            template: `/api/templates/${template.id}`,
          },
        });
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
        const origin = await getTemplateOrigin(deps.pool, params.id);
        if (!origin) {
          throw conflict(
            `Pipeline "${params.id}" was not made from a template, so there is nothing to upgrade`,
          );
        }
        const catalog = catalogOf(deps);
        const template = catalog.get(origin.template);
        if (!template) {
          throw conflict(
            `Pipeline "${params.id}" was made from template "${origin.template}" ${origin.templateVersion}, ` +
              'which is no longer in the catalogue',
          );
        }
        const links = {
          self: `/api/pipelines/${params.id}`,
          runs: `/api/runs?pipeline=${params.id}`,
          template: `/api/templates/${template.id}`,
        };
        const order = compareSemver(template.version, origin.templateVersion);
        if (order < 0) {
          throw conflict(
            `Pipeline "${params.id}" was made by template "${origin.template}" ${origin.templateVersion}, but the ` +
              `catalogue has the older ${template.version}; a pipeline is never moved back to an older version`,
          );
        }
        if (order === 0 && !body?.values) {
          const resolved = validateValues(template, origin.values);
          res.status(200).json({
            ...pipelineView(current),
            template: originView(origin, current.current.document, catalog),
            secrets: await secretStatus(
              deps,
              template,
              current.project,
              resolved.ok ? resolved.values : origin.values,
            ),
            links,
            upgraded: false,
            from: origin.templateVersion,
            to: origin.templateVersion,
          });
          return;
        }
        if (!body?.force && editedSince(origin.document, current.current.document)) {
          throw conflict(
            `Pipeline "${params.id}" was edited since template "${origin.template}" ${origin.templateVersion} made it ` +
              `(as version ${origin.pipelineVersion}; changed: ${describeEdits(origin.document, current.current.document)}). ` +
              `Upgrading to ${template.version} would discard those edits. Roll back to version ` +
              `${origin.pipelineVersion} first, or send {"force": true} to upgrade anyway.`,
          );
        }
        // Values of params the new version no longer has are dropped rather than refused.
        const kept = Object.fromEntries(
          Object.entries({ ...origin.values, ...body?.values }).filter(
            ([k]) => k in template.params.properties,
          ),
        );
        const made = instantiate(
          template,
          {
            pipelineId: current.id,
            project: current.project,
            name: current.current.document.name,
            values: kept,
          },
          templateNodeCatalog,
        );
        if (!made.ok) {
          throw instantiationProblem(
            template,
            made,
            `Upgrading to ${template.version} needs other values (send them as "values"). `,
          );
        }
        const { pipeline, created } = await deps.pipelines.addVersion(
          current.id,
          made.document,
          versionHash(made.document),
          actor,
          current.version,
        );
        const next = {
          pipelineId: pipeline.id,
          template: template.id,
          templateVersion: template.version,
          values: kept,
          document: made.document,
          pipelineVersion: pipeline.version,
          createdBy: origin.createdBy,
        };
        await saveTemplateOrigin(deps.pool, next);
        if (created) {
          await deps.audit.record({
            actor,
            project: pipeline.project,
            action: 'pipeline.saved',
            target: `pipeline:${pipeline.id}`,
            summary: {
              version: pipeline.version,
              fromVersion: current.version,
              template: template.id,
              templateVersion: template.version,
            },
          });
        }
        const schedule = created ? await deps.schedules.refresh(pipeline) : undefined;
        const now = new Date().toISOString();
        res.status(201).json({
          ...pipelineView(pipeline),
          template: originView(
            { ...next, createdAt: origin.createdAt, updatedAt: now },
            made.document,
            catalog,
          ),
          secrets: await secretStatus(deps, template, pipeline.project, made.values),
          links,
          upgraded: true,
          from: origin.templateVersion,
          to: template.version,
          ...(schedule ? { schedule } : {}),
        });
      },
    }),
  ];
}
