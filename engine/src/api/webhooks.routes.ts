// Inbound webhooks: a pipeline's trigger URL with its own token (shown once). A call with the
// token starts a run, taking the JSON body's keys that are declared params; each hook is rate
// limited, and a wrong token is 401 and starts nothing.
import { z } from 'zod';
import { bearerToken } from './auth.js';
import { badRequest, HttpProblem, notFound } from './problem.js';
import { route } from './route.js';
import { startPipelineRun } from '../runs/start-run.js';
import { runLinks } from './run-view.js';
import { IdempotencyHeaders, page, PipelineIdParams, RunStartedSchema } from './schemas.js';

const WebhookSchema = z.object({
  id: z.string(),
  pipelineId: z.string(),
  name: z.string().nullable(),
  url: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});

const tooOften = (hookId: string, retryAfterSeconds: number, how: string) =>
  new HttpProblem(
    429,
    'Too Many Requests',
    `Webhook "${hookId}" is called too often${how ? ` ${how}` : ''}; retry in ${retryAfterSeconds} s`,
    [],
    { 'Retry-After': String(retryAfterSeconds) },
  );

const HookParams = z.object({ hookId: z.string().regex(/^hk_[a-z0-9]{1,64}$/, 'is not a webhook id') });

export const webhookRoutes = [
  route({
    method: 'post',
    path: '/pipelines/:id/webhooks',
    operationId: 'createWebhook',
    summary: 'Create an inbound webhook that starts runs',
    description: 'The token is in this response only; it is stored as a hash.',
    tag: 'webhooks',
    scope: 'write',
    alsoNeeds: ['run'],
    params: PipelineIdParams,
    body: z.strictObject({ name: z.string().min(1).max(200).optional() }).default({}),
    responses: {
      201: { description: 'Created', schema: WebhookSchema.extend({ token: z.string() }) },
    },
    async handler({ deps, params, body, actor, authorize, req, res }) {
      const pipeline = await deps.pipelines.require(params.id);
      authorize(pipeline.project);
      const { webhook, token } = await deps.webhooks.create(pipeline.id, body.name ?? null, actor);
      await deps.audit.record({
        actor,
        project: pipeline.project,
        action: 'webhook.created',
        target: `webhook:${webhook.id}`,
        summary: { pipelineId: pipeline.id, name: webhook.name },
      });
      const base = deps.publicUrl ?? `${req.protocol}://${req.get('host')}`;
      res.status(201).json({ ...webhook, url: `${base}/api/hooks/${webhook.id}`, token });
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id/webhooks',
    operationId: 'listWebhooks',
    summary: "A pipeline's webhooks (without tokens)",
    tag: 'webhooks',
    scope: 'read',
    params: PipelineIdParams,
    responses: { 200: { description: 'The webhooks', schema: page(WebhookSchema) } },
    async handler({ deps, params, authorize, req, res }) {
      const pipeline = await deps.pipelines.require(params.id);
      authorize(pipeline.project);
      const base = deps.publicUrl ?? `${req.protocol}://${req.get('host')}`;
      const items = (await deps.webhooks.list(pipeline.id)).map((w) => ({
        ...w,
        url: `${base}/api/hooks/${w.id}`,
      }));
      res.json({ items, nextCursor: null });
    },
  }),
  route({
    method: 'delete',
    path: '/pipelines/:id/webhooks/:hookId',
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook; its URL stops working',
    tag: 'webhooks',
    scope: 'write',
    params: PipelineIdParams.extend(HookParams.shape),
    responses: { 204: { description: 'Deleted' } },
    async handler({ deps, params, actor, authorize, res }) {
      const pipeline = await deps.pipelines.require(params.id);
      authorize(pipeline.project);
      if (!(await deps.webhooks.delete(pipeline.id, params.hookId)))
        throw notFound(`Webhook "${params.hookId}"`);
      await deps.audit.record({
        actor,
        project: pipeline.project,
        action: 'webhook.deleted',
        target: `webhook:${params.hookId}`,
        summary: { pipelineId: pipeline.id },
      });
      res.status(204).end();
    },
  }),
  route({
    method: 'post',
    path: '/hooks/:hookId',
    operationId: 'callWebhook',
    summary: 'Start a run through a webhook',
    description:
      'Authenticated by the webhook token (`Authorization: Bearer <token>` or `?token=`), not an API token. ' +
      "The JSON body's keys that are declared params of the pipeline become run params; others are ignored. " +
      'Rate limited per webhook (default 60 a minute): 429 with Retry-After. Calls with a wrong token are ' +
      'counted apart (same default), so they cannot use up the calls of the caller with the right one.',
    tag: 'webhooks',
    scope: null,
    params: HookParams,
    query: z.object({ token: z.string().max(200).optional() }),
    headers: IdempotencyHeaders,
    body: z.unknown().meta({ description: 'A JSON object; its declared params start the run' }),
    responses: {
      202: { description: 'Started', schema: RunStartedSchema },
      200: { description: 'The run this Idempotency-Key already started', schema: RunStartedSchema },
    },
    problems: [401, 429],
    async handler({ deps, params, query, headers, body, req, res }) {
      const hookId = params.hookId;
      if (!(await deps.webhooks.exists(hookId))) throw notFound(`Webhook "${hookId}"`);
      // Failed authentications have a bucket of their own, so wrong tokens (a guesser's, say) are
      // throttled without using up the calls of the caller who has the right one.
      const webhook = await deps.webhooks.verify(hookId, bearerToken(req) ?? query.token);
      if (!webhook) {
        const guesses = deps.hookAuthFailures.take(hookId);
        if (!guesses.ok) throw tooOften(hookId, guesses.retryAfterSeconds, 'with wrong tokens');
        throw new HttpProblem(401, 'Unauthorized', `Wrong or missing token for webhook "${hookId}"`, [], {
          'WWW-Authenticate': 'Bearer realm="tributary-webhook"',
        });
      }
      const allowed = deps.hookLimits.take(hookId);
      if (!allowed.ok) throw tooOften(hookId, allowed.retryAfterSeconds, '');
      if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
        throw badRequest('The webhook body must be a JSON object (its declared params start the run)', [
          { in: 'body', message: 'body: expected a JSON object' },
        ]);
      }
      const pipeline = await deps.pipelines.get(webhook.pipelineId);
      if (!pipeline) throw notFound(`Pipeline "${webhook.pipelineId}" of webhook "${hookId}"`);
      const declared = pipeline.current.document.params;
      const runParams = Object.fromEntries(
        Object.entries((body ?? {}) as Record<string, unknown>).filter(([key]) =>
          Object.hasOwn(declared, key),
        ),
      );
      const started = await startPipelineRun(deps, {
        pipeline,
        params: runParams,
        trigger: { type: 'webhook', actor: `webhook:${hookId}` },
        ...(headers['idempotency-key'] ? { idempotencyKey: headers['idempotency-key'] } : {}),
      });
      res.status(started.created ? 202 : 200).json({ ...started, links: runLinks(started.runId) });
    },
  }),
];
