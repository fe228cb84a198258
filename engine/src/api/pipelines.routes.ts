// Pipelines: immutable versions (save = new version), soft delete, and validation without saving;
// a draft that does not compile is saved and says so. Version history: pipeline-versions.routes.ts.
// The use cases are in pipelines/; this file parses, authorises, calls and shapes the answer.
import { z } from 'zod';
import { PipelineSchema, slug } from '../model/pipeline.schema.js';
import { createPipeline } from '../pipelines/create-pipeline.js';
import { discardDraft, publishDraft, requireDraft, saveDraft } from '../pipelines/pipeline-drafts.js';
import { deletePipeline, savePipeline } from '../pipelines/save-pipeline.js';
import { validateDocument } from '../pipelines/validate-document.js';
import { templateOriginOf } from '../templates/template-origin.store.js';
import { createInBranch, saveInBranch } from '../branches/branch-service.js';
import { allows, projectsWith } from './auth.js';
import { BranchQuery, listInBranch, loadInBranch, mainOnly } from './branch-input.js';
import { IfMatch, loadPipeline, requireSamePipeline, versionNumber } from './pipeline-input.js';
import {
  branchPipelineView,
  draftInfo,
  DraftViewSchema,
  draftView,
  PipelineWithDraftSchema,
  pipelineView,
  SavedSchema,
  savedView,
  sendPipeline,
  SummarySchema,
} from './pipeline-views.js';
import { route } from './route.js';
import { cursor, page, pageLimit, PipelineIdParams, ValiditySchema } from './schemas.js';

/** What validate accepts: anything, as its shape problems are part of the answer. */
const DraftSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: 'A pipeline document, maybe malformed' });

/** A document saved over a stored pipeline must name it and stay in its project. */
const DRAFTS_ARE_MAIN_ONLY =
  'drafts and publishing belong to main (a branch is its own draft space: save there)';

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
      branch: BranchQuery.shape.branch,
    }),
    responses: {
      200: {
        description: 'A page of pipelines',
        schema: page(SummarySchema),
      },
    },
    async handler({ deps, query, principal, authorize, res }) {
      if (query.project) authorize(query.project);
      if (query.branch) {
        res.json(await listInBranch(deps, query.branch, query, projectsWith(principal!.token, 'read')));
        return;
      }
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
    query: BranchQuery,
    body: PipelineSchema,
    responses: { 201: { description: 'Created', schema: SavedSchema } },
    problems: [409],
    async handler({ deps, query, body, actor, authorize, res }) {
      authorize(body.project);
      if (query.branch) {
        await deps.branches.require(body.project, query.branch);
        const pipeline = await createInBranch(deps, {
          project: body.project,
          branch: query.branch,
          document: body,
          actor,
        });
        const copy = await deps.branches.requirePipeline(body.project, query.branch, body.id);
        res.location(`/api/pipelines/${pipeline.id}?branch=${query.branch}`);
        sendPipeline(res, 201, {
          ...branchPipelineView(pipeline, copy, query.branch, deps.catalog),
          created: true,
        });
        return;
      }
      const pipeline = await createPipeline(deps, body, actor);
      res.location(`/api/pipelines/${pipeline.id}`);
      sendPipeline(res, 201, { ...pipelineView(pipeline, deps.catalog), created: true });
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
    query: BranchQuery,
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
      'unpublished draft (GET …/draft for its document).',
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams,
    query: BranchQuery,
    responses: {
      200: { description: 'The pipeline', schema: PipelineWithDraftSchema },
      304: { description: 'Not modified: the If-None-Match ETag is still current' },
    },
    async handler({ deps, params, query, authorize, res }) {
      if (query.branch) {
        // A branch is its own draft space: its copy has no draft of its own.
        const found = await loadInBranch(deps, query.branch, params.id, authorize);
        sendPipeline(res, 200, {
          ...branchPipelineView(found.pipeline, found.copy, query.branch, deps.catalog),
          draft: null,
        });
        return;
      }
      const pipeline = await loadPipeline(deps, params.id, authorize);
      const [template, draft] = await Promise.all([
        templateOriginOf(deps.pool, params.id),
        deps.drafts.get(params.id),
      ]);
      sendPipeline(res, 200, {
        ...pipelineView(pipeline, deps.catalog),
        ...(template ? { template } : {}),
        draft: draftInfo(draft),
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
    query: BranchQuery,
    headers: IfMatch,
    body: PipelineSchema,
    responses: { 200: { description: 'Saved', schema: SavedSchema } },
    problems: [409],
    async handler({ deps, params, query, headers, body, actor, authorize, res }) {
      const found = query.branch ? await loadInBranch(deps, query.branch, params.id, authorize) : undefined;
      const current = found?.pipeline ?? (await loadPipeline(deps, params.id, authorize));
      requireSamePipeline(body, current);
      if (found) {
        // In a branch a save overwrites the branch's copy; main and its schedule are untouched.
        const saved = await saveInBranch(deps, {
          project: found.project,
          branch: found.branch,
          document: body,
          actor,
          expectedRevision: headers['if-match'],
        });
        const copy = await deps.branches.requirePipeline(found.project, found.branch, params.id);
        sendPipeline(res, 200, {
          ...branchPipelineView(saved.pipeline, copy, found.branch, deps.catalog),
          created: saved.created,
        });
        return;
      }
      const saved = await savePipeline(deps, {
        current,
        document: body,
        actor,
        expectedVersion: headers['if-match'],
      });
      sendPipeline(res, 200, savedView(saved, deps.catalog));
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
    query: BranchQuery,
    responses: { 204: { description: 'Deleted' } },
    async handler({ deps, params, query, actor, authorize, res }) {
      mainOnly(query.branch, 'deleting a pipeline');
      await deletePipeline(deps, await loadPipeline(deps, params.id, authorize), actor);
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
    query: BranchQuery,
    responses: { 200: { description: 'The draft', schema: DraftViewSchema } },
    async handler({ deps, params, query, authorize, res }) {
      mainOnly(query.branch, DRAFTS_ARE_MAIN_ONLY);
      const pipeline = await loadPipeline(deps, params.id, authorize);
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
    query: BranchQuery,
    body: PipelineSchema,
    responses: { 200: { description: 'Saved', schema: DraftViewSchema } },
    async handler({ deps, params, query, body, actor, authorize, res }) {
      mainOnly(query.branch, DRAFTS_ARE_MAIN_ONLY);
      const pipeline = await loadPipeline(deps, params.id, authorize);
      requireSamePipeline(body, pipeline);
      res.json(draftView(await saveDraft(deps, pipeline, body, actor), deps.catalog));
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
    query: BranchQuery,
    responses: { 204: { description: 'Discarded' } },
    async handler({ deps, params, query, actor, authorize, res }) {
      mainOnly(query.branch, DRAFTS_ARE_MAIN_ONLY);
      await discardDraft(deps, await loadPipeline(deps, params.id, authorize), actor);
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
    query: BranchQuery,
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
    async handler({ deps, params, query, body, actor, authorize, res }) {
      mainOnly(query.branch, DRAFTS_ARE_MAIN_ONLY);
      const pipeline = await loadPipeline(deps, params.id, authorize);
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
