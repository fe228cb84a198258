// Notifications: a project's default rules, "send a test message" to a channel, and the delivery
// record of a run. A pipeline's own rules are part of its document (saved with it).
import { z } from 'zod';
import {
  ChannelSchema,
  NotificationRuleSchema,
  ProjectNotificationsSchema,
} from '../model/notifications.schema.js';
import { Notifier } from '../notifications/notifier.js';
import {
  missingSecrets,
  readProjectRules,
  writeProjectRules,
} from '../notifications/project-notifications.js';
import type { ApiContext } from './context.js';
import { badRequest, notFound } from './problem.js';
import { route } from './route.js';
import { ProjectParams, RunIdParams } from './schemas.js';

const DeliverySchema = z.object({
  id: z.number().int(),
  project: z.string(),
  pipelineId: z.string().nullable(),
  runId: z.string().nullable(),
  productId: z.string().nullable(),
  event: z.string().meta({ description: 'failure, success, overtime, retry, stale or test' }),
  channel: z.object({ type: z.enum(['webhook', 'slack', 'email']), target: z.string() }),
  title: z.string(),
  status: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
});

const RulesSchema = z.object({ rules: z.array(NotificationRuleSchema) });

async function secretNames(deps: ApiContext, project: string): Promise<string[] | undefined> {
  return deps.secrets ? (await deps.secrets.list(project)).map((s) => s.name) : undefined;
}

function notifierOf(deps: ApiContext): Notifier {
  return new Notifier({
    pool: deps.pool,
    temporal: deps.temporal,
    publicUrl: deps.publicUrl ?? '',
    log: deps.log,
  });
}

export const notificationRoutes = [
  route({
    method: 'get',
    path: '/projects/:project/notifications',
    operationId: 'getProjectNotifications',
    summary: "A project's default notification rules",
    description:
      'Every pipeline of the project gets these rules besides its own, unless it sets projectDefaults: false.',
    tag: 'notifications',
    scope: 'read',
    params: ProjectParams,
    responses: { 200: { description: 'The rules', schema: RulesSchema } },
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      res.json({ rules: await readProjectRules(deps.pool, params.project) });
    },
  }),
  route({
    method: 'put',
    path: '/projects/:project/notifications',
    operationId: 'putProjectNotifications',
    summary: "Replace a project's default notification rules",
    description:
      'Each channel names project secrets (never values); a secret that does not exist is a 400 naming the field.',
    tag: 'notifications',
    scope: 'write',
    params: ProjectParams,
    body: ProjectNotificationsSchema,
    responses: { 200: { description: 'The rules as stored', schema: RulesSchema } },
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      const known = await secretNames(deps, params.project);
      const missing = known ? missingSecrets(body.rules, known) : [];
      if (missing.length > 0) {
        throw badRequest(
          `${missing.length} secret${missing.length === 1 ? '' : 's'} named by the rules do${missing.length === 1 ? 'es' : ''} not exist in project ${params.project}`,
          missing.map((m) => ({ in: 'body' as const, ...m })),
        );
      }
      await writeProjectRules(deps.pool, params.project, body.rules, actor);
      await deps.audit.record({
        actor,
        project: params.project,
        action: 'notifications.changed',
        target: `project:${params.project}`,
        summary: { rules: body.rules.length, events: [...new Set(body.rules.flatMap((r) => r.on))].sort() },
      });
      res.json({ rules: body.rules });
    },
  }),
  route({
    method: 'post',
    path: '/projects/:project/notifications/test',
    operationId: 'sendTestNotification',
    summary: 'Send a test message to a channel',
    description:
      'Queues one message for the channel; a worker delivers it (once, no retries). Poll the delivery for how it went.',
    tag: 'notifications',
    scope: 'write',
    params: ProjectParams,
    body: z.strictObject({
      channel: ChannelSchema,
      pipelineId: z
        .string()
        .max(63)
        .optional()
        .meta({ description: 'The pipeline whose settings the test is from' }),
    }),
    responses: { 202: { description: 'The queued delivery', schema: DeliverySchema } },
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      const known = await secretNames(deps, params.project);
      const missing = known
        ? missingSecrets([{ on: ['failure'], channel: body.channel }], known, 'body')
        : [];
      if (missing.length > 0) {
        throw badRequest(
          missing[0]!.message,
          missing.map((m) => ({
            in: 'body' as const,
            path: m.path.replace(/^body\[0\]\./, ''),
            message: m.message,
          })),
        );
      }
      const notifier = notifierOf(deps);
      const id = await notifier.sendTest(params.project, body.channel, actor, body.pipelineId ?? null);
      res.status(202).json((await notifier.outbox.get(id))!);
    },
  }),
  route({
    method: 'get',
    path: '/projects/:project/notifications/deliveries/:id',
    operationId: 'getNotificationDelivery',
    summary: 'One delivery: pending, sent, or failed after its tries',
    tag: 'notifications',
    scope: 'read',
    params: ProjectParams.extend({ id: z.coerce.number().int().positive() }),
    responses: { 200: { description: 'The delivery', schema: DeliverySchema } },
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      const delivery = await notifierOf(deps).outbox.get(params.id);
      // Another project's delivery is not there, as far as this project can tell.
      if (!delivery || delivery.project !== params.project) throw notFound(`Delivery ${params.id}`);
      res.json(delivery);
    },
  }),
  route({
    method: 'get',
    path: '/runs/:runId/notifications',
    operationId: 'getRunNotifications',
    summary: "A run's notifications: each event and channel, and how its delivery went",
    tag: 'runs',
    scope: 'read',
    params: RunIdParams,
    responses: {
      200: { description: 'The deliveries', schema: z.object({ items: z.array(DeliverySchema) }) },
    },
    async handler({ deps, params, authorize, res }) {
      const run = await deps.runs.get(params.runId);
      authorize(run.project);
      res.json({ items: await notifierOf(deps).outbox.forRun(params.runId) });
    },
  }),
];
