// Audit: a run's audit trail read from its Temporal history (JSON, or JSON Lines for export), and
// the platform audit log of changes to pipelines, schedules, webhooks, secrets, tokens, projects.
import { z } from 'zod';
import { AUDIT_ACTIONS } from '../audit/audit-log.store.js';
import { RUN_AUDIT_EVENT_TYPES, toJsonLines } from '../audit/run-audit.js';
import { readAuditTrail } from '../runs/run-reads.js';
import { slug } from '../model/pipeline.schema.js';
import { projectsWith } from './auth.js';
import { badRequest } from './problem.js';
import { route } from './route.js';
import { page, pageLimit, RUN_STATUSES, RunIdParams } from './schemas.js';

/** An ISO 8601 date or timestamp in a query string. */
export const instant = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()])
  .transform((text) => new Date(text))
  .meta({ description: 'ISO 8601 date or timestamp, e.g. 2025-01-31 or 2025-01-31T12:00:00Z' });

const RunAuditEventSchema = z.object({
  eventId: z.number().int().meta({ description: 'The Temporal history event it was read from' }),
  at: z.string(),
  type: z.enum(RUN_AUDIT_EVENT_TYPES),
  actor: z.string().nullable(),
  nodeId: z.string().nullable(),
  nodeType: z.string().nullable(),
  attempt: z.number().int().nullable(),
  message: z.string(),
  details: z.record(z.string(), z.unknown()),
});

const RunAuditTrailSchema = z.object({
  runId: z.string(),
  project: z.string(),
  pipelineId: z.string(),
  pipelineVersion: z.number().int(),
  draft: z.boolean().meta({ description: "A run of the pipeline's draft (pipelineVersion is its base)" }),
  rerunOf: z.string().nullable().meta({ description: 'The run this one re-runs, if any' }),
  trigger: z.object({ type: z.enum(['manual', 'api', 'schedule', 'webhook']), actor: z.string() }),
  status: z.enum([...RUN_STATUSES, 'continued_as_new']),
  events: z.array(RunAuditEventSchema),
});

const AuditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  project: z.string().nullable(),
  action: z.enum(AUDIT_ACTIONS),
  target: z.string(),
  summary: z.record(z.string(), z.unknown()),
});

const safeFilename = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, '_');

export const auditRoutes = [
  route({
    method: 'get',
    path: '/runs/:runId/audit',
    operationId: 'getRunAudit',
    summary: "A run's audit trail, from its workflow history (or its run record once closed)",
    description:
      'Ordered events, each with its history event id and time: requested (trigger, actor, version, params ' +
      'with sensitive ones redacted), each step scheduled / started (attempt n) / failed / completed (rows, ' +
      'bytes, duration), cancel requested (by whom), and how the run ended. Temporal records only the last ' +
      "attempt of a retried step as events; that attempt's start names how many failed before it and the " +
      'last failure. `format=jsonl` answers `application/x-ndjson` (one event per line) for export.',
    tag: 'audit',
    scope: 'read',
    params: RunIdParams,
    query: z.object({ format: z.enum(['json', 'jsonl']).default('json') }),
    responses: {
      200: {
        description: 'The audit trail',
        schema: RunAuditTrailSchema,
        alternateContentTypes: ['application/x-ndjson'],
      },
    },
    async handler({ deps, params, query, authorize, res }) {
      const trail = await readAuditTrail(deps, params.runId);
      authorize(trail.project);
      if (query.format === 'jsonl') {
        res
          .type('application/x-ndjson')
          .set('Content-Disposition', `attachment; filename="${safeFilename(trail.runId)}-audit.jsonl"`)
          .send(toJsonLines(trail));
        return;
      }
      res.json(trail);
    },
  }),
  route({
    method: 'get',
    path: '/audit',
    operationId: 'listAuditLog',
    summary: 'The platform audit log, newest first',
    description:
      'Changes to pipelines, schedules, webhooks, secrets (names only), tokens and projects. A token with ' +
      '`admin` on some projects only sees those projects (entries of no project, such as tokens, need ' +
      '`admin` on every project). Entries are append-only: the database refuses to change or delete them.',
    tag: 'audit',
    scope: 'admin',
    query: z.object({
      project: slug.optional(),
      actor: z.string().min(1).max(300).optional(),
      action: z.enum(AUDIT_ACTIONS).optional(),
      from: instant.optional(),
      to: instant.optional(),
      cursor: z
        .string()
        .regex(/^\d{1,18}$/, 'must be the nextCursor of a previous page')
        .optional()
        .meta({ description: 'nextCursor of the previous page' }),
      limit: pageLimit,
    }),
    responses: {
      200: {
        description: 'A page of entries',
        schema: page(AuditEntrySchema),
      },
    },
    async handler({ deps, query, principal, authorize, res }) {
      if (query.from && query.to && query.from >= query.to) {
        const message = 'from must be before to';
        throw badRequest(message, [{ in: 'query', path: 'from', message }]);
      }
      if (query.project) authorize(query.project);
      const reach = projectsWith(principal!.token, 'admin');
      const page = await deps.audit.list({
        ...(query.project ? { project: query.project } : reach !== null ? { projects: reach } : {}),
        ...(query.actor ? { actor: query.actor } : {}),
        ...(query.action ? { action: query.action } : {}),
        ...(query.from ? { from: query.from } : {}),
        ...(query.to ? { to: query.to } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
        limit: query.limit,
      });
      res.json(page);
    },
  }),
];
