// Pipelines: immutable versions (save = new version), soft delete, and validation without saving;
// a draft that does not compile is saved and says so. Version history: pipeline-versions.routes.ts.
// The use cases are in pipelines/; this file parses, authorises, calls and shapes the answer.
import { z } from 'zod';
import { PipelineSchema, slug } from '../model/pipeline.schema.js';
import { discardDraft, publishDraft, requireDraft, saveDraft } from '../pipelines/pipeline-drafts.js';
import { deletePipeline } from '../pipelines/save-pipeline.js';
import { validateDocument } from '../pipelines/validate-document.js';
import { allows, projectsWith } from './auth.js';
import { IfMatch, requireSamePipeline, versionNumber } from './pipeline-input.js';
import {
  DraftViewSchema,
  draftView,
  PipelineWithDraftSchema,
  pipelineView,
  SavedSchema,
  savedView,
  sendPipeline,
  SummarySchema,
  withConnectorChecks,
} from './pipeline-views.js';
import { route } from './route.js';
import { cursor, page, pageLimit, PipelineIdParams, ValiditySchema } from './schemas.js';

/** What validate accepts: anything, as its shape problems are part of the answer. */
const DraftSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: 'A pipeline document, maybe malformed' });

const DRAFTS = 'drafts and publishing';

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
    workspace: true,
    responses: {
      200: {
        description: 'A page of pipelines',
        schema: page(SummarySchema),
      },
    },
    async handler({ workspace, query, principal, authorize, res }) {
      if (query.project) authorize(query.project);
      const items = await workspace.list({
        projects: projectsWith(principal!.token, 'read'),
        project: query.project,
        q: query.q,
        after: query.cursor,
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
    workspace: true,
    body: PipelineSchema,
    responses: { 201: { description: 'Created', schema: SavedSchema } },
    problems: [409],
    async handler({ deps, workspace, body, actor, authorize, res }) {
      authorize(body.project);
      const made = await workspace.create(body, actor);
      const view = pipelineView(made.pipeline, deps.catalog, made.branch);
      res.location(view.links.self);
      sendPipeline(res, 201, {
        ...(await withConnectorChecks(view, deps.pool, deps.catalog, body)),
        created: true,
      });
    },
  }),
  route({
    method: 'post',
    path: '/pipelines/validate',
    operationId: 'validatePipeline',
    summary: 'Compile a document without saving it',
    description:
      'Params may be absent (as for a draft). Shape problems are reported as `invalid_document` errors; ' +
      'a node reading a secret its project lacks is an `unknown_secret` error naming the node and field. ' +
      'SQL is parsed as Postgres parses it: an `invalid_sql` error names the node, the field (`path`) and ' +
      "the `line` and `column` in that SQL. Where the columns of a query's inputs are known (see " +
      "`POST /api/pipelines/{id}/schemas`), the query is described over them under the project's " +
      'warehouse role, and a name it lacks is an `unknown_column` or `unknown_table` error saying what there is.',
    tag: 'pipelines',
    scope: 'read',
    workspace: true,
    body: DraftSchema,
    responses: { 200: { description: 'Whether it compiles, and every error', schema: ValiditySchema } },
    async handler({ deps, body, principal, res }) {
      // Secrets and columns are checked only where the caller may read the project.
      const project = typeof body.project === 'string' ? body.project : 'default';
      const mayRead = allows(principal!.token, 'read', project);
      const knownSecrets =
        deps.secrets && mayRead ? (await deps.secrets.list(project)).map((s) => s.name) : undefined;
      res.json(
        await validateDocument(body, {
          catalog: deps.catalog,
          ...(knownSecrets ? { knownSecrets } : {}),
          ...(mayRead ? { schemaDeps: deps } : {}),
          // A spec is public (the connector's own, cached per package): checked for every caller.
          specs: deps.pool,
        }),
      );
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id',
    operationId: 'getPipeline',
    summary: 'A pipeline with its current version',
    description:
      'The ETag (`"<version>-<digest>"`) starts with the current version, for If-Match on PUT, and ' +
      'changes whenever the answer does (a draft saved or discarded too). `draft` says whether the editor has an ' +
      'unpublished draft (GET …/draft for its document); `workspace` says where it was read (main, or the ' +
      "branch of `?branch=`) and what the editor's save, run, publish and merge do there.",
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams,
    workspace: true,
    responses: {
      200: { description: 'The pipeline', schema: PipelineWithDraftSchema },
      304: { description: 'Not modified: the If-None-Match ETag is still current' },
    },
    async handler({ deps, workspace, params, authorize, res }) {
      const found = await workspace.load(params.id, authorize);
      sendPipeline(res, 200, {
        ...pipelineView(found.pipeline, deps.catalog, found.branch),
        ...(await workspace.extras(found)),
        workspace: workspace.capabilities,
      });
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
    workspace: true,
    headers: IfMatch,
    body: PipelineSchema,
    responses: { 200: { description: 'Saved', schema: SavedSchema } },
    problems: [409],
    async handler({ deps, workspace, params, headers, body, actor, authorize, res }) {
      const found = await workspace.load(params.id, authorize);
      requireSamePipeline(body, found.pipeline);
      const saved = await workspace.save(found, body, actor, headers['if-match']);
      sendPipeline(
        res,
        200,
        await withConnectorChecks(savedView(saved, deps.catalog), deps.pool, deps.catalog, body),
      );
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
    workspace: true,
    responses: { 204: { description: 'Deleted' } },
    async handler({ deps, workspace, params, actor, authorize, res }) {
      workspace.require('history', 'deleting a pipeline');
      await deletePipeline(deps, (await workspace.load(params.id, authorize)).pipeline, actor);
      res.status(204).end();
    },
  }),

  route({
    method: 'get',
    path: '/pipelines/:id/draft',
    operationId: 'getPipelineDraft',
    summary: "The editor's draft of a pipeline",
    description:
      'A draft is not a version: only the editor runs it (`draft: true` on a run). 404 when there is none.',
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams,
    workspace: true,
    responses: { 200: { description: 'The draft', schema: DraftViewSchema } },
    async handler({ deps, workspace, params, authorize, res }) {
      workspace.require('drafts', DRAFTS);
      const { pipeline } = await workspace.load(params.id, authorize);
      res.json(draftView(await requireDraft(deps, pipeline), deps.catalog));
    },
  }),
  route({
    method: 'put',
    path: '/pipelines/:id/draft',
    operationId: 'savePipelineDraft',
    summary: 'Save (autosave) the draft',
    description:
      'The document must have the pipeline shape, name this pipeline and stay in its project (400 ' +
      'names each field at fault); it need not compile (`valid` and `errors` say). A new draft is ' +
      'based on the current version; no version is made and no trigger sees it.',
    tag: 'pipelines',
    scope: 'write',
    params: PipelineIdParams,
    workspace: true,
    body: PipelineSchema,
    responses: { 200: { description: 'Saved', schema: DraftViewSchema } },
    async handler({ deps, workspace, params, body, actor, authorize, res }) {
      workspace.require('drafts', DRAFTS);
      const { pipeline } = await workspace.load(params.id, authorize);
      requireSamePipeline(body, pipeline);
      const draft = draftView(await saveDraft(deps, pipeline, body, actor), deps.catalog);
      res.json(await withConnectorChecks(draft, deps.pool, deps.catalog, body));
    },
  }),
  route({
    method: 'delete',
    path: '/pipelines/:id/draft',
    operationId: 'discardPipelineDraft',
    summary: 'Discard the draft',
    tag: 'pipelines',
    scope: 'write',
    params: PipelineIdParams,
    workspace: true,
    responses: { 204: { description: 'Discarded' } },
    async handler({ deps, workspace, params, actor, authorize, res }) {
      workspace.require('drafts', DRAFTS);
      await discardDraft(deps, (await workspace.load(params.id, authorize)).pipeline, actor);
      res.status(204).end();
    },
  }),
  route({
    method: 'post',
    path: '/pipelines/:id/publish',
    operationId: 'publishPipeline',
    summary: 'Publish the draft as the next version',
    description:
      'The draft becomes the next immutable version (audit `pipeline.published`) and is removed; ' +
      'schedules, webhooks and API runs use it from then on. 404 without a draft, 400 when it does ' +
      'not compile, 409 when `expectedVersion` is not the current version.',
    tag: 'pipelines',
    scope: 'write',
    params: PipelineIdParams,
    workspace: true,
    body: z
      .strictObject({
        expectedVersion: versionNumber
          .optional()
          .meta({ description: 'The version the draft was edited over' }),
        message: z.string().max(500).optional().meta({
          description:
            'What changed, in a few words: kept with the version (History shows it) and in the audit entry',
        }),
      })
      .default({}),
    responses: { 200: { description: 'Published', schema: SavedSchema } },
    problems: [409],
    async handler({ deps, workspace, params, body, actor, authorize, res }) {
      workspace.require('drafts', DRAFTS);
      const { pipeline } = await workspace.load(params.id, authorize);
      const saved = await publishDraft(deps, {
        pipeline,
        actor,
        expectedVersion: body.expectedVersion,
        message: body.message,
      });
      sendPipeline(res, 200, savedView(saved, deps.catalog));
    },
  }),
];
