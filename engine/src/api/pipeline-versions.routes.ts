// A pipeline's version history: every version, one version with its document, the diff of two,
// and rollback (an older version saved again as the new current one).
import { z } from 'zod';
import { diffPipelines } from '../pipelines/pipeline-diff.js';
import { rollbackPipeline } from '../pipelines/save-pipeline.js';
import { IfMatch, loadPipeline, versionNumber } from './pipeline-input.js';
import {
  DiffSchema,
  SavedSchema,
  savedView,
  sendPipeline,
  VersionInfoSchema,
  VersionViewSchema,
  versionView,
} from './pipeline-views.js';
import { route } from './route.js';
import { page, PipelineIdParams, versionNumberMax } from './schemas.js';

export const pipelineVersionRoutes = [
  route({
    method: 'get',
    path: '/pipelines/:id/versions',
    operationId: 'listPipelineVersions',
    summary: 'Every version, newest first',
    tag: 'pipelines',
    scope: 'read',
    description: "With `?branch`, the branch's one copy (a branch keeps no versions of its own).",
    params: PipelineIdParams,
    workspace: true,
    responses: {
      200: {
        description: 'The versions',
        schema: page(VersionInfoSchema).extend({ current: z.number().int() }),
      },
    },
    async handler({ deps, workspace, params, authorize, res }) {
      const { pipeline } = await workspace.load(params.id, authorize);
      const items = workspace.capabilities.history
        ? (await deps.pipelines.versions(params.id)).map(({ pipelineId: _p, ...v }) => v)
        : // A branch keeps one copy of each pipeline: its history is that copy.
          [pipeline.current].map(({ version, versionHash, createdBy, createdAt }) => ({
            version,
            versionHash,
            createdBy,
            createdAt,
          }));
      res.json({ current: pipeline.version, items, nextCursor: null });
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
      await loadPipeline(deps, params.id, authorize);
      const version = await deps.pipelines.requireVersion(params.id, params.version);
      res.set('ETag', `"${version.version}"`).json(versionView(version, deps.catalog));
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
      const pipeline = await loadPipeline(deps, params.id, authorize);
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
      const current = await loadPipeline(deps, params.id, authorize);
      const saved = await rollbackPipeline(deps, {
        current,
        version: body.version,
        actor,
        expectedVersion: headers['if-match'],
      });
      sendPipeline(res, saved.created ? 201 : 200, savedView(saved, deps.catalog));
    },
  }),
];
