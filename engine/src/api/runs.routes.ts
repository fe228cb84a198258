// Runs: start one of a pipeline version (idempotent with Idempotency-Key), list, inspect, cancel,
// follow as Server-Sent Events, and preview a step's output from kept staging.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';
import { previewStepOutput, PreviewUnavailableError, PREVIEW_MAX_LIMIT } from '../store/preview.js';
import { branchRole, projectRole } from '../warehouse/roles.js';
import { projectsWith } from './auth.js';
import { badRequest, conflict, notFound } from './problem.js';
import { route } from './route.js';
import { rerunRun } from '../runs/rerun.js';
import { RunFailureCache, runListFacts } from '../runs/run-list-facts.js';
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
  RunListItemSchema,
  RunStartedSchema,
} from './schemas.js';

/** A closed run's failure never changes: reading it once per process is enough. */
const failures = new RunFailureCache();

const TriggerHeader = z.object({
  'x-tributary-trigger': z
    .enum(['manual', 'api'])
    .optional()
    .meta({ description: '"manual" when a person pressed Run in the builder; default "api"' }),
});

const RerunStartedSchema = RunStartedSchema.extend({
  rerunOf: z.string(),
  reused: z
    .record(z.string(), z.string())
    .meta({ description: 'Steps not run, by node id: the run whose kept output is used' }),
});

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
    summary: 'Start a run of the current (or a given) version, or of the draft',
    description:
      'With `draft: true` it runs the draft (404 when there is none) and the run says `draft: true`. ' +
      'Compiles the version with the params (400 with every compile error when it does not compile) and ' +
      'starts it. The same Idempotency-Key returns the same run (200 instead of 202). Under concurrency ' +
      'policy "skip", a run while another is in flight is refused with 409.',
    tag: 'runs',
    scope: 'run',
    params: PipelineIdParams,
    workspace: true,
    headers: IdempotencyHeaders.extend(TriggerHeader.shape),
    body: z
      .strictObject({
        params: z.record(z.string(), z.unknown()).default({}),
        version: z.number().int().min(1).optional(),
        draft: z
          .boolean()
          .optional()
          .meta({ description: "Run the pipeline's draft (the editor's Run), not a published version" }),
      })
      .default({ params: {} }),
    responses: {
      202: { description: 'Started', schema: RunStartedSchema },
      200: { description: 'The run this Idempotency-Key already started', schema: RunStartedSchema },
    },
    problems: [409],
    async handler({ deps, workspace, params, headers, body, actor, authorize, res }) {
      // A branch has one copy of each pipeline, its current one: no other version, no draft.
      workspace.checkRun(body);
      const { pipeline } = await workspace.load(params.id, authorize);
      if (body.draft && body.version !== undefined) {
        const message = 'draft: a run is of the draft or of a version, not both; leave out "version"';
        throw badRequest(message, [{ in: 'body', path: 'draft', message }]);
      }
      const started = await startPipelineRun(deps, {
        pipeline,
        ...(workspace.branch ? { branch: workspace.branch } : {}),
        params: body.params,
        ...(body.version !== undefined ? { version: body.version } : {}),
        ...(body.draft ? { draft: true } : {}),
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
    description:
      "A token limited to several projects must name one with `project`. Each run has its pipeline's name " +
      'and, when it failed, the failed steps and the start of the first error.',
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
        schema: page(RunListItemSchema),
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
      const facts = await runListFacts(deps, page.runs, failures);
      res.json({
        items: page.runs.map((run) => {
          const fact = facts.get(run.runId);
          return {
            ...runSummaryView(run),
            pipelineName: fact?.pipelineName ?? null,
            failedSteps: fact?.failure?.failedSteps ?? [],
            errorExcerpt: fact?.failure?.errorExcerpt ?? null,
          };
        }),
        nextCursor: page.nextCursor,
      });
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
    method: 'post',
    path: '/runs/:runId/rerun',
    operationId: 'rerunRun',
    summary: 'Re-run a run from its failed steps or from a node',
    description:
      'A new run of the same version (with `draft: true`, of the current draft) and the same params. ' +
      'The failed steps (or the node named in `from`) and everything downstream run; every other step ' +
      'that succeeded, is unchanged and whose output is still kept is reused (status `reused`, ' +
      '`reusedFrom`). A failed run keeps its staging for STAGING_TTL_HOURS; 409 names the steps whose ' +
      'kept output is gone, or says the run is still running or has nothing failed.',
    tag: 'runs',
    scope: 'run',
    params: RunIdParams,
    headers: TriggerHeader,
    body: z.strictObject({
      from: z.string().min(1).max(200).meta({ description: '"failed", or the node id to start from' }),
      draft: z
        .boolean()
        .optional()
        .meta({ description: "Run the pipeline's current draft instead of the version" }),
    }),
    responses: { 202: { description: 'Started', schema: RerunStartedSchema } },
    problems: [409],
    async handler({ deps, params, headers, body, actor, authorize, res }) {
      const run = await deps.runs.get(params.runId);
      authorize(run.project);
      const started = await rerunRun(deps, {
        runId: params.runId,
        from: body.from,
        ...(body.draft ? { draft: true } : {}),
        trigger: { type: headers['x-tributary-trigger'] ?? 'api', actor },
      });
      const links = runLinks(started.runId);
      res
        .status(202)
        .location(links.self)
        .json({ ...started, links });
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
      '`settings.keepStaging: true` or the run failed (kept for STAGING_TTL_HOURS, 24 h by default); ' +
      "otherwise 404 says so. A reused step's preview is the earlier run's table it stands for.",
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
      // A reused step's output is the earlier run's table (of the same pipeline, by construction).
      const step = run.progress?.steps[params.nodeId];
      const madeBy = step?.status === 'reused' && step.reusedFrom ? step.reusedFrom : params.runId;
      // Read as the run's project (its branch role for a branch run), never as the warehouse owner.
      if (!deps.runnerPool)
        throw new PreviewUnavailableError(
          "this server has no runner connection to read under the project's role",
        );
      const role = run.branch ? branchRole(run.project) : projectRole(run.project);
      res.json(await previewStepOutput({ pool: deps.runnerPool, role }, madeBy, params.nodeId, query));
    },
  }),
];
