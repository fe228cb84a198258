// Runs: start one of a pipeline version (idempotent with Idempotency-Key), list, inspect, cancel,
// follow as Server-Sent Events, and preview a step's output from kept staging.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';
import { previewStepOutput, PREVIEW_MAX_LIMIT } from '../store/preview.js';
import { projectsWith } from './auth.js';
import { BranchQuery, loadInBranch } from './branch-input.js';
import { badRequest, conflict, notFound } from './problem.js';
import { route } from './route.js';
import { startPipelineRun } from '../runs/start-run.js';
import { followRun } from './run-events.js';
import { isFinished, runDetailView, runLinks, runSummaryView } from './run-view.js';
import {
  runsCursor,
  IdempotencyHeaders,
  page,
  pageLimit,
  PipelineIdParams,
  RunDetailSchema,
  RunIdParams,
  RunLinksSchema,
  RunStartedSchema,
  RunSummarySchema,
} from './schemas.js';

const PreviewSchema = z.object({
  runId: z.string(),
  nodeId: z.string(),
  schema: z.string(),
  table: z.string(),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.record(z.string(), z.unknown())),
  limit: z.number().int(),
  offset: z.number().int(),
  hasMore: z.boolean(),
});

export const runRoutes = [
  route({
    method: 'post',
    path: '/pipelines/:id/runs',
    operationId: 'startRun',
    summary: 'Start a run of the current (or a given) version',
    description:
      'Compiles the version with the params (400 with every compile error when it does not compile) and ' +
      'starts it. The same Idempotency-Key returns the same run (200 instead of 202). Under concurrency ' +
      'policy "skip", a run while another is in flight is refused with 409.',
    tag: 'runs',
    scope: 'run',
    params: PipelineIdParams,
    query: BranchQuery,
    headers: IdempotencyHeaders.extend({
      'x-tributary-trigger': z
        .enum(['manual', 'api'])
        .optional()
        .meta({ description: '"manual" when a person pressed Run in the builder; default "api"' }),
    }),
    body: z
      .strictObject({
        params: z.record(z.string(), z.unknown()).default({}),
        version: z.number().int().min(1).optional(),
      })
      .default({ params: {} }),
    responses: {
      202: { description: 'Started', schema: RunStartedSchema },
      200: { description: 'The run this Idempotency-Key already started', schema: RunStartedSchema },
    },
    problems: [409],
    async handler({ deps, params, query, headers, body, actor, authorize, res }) {
      let pipeline;
      if (query.branch) {
        // A branch has one copy of each pipeline, its current one: there is no other version to run.
        if (body.version !== undefined) {
          const message = 'version: in a branch the run is of the branch’s copy; leave version out';
          throw badRequest(message, [{ in: 'body', path: 'version', message }]);
        }
        pipeline = (await loadInBranch(deps, query.branch, params.id, authorize)).pipeline;
      } else {
        pipeline = await deps.pipelines.require(params.id);
        authorize(pipeline.project);
      }
      const started = await startPipelineRun(deps, {
        pipeline,
        ...(query.branch ? { branch: query.branch } : {}),
        params: body.params,
        ...(body.version !== undefined ? { version: body.version } : {}),
        trigger: { type: headers['x-tributary-trigger'] ?? 'api', actor },
        ...(headers['idempotency-key'] ? { idempotencyKey: headers['idempotency-key'] } : {}),
      });
      const links = runLinks(started.runId);
      res
        .status(started.created ? 202 : 200)
        .location(links.self)
        .json({ ...started, links });
    },
  }),
  route({
    method: 'get',
    path: '/runs',
    operationId: 'listRuns',
    summary: 'Runs, newest first',
    description: 'A token limited to several projects must name one with `project`.',
    tag: 'runs',
    scope: 'read',
    query: z.object({
      pipeline: slug.optional(),
      project: slug.optional(),
      status: z.enum(['running', 'closed']).optional(),
      cursor: runsCursor,
      limit: pageLimit,
    }),
    responses: {
      200: {
        description: 'A page of runs',
        schema: page(RunSummarySchema),
      },
    },
    async handler({ deps, query, principal, authorize, res }) {
      let project = query.project;
      if (project) authorize(project);
      const reach = projectsWith(principal!.token, 'read');
      if (reach !== null && !project) {
        if (query.pipeline) {
          project = await deps.pipelines.projectOf(query.pipeline);
          if (!project) throw notFound(`Pipeline "${query.pipeline}"`);
          authorize(project);
        } else if (reach.length === 1) {
          project = reach[0];
        } else {
          const message = `This token is limited to projects ${reach.join(', ')}: name one with ?project=`;
          throw badRequest(message, [{ in: 'query', path: 'project', message }]);
        }
      }
      const page = await deps.runs.list({
        ...(project ? { project } : {}),
        ...(query.pipeline ? { pipelineId: query.pipeline } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
        limit: query.limit,
      });
      res.json({ items: page.runs.map(runSummaryView), nextCursor: page.nextCursor });
    },
  }),
  route({
    method: 'get',
    path: '/runs/:runId',
    operationId: 'getRun',
    summary: 'A run: status, version, params, trigger, timings and per-step progress',
    tag: 'runs',
    scope: 'read',
    params: RunIdParams,
    responses: { 200: { description: 'The run', schema: RunDetailSchema } },
    async handler({ deps, params, authorize, res }) {
      const run = await deps.runs.get(params.runId);
      authorize(run.project);
      res.json(runDetailView(run));
    },
  }),
  route({
    method: 'post',
    path: '/runs/:runId/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a running run',
    description: 'Steps in flight are cancelled; the staging cleanup still runs. 409 when the run has ended.',
    tag: 'runs',
    scope: 'run',
    params: RunIdParams,
    body: z.strictObject({ reason: z.string().max(500).optional() }).default({}),
    responses: {
      202: {
        description: 'Cancellation requested',
        schema: z.object({ runId: z.string(), status: z.literal('cancelling'), links: RunLinksSchema }),
      },
    },
    problems: [409],
    async handler({ deps, params, body, actor, authorize, res }) {
      const run = await deps.runs.get(params.runId);
      authorize(run.project);
      if (isFinished(run.status)) throw conflict(`Run "${params.runId}" has already ended (${run.status})`);
      await deps.runs.cancel(params.runId, actor, body.reason);
      res.status(202).json({ runId: params.runId, status: 'cancelling', links: runLinks(params.runId) });
    },
  }),
  route({
    method: 'get',
    path: '/runs/:runId/events',
    operationId: 'followRun',
    summary: 'Follow a run as Server-Sent Events',
    description:
      'Sends `progress` (the run, as GET /runs/{runId}) whenever it changes, then `end` when the run ' +
      'has ended, and closes the stream.',
    tag: 'runs',
    scope: 'read',
    params: RunIdParams,
    responses: {
      200: { description: 'An event stream', schema: z.string(), contentType: 'text/event-stream' },
    },
    async handler({ deps, params, authorize, res }) {
      const run = await deps.runs.get(params.runId);
      authorize(run.project);
      await followRun(deps, run, res);
    },
  }),
  route({
    method: 'get',
    path: '/runs/:runId/steps/:nodeId/preview',
    operationId: 'previewStep',
    summary: "Rows and column types of a step's output",
    description:
      "Reads the step's table in the run's staging schema, which exists only when the pipeline has " +
      '`settings.keepStaging: true` (kept for 24 h); otherwise 404 says so.',
    tag: 'runs',
    scope: 'read',
    params: RunIdParams.extend({ nodeId: slug }),
    query: z.object({
      limit: z.coerce.number().int().min(1).max(PREVIEW_MAX_LIMIT).default(100),
      offset: z.coerce.number().int().min(0).default(0),
    }),
    responses: { 200: { description: 'A page of rows', schema: PreviewSchema } },
    async handler({ deps, params, query, authorize, res }) {
      const run = await deps.runs.get(params.runId);
      authorize(run.project);
      res.json(await previewStepOutput(deps.warehousePool, params.runId, params.nodeId, query));
    },
  }),
];
