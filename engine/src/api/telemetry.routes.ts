// Usage telemetry: one run's usage, usage aggregated over the runs a visibility query finds, and the
// sync that writes it into the warehouse (tributary_telemetry.runs / .steps) for SQL.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';
import { priceUsage } from '../telemetry/run-usage.js';
import { readUsageFacts } from '../runs/run-reads.js';
import { syncTelemetry } from '../telemetry/telemetry-sync.js';
import { USAGE_GROUPS, usageReport, UsageCache } from '../telemetry/usage-report.js';
import { instant } from './audit.routes.js';
import { projectsWith } from './auth.js';
import { badRequest } from './problem.js';
import { route } from './route.js';
import { RunIdParams } from './schemas.js';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;
/** Closed runs' usage never changes: computing it once per process is enough. */
const cache = new UsageCache();

const totalsShape = {
  runs: z.number().int(),
  steps: z.number().int(),
  wallSeconds: z.number().nullable(),
  activitySeconds: z.number(),
  attempts: z.number().int(),
  retries: z.number().int(),
  rowsIn: z.number(),
  rowsOut: z.number(),
  bytes: z.number(),
  credits: z.number(),
};

const CreditRatesSchema = z.object({
  source: z.number(),
  transform: z.number(),
  sink: z.number(),
  types: z.record(z.string(), z.number()),
});

const UsageGroupSchema = z.object({ key: z.string(), ...totalsShape });

const UsageReportSchema = z.object({
  groupBy: z.enum(USAGE_GROUPS),
  split: z.enum(USAGE_GROUPS).nullable(),
  from: z.string(),
  to: z.string(),
  creditRates: CreditRatesSchema,
  runs: z.number().int(),
  truncated: z.boolean(),
  totals: z.object(totalsShape),
  groups: z.array(
    UsageGroupSchema.extend({
      splits: z
        .array(UsageGroupSchema)
        .optional()
        .meta({ description: 'With `split`: this group broken down again, e.g. a day by project' }),
    }),
  ),
});

const StepUsageSchema = z.object({
  nodeId: z.string(),
  nodeType: z.string(),
  kind: z.string(),
  status: z.string(),
  attempts: z.number().int(),
  retries: z.number().int(),
  activitySeconds: z.number(),
  scheduledSeconds: z.number().nullable(),
  rowsIn: z.number(),
  rowsOut: z.number(),
  bytes: z.number(),
  credits: z.number(),
  scheduledAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});

const RunUsageSchema = z.object({
  runId: z.string(),
  project: z.string(),
  pipelineId: z.string(),
  pipelineVersion: z.number().int(),
  trigger: z.string(),
  actor: z.string(),
  status: z.string(),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  wallSeconds: z.number().nullable(),
  activitySeconds: z.number(),
  lifecycleSeconds: z.number(),
  attempts: z.number().int(),
  retries: z.number().int(),
  rowsIn: z.number(),
  rowsOut: z.number(),
  bytes: z.number(),
  credits: z.number(),
  steps: z.array(StepUsageSchema),
});

export const telemetryRoutes = [
  route({
    method: 'get',
    path: '/runs/:runId/usage',
    operationId: 'getRunUsage',
    summary: "A run's usage: wall time, activity-seconds, attempts, retries, rows, bytes and credits by step",
    description:
      'Read from the workflow history while the run is open, from its run record once closed (the same ' +
      'answer, kept after Temporal deletes the history). Activity-seconds are the measured durations of the attempts history ' +
      'records (the last attempt of each step); `scheduledSeconds` also covers earlier attempts and back-off.',
    tag: 'telemetry',
    scope: 'read',
    params: RunIdParams,
    responses: { 200: { description: 'The usage', schema: RunUsageSchema } },
    async handler({ deps, params, authorize, res }) {
      const facts = await readUsageFacts(deps, params.runId);
      authorize(facts.project);
      res.json(priceUsage(facts, deps.creditRates));
    },
  }),
  route({
    method: 'get',
    path: '/telemetry/usage',
    operationId: 'getUsage',
    summary: 'Usage aggregated over the runs started in a time range',
    description:
      'Runs are found with a visibility query (pipeline runs with StartTime in [from, to)); default: the last ' +
      '30 days. Credits = activity-seconds × the rate of the node kind (TRIBUTARY_CREDIT_RATES). A token ' +
      'limited to some projects counts only those. `split` breaks each group down again (e.g. ' +
      '`groupBy=day&split=project` for credits per day stacked by project); not with `groupBy=nodeType`.',
    tag: 'telemetry',
    scope: 'read',
    query: z.object({
      groupBy: z.enum(USAGE_GROUPS).default('project'),
      split: z.enum(USAGE_GROUPS).optional(),
      from: instant.optional(),
      to: instant.optional(),
      project: slug.optional(),
    }),
    responses: { 200: { description: 'Usage by group, and totals', schema: UsageReportSchema } },
    async handler({ deps, query, principal, authorize, res }) {
      const to = query.to ?? new Date();
      const from = query.from ?? new Date(to.getTime() - 30 * DAY_MS);
      if (from >= to) {
        const message = 'from must be before to';
        throw badRequest(message, [{ in: 'query', path: 'from', message }]);
      }
      if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) {
        const message = `the range from..to is longer than ${MAX_RANGE_DAYS} days; ask for a shorter one`;
        throw badRequest(message, [{ in: 'query', path: 'from', message }]);
      }
      if (query.split && query.groupBy === 'nodeType') {
        const message =
          'split cannot break down groupBy=nodeType (its groups are steps); group by day, project…';
        throw badRequest(message, [{ in: 'query', path: 'split', message }]);
      }
      let projects: string[] | undefined;
      if (query.project) {
        authorize(query.project);
        projects = [query.project];
      } else {
        projects = projectsWith(principal!.token, 'read') ?? undefined;
      }
      const report = await usageReport(
        { temporal: deps.temporal, runs: deps.runs, rates: deps.creditRates, cache },
        {
          groupBy: query.groupBy,
          ...(query.split ? { split: query.split } : {}),
          from,
          to,
          ...(projects ? { projects } : {}),
        },
      );
      res.json(report);
    },
  }),
  route({
    method: 'post',
    path: '/telemetry/sync',
    operationId: 'syncTelemetry',
    summary: 'Write closed runs’ usage into the warehouse (tributary_telemetry.runs / steps)',
    description:
      'Records the closed runs not yet recorded, then writes the run records written since the last sync ' +
      '(with an overlap); idempotent (upserts by run id and by run id + node id). `full: true` syncs every ' +
      'run record.',
    tag: 'telemetry',
    scope: 'admin',
    allProjects: true,
    body: z.strictObject({ full: z.boolean().default(false) }).default({ full: false }),
    responses: {
      200: {
        description: 'What was synced',
        schema: z.object({
          runs: z.number().int(),
          steps: z.number().int(),
          since: z.string().nullable(),
          watermark: z.string().nullable(),
        }),
      },
    },
    async handler({ deps, body, res }) {
      const result = await syncTelemetry(
        {
          temporal: deps.temporal,
          runs: deps.runs,
          warehouse: deps.warehousePool,
          rates: deps.creditRates,
          log: deps.log,
          cache,
        },
        { full: body.full },
      );
      res.json(result);
    },
  }),
];
