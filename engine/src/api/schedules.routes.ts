// A pipeline's schedule: one Temporal Schedule per pipeline, set with one PUT, shown with its next
// run times, triggered now, or removed.
import { z } from 'zod';
import { notFound } from './problem.js';
import { route } from './route.js';
import { runLinks } from './run-view.js';
import { scheduleIdOf } from '../schedules/schedule-service.js';
import { PipelineIdParams, RunLinksSchema } from './schemas.js';

const isTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const ScheduleBody = z.strictObject({
  cron: z
    .string()
    .trim()
    .regex(
      /^(@(yearly|annually|monthly|weekly|daily|hourly)|@every\s+\S+|(\S+\s+){4,6}\S+)$/,
      'must be a cron expression of 5 fields ("0 6 * * *"), or @daily, @hourly, @every 15m',
    ),
  timezone: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as "UTC" or "Europe/Berlin"')
    .default('UTC'),
  params: z.record(z.string(), z.unknown()).default({}),
  paused: z.boolean().default(false),
});

const ScheduleSchema = z.object({
  scheduleId: z.string(),
  pipelineId: z.string(),
  cron: z.string(),
  timezone: z.string(),
  params: z.record(z.string(), z.unknown()),
  paused: z.boolean(),
  overlap: z
    .string()
    .meta({ description: 'From settings.concurrency: allow → ALLOW_ALL, queue → BUFFER_ALL, skip → SKIP' }),
  pipelineVersion: z.number().int().meta({ description: 'The version the schedule runs' }),
  nextRunTimes: z.array(z.string()),
  recentRuns: z.array(z.object({ runId: z.string(), scheduledAt: z.string(), startedAt: z.string() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const scheduleRoutes = [
  route({
    method: 'put',
    path: '/pipelines/:id/schedule',
    operationId: 'putSchedule',
    summary: 'Create or change the schedule of a pipeline',
    description:
      'Compiles the current version with the params (400 if it does not compile) into a Temporal ' +
      'Schedule `schedule-<pipelineId>`; later saves of the pipeline move the schedule onto the new version.',
    tag: 'schedules',
    scope: 'write',
    alsoNeeds: ['run'],
    params: PipelineIdParams,
    body: ScheduleBody,
    responses: { 200: { description: 'The schedule', schema: ScheduleSchema } },
    async handler({ deps, params, body, actor, authorize, res }) {
      const pipeline = await deps.pipelines.require(params.id);
      authorize(pipeline.project);
      const schedule = await deps.schedules.put(pipeline, body, actor);
      await deps.audit.record({
        actor,
        project: pipeline.project,
        action: 'schedule.changed',
        target: `schedule:${pipeline.id}`,
        // Param names only: a param's value may be sensitive.
        summary: {
          cron: body.cron,
          timezone: body.timezone,
          paused: body.paused,
          params: Object.keys(body.params),
        },
      });
      res.json(schedule);
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id/schedule',
    operationId: 'getSchedule',
    summary: 'The schedule of a pipeline, with its next run times',
    tag: 'schedules',
    scope: 'read',
    params: PipelineIdParams,
    responses: { 200: { description: 'The schedule', schema: ScheduleSchema } },
    async handler({ deps, params, authorize, res }) {
      const pipeline = await deps.pipelines.require(params.id);
      authorize(pipeline.project);
      const schedule = await deps.schedules.get(pipeline.id);
      if (!schedule) throw notFound(`A schedule of pipeline "${pipeline.id}"`);
      res.json(schedule);
    },
  }),
  route({
    method: 'delete',
    path: '/pipelines/:id/schedule',
    operationId: 'deleteSchedule',
    summary: 'Remove the schedule of a pipeline',
    tag: 'schedules',
    scope: 'write',
    params: PipelineIdParams,
    responses: { 204: { description: 'Removed' } },
    async handler({ deps, params, actor, authorize, res }) {
      const pipeline = await deps.pipelines.require(params.id);
      authorize(pipeline.project);
      if (!(await deps.schedules.remove(pipeline.id)))
        throw notFound(`A schedule of pipeline "${pipeline.id}"`);
      await deps.audit.record({
        actor,
        project: pipeline.project,
        action: 'schedule.deleted',
        target: `schedule:${pipeline.id}`,
      });
      res.status(204).end();
    },
  }),
  route({
    method: 'post',
    path: '/pipelines/:id/schedule/trigger',
    operationId: 'triggerSchedule',
    summary: "Take the schedule's action now",
    description: 'Under concurrency "skip", a run in flight makes Temporal skip it: 409.',
    tag: 'schedules',
    scope: 'run',
    params: PipelineIdParams,
    responses: {
      202: {
        description: 'Triggered; `runId` is null if the run did not show within 5 s',
        schema: z.object({
          scheduleId: z.string(),
          runId: z.string().nullable(),
          links: RunLinksSchema.nullable(),
        }),
      },
    },
    problems: [409],
    async handler({ deps, params, authorize, res }) {
      const pipeline = await deps.pipelines.require(params.id);
      authorize(pipeline.project);
      if (!(await deps.schedules.get(pipeline.id))) throw notFound(`A schedule of pipeline "${pipeline.id}"`);
      const { runId } = await deps.schedules.trigger(pipeline.id);
      res
        .status(202)
        .json({ scheduleId: scheduleIdOf(pipeline.id), runId, links: runId ? runLinks(runId) : null });
    },
  }),
];
