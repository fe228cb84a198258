// Pipelines: immutable versions (save = new version), soft delete, version history, diff,
// rollback, and validation without saving. A draft that does not compile is saved and says so.
import { templateOriginOf, TemplateOriginSchema } from '../templates/template-origin.store.js';
import type { Response } from 'express';
import { z } from 'zod';
import { versionHash } from '../compiler/compile.js';
import { PipelineSchema, slug, type Pipeline } from '../model/pipeline.schema.js';
import { ProjectMissingError, type PipelineVersion, type StoredPipeline } from '../store/pipelines.store.js';
import { projectsWith } from './auth.js';
import type { ApiContext } from './context.js';
import { diffPipelines } from './pipeline-diff.js';
import { validity } from './pipeline-compile.js';
import { badRequest } from './problem.js';
import { route } from './route.js';
import {
  CompileErrorSchema,
  cursor,
  pageLimit,
  PipelineIdParams,
  ValiditySchema,
  versionNumberMax,
} from './schemas.js';

const DocumentSchema = z.record(z.string(), z.unknown()).meta({ description: 'The pipeline document' });

const SummarySchema = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string(),
  version: z.number().int(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const VersionInfoSchema = z.object({
  version: z.number().int(),
  versionHash: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});

const ScheduleRefreshSchema = z
  .object({
    refreshed: z.boolean(),
    pipelineVersion: z.number().int(),
    errors: z.array(CompileErrorSchema).optional(),
  })
  .meta({ description: "What the save did to the pipeline's schedule, when it has one" });

const PipelineViewSchema = SummarySchema.extend({
  /** The template it was made from, and whether a newer version of it exists. */
  template: TemplateOriginSchema.nullable().optional(),
  versionHash: z.string(),
  versionCreatedBy: z.string(),
  versionCreatedAt: z.string(),
  valid: z.boolean(),
  errors: z.array(CompileErrorSchema),
  document: DocumentSchema,
  links: z.object({ self: z.string(), versions: z.string(), runs: z.string(), schedule: z.string() }),
});

const SavedSchema = PipelineViewSchema.extend({
  created: z.boolean().meta({ description: 'false when the document equals the current version' }),
  schedule: ScheduleRefreshSchema.optional(),
});

const VersionViewSchema = VersionInfoSchema.extend({
  pipelineId: z.string(),
  valid: z.boolean(),
  errors: z.array(CompileErrorSchema),
  document: DocumentSchema,
});

const ChangeSchema = z.object({
  path: z.string(),
  kind: z.enum(['added', 'removed', 'changed']),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
});
const NodeRef = z.object({ id: z.string(), type: z.string() });
const DiffSchema = z.object({
  pipelineId: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  nodes: z.object({
    added: z.array(NodeRef),
    removed: z.array(NodeRef),
    changed: z.array(NodeRef.extend({ changes: z.array(ChangeSchema) })),
  }),
  edges: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
  params: z.array(ChangeSchema),
  settings: z.array(ChangeSchema),
  metadata: z.array(ChangeSchema),
});

const versionNumber = z.coerce.number().int().min(1).max(versionNumberMax);

const IfMatch = z.object({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d+"?$/, 'must be the current version number, e.g. "3" (the ETag of GET)')
    .transform((v) => Number(v.replace(/\D/g, '')))
    .optional()
    .meta({ description: 'The version being edited; a save over a newer version is refused with 409' }),
});

function view(pipeline: StoredPipeline) {
  const links = `/api/pipelines/${pipeline.id}`;
  return {
    id: pipeline.id,
    project: pipeline.project,
    name: pipeline.name,
    version: pipeline.version,
    createdBy: pipeline.createdBy,
    createdAt: pipeline.createdAt,
    updatedAt: pipeline.updatedAt,
    versionHash: pipeline.current.versionHash,
    versionCreatedBy: pipeline.current.createdBy,
    versionCreatedAt: pipeline.current.createdAt,
    ...validity(pipeline.current.document),
    document: pipeline.current.document,
    links: {
      self: links,
      versions: `${links}/versions`,
      runs: `/api/runs?pipeline=${pipeline.id}`,
      schedule: `${links}/schedule`,
    },
  };
}

function versionView(version: PipelineVersion) {
  return {
    pipelineId: version.pipelineId,
    version: version.version,
    versionHash: version.versionHash,
    createdBy: version.createdBy,
    createdAt: version.createdAt,
    ...validity(version.document),
    document: version.document,
  };
}

/**
 * The version a new one was saved over. Versions are consecutive under the store's row lock, so this
 * is right even when another save landed between this request's load and its save (without If-Match).
 */
const savedOver = (saved: { version: number }) => saved.version - 1;

const sendPipeline = <T extends { version: number }>(res: Response, status: number, body: T) =>
  res.status(status).set('ETag', `"${body.version}"`).json(body);

/** Loads a live pipeline and checks the caller's scope on its project. */
async function load(
  deps: ApiContext,
  id: string,
  authorize: (project: string) => void,
): Promise<StoredPipeline> {
  const pipeline = await deps.pipelines.require(id);
  authorize(pipeline.project);
  return pipeline;
}

/** Saves a new version, then brings the schedule (if any) onto it. */
async function save(
  deps: ApiContext,
  current: StoredPipeline,
  document: Pipeline,
  actor: string,
  expectedVersion?: number,
) {
  const { pipeline, created } = await deps.pipelines.addVersion(
    current.id,
    document,
    versionHash(document),
    actor,
    expectedVersion,
  );
  const schedule = created ? await deps.schedules.refresh(pipeline) : undefined;
  return { ...view(pipeline), created, ...(schedule ? { schedule } : {}) };
}

export const pipelineRoutes = [
  route({
    method: 'get',
    path: '/pipelines',
    operationId: 'listPipelines',
    summary: 'Pipelines, by id, one page at a time',
    tag: 'pipelines',
    scope: 'read',
    query: z.object({
      project: slug.optional(),
      q: z.string().max(200).optional().meta({ description: 'Part of the id or name' }),
      cursor,
      limit: pageLimit,
    }),
    responses: {
      200: {
        description: 'A page of pipelines',
        schema: z.object({ items: z.array(SummarySchema), nextCursor: z.string().nullable() }),
      },
    },
    async handler({ deps, query, principal, authorize, res }) {
      if (query.project) authorize(query.project);
      const items = await deps.pipelines.list({
        projects: projectsWith(principal!.token, 'read'),
        ...(query.project ? { project: query.project } : {}),
        ...(query.q ? { q: query.q } : {}),
        ...(query.cursor ? { after: query.cursor } : {}),
        limit: query.limit,
      });
      res.json({ items, nextCursor: items.length === query.limit ? items.at(-1)!.id : null });
    },
  }),
  route({
    method: 'post',
    path: '/pipelines',
    operationId: 'createPipeline',
    summary: 'Create a pipeline (version 1)',
    description:
      'The document must have the pipeline shape (400 names each field at fault). A document that does ' +
      'not compile is still saved, as a draft: `valid` and `errors` say what is wrong.',
    tag: 'pipelines',
    scope: 'write',
    body: PipelineSchema,
    responses: { 201: { description: 'Created', schema: SavedSchema } },
    problems: [409],
    async handler({ deps, body, actor, authorize, res }) {
      authorize(body.project);
      try {
        const pipeline = await deps.pipelines.create(body, versionHash(body), actor);
        await deps.audit.record({
          actor,
          project: pipeline.project,
          action: 'pipeline.created',
          target: `pipeline:${pipeline.id}`,
          summary: { version: pipeline.version },
        });
        res.location(`/api/pipelines/${pipeline.id}`);
        sendPipeline(res, 201, { ...view(pipeline), created: true });
      } catch (error) {
        if (error instanceof ProjectMissingError) {
          throw badRequest(error.message, [
            { in: 'body', path: 'project', message: `${error.message}; create it with POST /api/projects` },
          ]);
        }
        throw error;
      }
    },
  }),
  route({
    method: 'post',
    path: '/pipelines/validate',
    operationId: 'validatePipeline',
    summary: 'Compile a document without saving it',
    description:
      'Params may be absent (as for a draft). Shape problems are reported as `invalid_document` errors.',
    tag: 'pipelines',
    scope: 'read',
    body: DocumentSchema,
    responses: { 200: { description: 'Whether it compiles, and every error', schema: ValiditySchema } },
    handler({ body, res }) {
      res.json(validity(body));
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id',
    operationId: 'getPipeline',
    summary: 'A pipeline with its current version',
    description: 'The ETag is the current version, for If-Match on PUT.',
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams,
    responses: { 200: { description: 'The pipeline', schema: PipelineViewSchema } },
    async handler({ deps, params, authorize, res }) {
      const pipeline = await load(deps, params.id, authorize);
      const template = await templateOriginOf(deps.pool, params.id);
      sendPipeline(res, 200, { ...view(pipeline), ...(template ? { template } : {}) });
    },
  }),
  route({
    method: 'put',
    path: '/pipelines/:id',
    operationId: 'savePipeline',
    summary: 'Save a new version',
    description:
      'Versions are immutable: this adds one (unless the document equals the current version). With ' +
      'If-Match, a save over a version other than the one named is refused with 409. A schedule, if ' +
      'any, is moved onto the new version when it compiles with the schedule params.',
    tag: 'pipelines',
    scope: 'write',
    params: PipelineIdParams,
    headers: IfMatch,
    body: PipelineSchema,
    responses: { 200: { description: 'Saved', schema: SavedSchema } },
    problems: [409],
    async handler({ deps, params, headers, body, actor, authorize, res }) {
      const current = await load(deps, params.id, authorize);
      const errors = [];
      if (body.id !== params.id)
        errors.push({
          in: 'body' as const,
          path: 'id',
          message: `id: is "${body.id}", but the URL names "${params.id}"`,
        });
      if (body.project !== current.project) {
        errors.push({
          in: 'body' as const,
          path: 'project',
          message: `project: the pipeline is in "${current.project}" and cannot move; create a new pipeline in "${body.project}" instead`,
        });
      }
      if (errors.length) throw badRequest(errors.map((e) => e.message).join('; '), errors);
      const saved = await save(deps, current, body, actor, headers['if-match']);
      // A save of an unchanged document adds no version, so there is nothing to record.
      if (saved.created) {
        await deps.audit.record({
          actor,
          project: saved.project,
          action: 'pipeline.saved',
          target: `pipeline:${saved.id}`,
          summary: { version: saved.version, fromVersion: savedOver(saved) },
        });
      }
      sendPipeline(res, 200, saved);
    },
  }),
  route({
    method: 'delete',
    path: '/pipelines/:id',
    operationId: 'deletePipeline',
    summary: 'Delete a pipeline (its schedule too)',
    description: 'Versions stay, for the run history; the id stays reserved.',
    tag: 'pipelines',
    scope: 'write',
    params: PipelineIdParams,
    responses: { 204: { description: 'Deleted' } },
    async handler({ deps, params, actor, authorize, res }) {
      const pipeline = await load(deps, params.id, authorize);
      await deps.schedules.remove(params.id);
      await deps.pipelines.softDelete(params.id);
      await deps.audit.record({
        actor,
        project: pipeline.project,
        action: 'pipeline.deleted',
        target: `pipeline:${pipeline.id}`,
        summary: { version: pipeline.version },
      });
      res.status(204).end();
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id/versions',
    operationId: 'listPipelineVersions',
    summary: 'Every version, newest first',
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams,
    responses: {
      200: {
        description: 'The versions',
        schema: z.object({ current: z.number().int(), items: z.array(VersionInfoSchema) }),
      },
    },
    async handler({ deps, params, authorize, res }) {
      const pipeline = await load(deps, params.id, authorize);
      const items = (await deps.pipelines.versions(params.id)).map(({ pipelineId: _p, ...v }) => v);
      res.json({ current: pipeline.version, items });
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id/versions/:version',
    operationId: 'getPipelineVersion',
    summary: 'One version, with its document',
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams.extend({ version: versionNumber }),
    responses: { 200: { description: 'The version', schema: VersionViewSchema } },
    async handler({ deps, params, authorize, res }) {
      await load(deps, params.id, authorize);
      const version = await deps.pipelines.requireVersion(params.id, params.version);
      res.set('ETag', `"${version.version}"`).json(versionView(version));
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id/diff',
    operationId: 'diffPipelineVersions',
    summary: 'What changed between two versions',
    description: 'Defaults: `to` is the current version, `from` the one before `to`.',
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams,
    query: z.object({ from: versionNumber.optional(), to: versionNumber.optional() }),
    responses: {
      200: { description: 'Node, edge, param, settings and metadata changes', schema: DiffSchema },
    },
    async handler({ deps, params, query, authorize, res }) {
      const pipeline = await load(deps, params.id, authorize);
      const to = query.to ?? pipeline.version;
      const from = query.from ?? Math.max(1, to - 1);
      const [a, b] = await Promise.all([
        deps.pipelines.requireVersion(params.id, from),
        deps.pipelines.requireVersion(params.id, to),
      ]);
      res.json({ pipelineId: params.id, from, to, ...diffPipelines(a.document, b.document) });
    },
  }),
  route({
    method: 'post',
    path: '/pipelines/:id/rollback',
    operationId: 'rollbackPipeline',
    summary: 'Save an older version again, as the new current version',
    tag: 'pipelines',
    scope: 'write',
    params: PipelineIdParams,
    headers: IfMatch,
    body: z.strictObject({ version: z.number().int().min(1).max(versionNumberMax) }),
    responses: {
      201: { description: 'A new version equal to the one named', schema: SavedSchema },
      200: { description: 'The named version equals the current one: nothing saved', schema: SavedSchema },
    },
    problems: [409],
    async handler({ deps, params, headers, body, actor, authorize, res }) {
      const current = await load(deps, params.id, authorize);
      const old = await deps.pipelines.requireVersion(params.id, body.version);
      const saved = await save(deps, current, old.document, actor, headers['if-match']);
      if (saved.created) {
        await deps.audit.record({
          actor,
          project: saved.project,
          action: 'pipeline.rolled_back',
          target: `pipeline:${saved.id}`,
          summary: { toVersion: body.version, version: saved.version, fromVersion: savedOver(saved) },
        });
      }
      sendPipeline(res, saved.created ? 201 : 200, saved);
    },
  }),
];
