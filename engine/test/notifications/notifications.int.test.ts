// Notifications on the real stack: runs of saved pipelines on the real Temporal and Postgres, a
// worker with the notifier, the dispatcher delivering to a local HTTP receiver (signed webhook,
// Slack-compatible) and a local SMTP server — each exactly once, also while a receiver is down for a
// while — plus overtime, a stale data product, step retries, a secret bound to another host, the
// test message, and what another project's token can see.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/infra/logger.js';
import type { NotificationRule } from '../../src/model/notifications.schema.js';
import { createSender } from '../../src/notifications/channels.js';
import { startDispatcher, type Dispatcher } from '../../src/notifications/dispatcher.js';
import { Notifier } from '../../src/notifications/notifier.js';
import { startApi, uniq, type ApiHarness } from '../api/api-harness.js';
import { startHarness, TEST_EGRESS, type Harness } from '../harness.js';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver } from './receivers.js';

const PUBLIC_URL = 'http://builder.test';
const SIGNING_KEY = 'whsec_notify_test_key';

let h: Harness;
let api: ApiHarness;
let notifier: Notifier;
let dispatcher: Dispatcher;
let http: HttpReceiver;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;

beforeAll(async () => {
  h = await startHarness({
    // The worker's notifier is made once the platform it reads exists (below).
    notifier: {
      runClosed: (runId) => notifier.runClosed(runId),
      attemptFailed: (failure) => notifier.attemptFailed(failure),
    },
  });
  api = await startApi({ publicUrl: PUBLIC_URL }, h);
  notifier = new Notifier({
    pool: h.platform.platformPool,
    temporal: h.platform.temporal,
    publicUrl: PUBLIC_URL,
    log: silentLogger,
    maxAttempts: 4,
    // A rule's minute lasts 300 ms here, so overtime shows within a test.
    minuteMs: 300,
  });
  dispatcher = startDispatcher({
    notifier,
    send: createSender({
      secrets: (project) => h.platform.secrets.resolverFor(project),
      egress: TEST_EGRESS,
      timeoutMs: 2_000,
    }),
    pool: h.platform.platformPool,
    warehousePool: h.platform.warehousePool,
    log: silentLogger,
    pollMs: 100,
    overtimeCheckMs: 150,
    freshnessCheckMs: 200,
    backoffMs: (attempt) => 250 * attempt,
  });
  http = await startHttpReceiver();
  smtp = await startSmtpReceiver({ user: 'alerts', pass: 's3cret pass' });
});
afterAll(async () => {
  await dispatcher?.stop();
  await http?.close();
  await smtp?.close();
  await api?.stop();
  await h?.stop();
});

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A project with the secrets the channels name (the SMTP URL and Slack URL bound to loopback). */
async function newProject(): Promise<string> {
  const project = uniq('notify');
  expect((await api.call('POST', '/api/projects', { body: { id: project, name: project } })).status).toBe(
    201,
  );
  const secrets: [string, string, string[]][] = [
    ['hook_key', SIGNING_KEY, ['127.0.0.1']],
    ['slack_url', `${http.url}/slack/T000/B000`, ['127.0.0.1']],
    ['smtp', `smtp://alerts:${encodeURIComponent('s3cret pass')}@127.0.0.1:${smtp.port}`, ['127.0.0.1']],
  ];
  for (const [name, value, allowedHosts] of secrets) {
    const put = await api.call('PUT', `/api/projects/${project}/secrets/${name}`, {
      body: { value, allowedHosts },
    });
    expect(put.status, put.text).toBeLessThan(300);
  }
  return project;
}

const webhook = (path: string) => ({
  type: 'webhook' as const,
  url: `${http.url}${path}`,
  signingSecret: 'hook_key',
});
const slack = { type: 'slack' as const, webhookUrlSecret: 'slack_url' };
const email = (to: string) => ({
  type: 'email' as const,
  smtpSecret: 'smtp',
  from: 'tributary@example.com',
  to: [to],
});

function doc(
  project: string,
  id: string,
  sql: string,
  rules: NotificationRule[],
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    project,
    nodes: [
      {
        id: 'load',
        type: 'source.generate',
        config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
      },
      { id: 'shape', type: 'transform.sql', config: { sql }, retry: { maxAttempts: 1 } },
    ],
    edges: [{ from: 'load', to: 'shape' }],
    notifications: { rules },
    ...extra,
  };
}

async function saveAndRun(document: Record<string, unknown>): Promise<{ runId: string }> {
  const saved = await api.call('POST', '/api/pipelines', { body: document });
  expect(saved.status, saved.text).toBe(201);
  const started = await api.call('POST', `/api/pipelines/${document.id as string}/runs`, { body: {} });
  expect(started.status, started.text).toBe(202);
  const runId = started.body.runId as string;
  await h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});
  return { runId };
}

const forPath = (path: string) => http.received.filter((r) => r.path === path);
const settle = () => new Promise((r) => setTimeout(r, 800));

describe('run notifications', () => {
  it('tells each channel once that a run failed: where, the first line of the error, and a link to the run', async () => {
    const project = await newProject();
    const to = `${project}@example.com`;
    const { runId } = await saveAndRun(
      doc(project, uniq('fails'), 'select n / 0 as boom from {{ inputs.load }}', [
        { on: ['failure'], channel: webhook(`/hook/${project}`) },
        { on: ['failure', 'success'], channel: slack },
        { on: ['failure'], channel: email(to) },
        // The same webhook twice: one channel, one delivery.
        { on: ['failure'], channel: webhook(`/hook/${project}`) },
      ]),
    );
    const deliveries = await waitFor('three deliveries', async () => {
      const { body } = await api.call('GET', `/api/runs/${runId}/notifications`);
      const items = body.items as { status: string }[];
      return items.length === 3 && items.every((d) => d.status === 'sent') ? items : undefined;
    });
    await settle();

    const hooks = forPath(`/hook/${project}`);
    expect(hooks).toHaveLength(1);
    const hook = hooks[0]!;
    const body = JSON.parse(hook.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'tributary.notification',
      event: 'failure',
      project,
      run: runId,
      node: 'shape',
      link: `${PUBLIC_URL}/runs/${runId}`,
    });
    expect(body.error).toMatch(/^Step "shape" \(transform\.sql\): division by zero/);
    expect(String(body.error)).not.toContain('\n');
    // Signed as sink.webhook signs: HMAC-SHA256 of "<timestamp>.<body>" with the signing secret.
    const expected = `sha256=${createHmac('sha256', SIGNING_KEY)
      .update(`${String(hook.headers['x-tributary-timestamp'])}.${hook.body}`)
      .digest('hex')}`;
    const given = String(hook.headers['x-tributary-signature']);
    expect(given.length).toBe(expected.length);
    expect(timingSafeEqual(Buffer.from(given), Buffer.from(expected))).toBe(true);
    expect(hook.headers['idempotency-key']).toContain(`${runId}:failure:`);

    const slackPosts = http.received.filter((r) => r.path === '/slack/T000/B000' && r.body.includes(runId));
    expect(slackPosts).toHaveLength(1);
    const text = (JSON.parse(slackPosts[0]!.body) as { text: string }).text;
    expect(text).toContain('failed at step shape');
    expect(text).toContain(`<${PUBLIC_URL}/runs/${runId}|Open in Tributary>`);

    const mails = smtp.mails.filter((m) => m.to.includes(to));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.user).toBe('alerts');
    expect(mails[0]!.raw).toMatch(/Subject: Pipeline \S+ failed at step shape/);
    expect(mails[0]!.raw).toContain('division by zero');
    expect(mails[0]!.raw.replace(/=\r?\n/g, '')).toContain(`${PUBLIC_URL}/runs/${runId}`);

    expect(
      deliveries.map((d) => (d as unknown as { channel: { type: string } }).channel.type).sort(),
    ).toEqual(['email', 'slack', 'webhook']);
    const audit = await api.call('GET', `/api/audit?project=${project}&action=notification.sent`);
    expect(audit.status, audit.text).toBe(200);
    expect(
      (audit.body.items as { target: string }[]).filter((e) => e.target === `run:${runId}`),
    ).toHaveLength(3);
  });

  it("uses the project's defaults for success unless the pipeline opts out", async () => {
    const project = await newProject();
    const put = await api.call('PUT', `/api/projects/${project}/notifications`, {
      body: { rules: [{ on: ['success'], channel: webhook(`/defaults/${project}`) }] },
    });
    expect(put.status, put.text).toBe(200);
    const { runId } = await saveAndRun(doc(project, uniq('ok'), 'select n from {{ inputs.load }}', []));
    const optedOut = await saveAndRun(
      doc(project, uniq('quiet'), 'select n from {{ inputs.load }}', [], {
        notifications: { projectDefaults: false, rules: [] },
      }),
    );
    await waitFor('the success delivery', () =>
      forPath(`/defaults/${project}`).length === 1 ? true : undefined,
    );
    await settle();
    const posts = forPath(`/defaults/${project}`);
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.body)).toMatchObject({ event: 'success', run: runId });
    expect((await api.call('GET', `/api/runs/${optedOut.runId}/notifications`)).body.items).toEqual([]);
  });

  it('keeps trying while the receiver is down, with back-off, and delivers once when it is back', async () => {
    const project = await newProject();
    await http.down();
    let runId: string;
    try {
      ({ runId } = await saveAndRun(
        doc(project, uniq('down'), 'select n / 0 from {{ inputs.load }}', [
          { on: ['failure'], channel: webhook(`/down/${project}`) },
        ]),
      ));
      // The run ended at once, whatever the channel does.
      expect((await api.call('GET', `/api/runs/${runId}`)).body.status).toBe('failed');
      await waitFor('a failed attempt', async () => {
        const { body } = await api.call('GET', `/api/runs/${runId}/notifications`);
        return body.items[0]?.attempts >= 2 ? true : undefined;
      });
    } finally {
      await http.up();
    }
    const delivered = await waitFor('the delivery', async () => {
      const { body } = await api.call('GET', `/api/runs/${runId}/notifications`);
      return body.items[0]?.status === 'sent' ? body.items[0] : undefined;
    });
    await settle();
    expect(delivered.attempts).toBeGreaterThanOrEqual(3);
    expect(forPath(`/down/${project}`)).toHaveLength(1);
  });

  it('gives up after its tries and records the failure in the audit log; 503s count as tries', async () => {
    const project = await newProject();
    http.failNext(100);
    try {
      const { runId } = await saveAndRun(
        doc(project, uniq('gives-up'), 'select n / 0 from {{ inputs.load }}', [
          { on: ['failure'], channel: webhook(`/busy/${project}`) },
        ]),
      );
      const failed = await waitFor('the failed delivery', async () => {
        const { body } = await api.call('GET', `/api/runs/${runId}/notifications`);
        return body.items[0]?.status === 'failed' ? body.items[0] : undefined;
      });
      expect(failed).toMatchObject({ attempts: 4, maxAttempts: 4 });
      expect(failed.lastError).toContain('answered 503: busy');
      const audit = await api.call('GET', `/api/audit?project=${project}&action=notification.failed`);
      expect(audit.body.items[0]).toMatchObject({
        target: `run:${runId}`,
        summary: { event: 'failure', channel: 'webhook', attempts: 4 },
      });
    } finally {
      http.failNext(0);
    }
  });

  it('refuses a secret bound to another host: the delivery fails at once and nothing is sent', async () => {
    const project = await newProject();
    await api.call('PUT', `/api/projects/${project}/secrets/smtp`, {
      body: { value: `smtp://alerts:x@127.0.0.1:${smtp.port}`, allowedHosts: ['mail.example.com'] },
    });
    const to = `${project}@example.com`;
    const { runId } = await saveAndRun(
      doc(project, uniq('bound'), 'select n / 0 from {{ inputs.load }}', [
        { on: ['failure'], channel: email(to) },
      ]),
    );
    const failed = await waitFor('the refused delivery', async () => {
      const { body } = await api.call('GET', `/api/runs/${runId}/notifications`);
      return body.items[0]?.status === 'failed' ? body.items[0] : undefined;
    });
    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toBe(
      'secret "smtp" may only be sent to mail.example.com, not to 127.0.0.1; add the host to the secret\'s allowed hosts if it should go there',
    );
    expect(smtp.mails.filter((m) => m.to.includes(to))).toEqual([]);
  });

  it('tells once that a step is retried', async () => {
    const project = await newProject();
    // A source that answers 503 first: the step fails, is retried, then succeeds.
    http.failNext(1);
    const id = uniq('retried');
    const document = {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      project,
      nodes: [
        {
          id: 'fetch',
          type: 'source.http',
          // One request per attempt: the 503 fails the attempt, and Temporal tries the step again.
          config: { url: `${http.url}/data.json`, retry: { attempts: 1 } },
          retry: { maxAttempts: 3, initialIntervalSeconds: 0.2 },
        },
      ],
      edges: [],
      notifications: { rules: [{ on: ['retry'], channel: webhook(`/retry/${project}`) }] },
    };
    const { runId } = await saveAndRun(document);
    await waitFor('the retry delivery', () => (forPath(`/retry/${project}`).length === 1 ? true : undefined));
    await settle();
    const posts = forPath(`/retry/${project}`);
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.body)).toMatchObject({ event: 'retry', run: runId, node: 'fetch' });
    expect(JSON.parse(posts[0]!.body).text).toContain('failed on attempt 1 of 3 and will be tried again');
  });
});

describe('the guarded-load-with-alerts template', () => {
  it('made from the template, routes a short file past the publish and alerts once, signed, when a run fails', async () => {
    const project = await newProject();
    await api.call('PUT', `/api/projects/${project}/secrets/alert-signing-key`, {
      body: { value: SIGNING_KEY, allowedHosts: ['127.0.0.1'] },
    });
    const folder = path.join(h.dataDir, project, 'imports');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'orders.csv'), 'order_id,amount\n1,2.50\n');
    const pipelineId = uniq('guarded');
    const made = await api.call('POST', '/api/templates/guarded-load-with-alerts/instantiate', {
      body: {
        project,
        pipelineId,
        values: {
          path: 'imports/orders.csv',
          target_table: 'orders',
          min_rows: 2,
          alert_url: `${http.url}/alerts/${project}`,
        },
      },
    });
    expect(made.status, made.text).toBe(201);
    const run = async () => {
      const started = await api.call('POST', `/api/pipelines/${pipelineId}/runs`, { body: {} });
      expect(started.status, started.text).toBe(202);
      const runId = started.body.runId as string;
      await h.platform.temporal.workflow
        .getHandle(runId)
        .result()
        .catch(() => {});
      return (await api.call('GET', `/api/runs/${runId}`)).body as {
        runId: string;
        status: string;
        steps: Record<string, { status: string; skippedBecause?: string }>;
      };
    };
    const short = await run();
    expect(short.status).toBe('succeeded');
    expect(short.steps.publish).toMatchObject({ status: 'skipped' });
    expect(short.steps.publish!.skippedBecause).toContain('steps.load.rowsOut >= params.min_rows is false');

    writeFileSync(path.join(folder, 'orders.csv'), 'order_id,amount\n1,"2.50\n');
    const broken = await run();
    expect(broken.status).toBe('failed');
    await waitFor('the alert', () => (forPath(`/alerts/${project}`).length > 0 ? true : undefined));
    await settle();
    const alerts = forPath(`/alerts/${project}`);
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(JSON.parse(alert.body)).toMatchObject({
      event: 'failure',
      pipeline: pipelineId,
      run: broken.runId,
      node: 'load',
      link: `${PUBLIC_URL}/runs/${broken.runId}`,
    });
    const signature = `sha256=${createHmac('sha256', SIGNING_KEY)
      .update(`${String(alert.headers['x-tributary-timestamp'])}.${alert.body}`)
      .digest('hex')}`;
    expect(alert.headers['x-tributary-signature']).toBe(signature);
  });
});

describe('overtime and stale products', () => {
  it("tells once that a run is still running after the rule's minutes", async () => {
    const project = await newProject();
    const { runId } = await saveAndRun(
      doc(project, uniq('slow'), 'select n, (select pg_sleep(2)) is null as slept from {{ inputs.load }}', [
        // A "minute" is 300 ms in this test: overtime after 0.3 s; the run takes over 2 s.
        { on: ['overtime'], overtimeMinutes: 1, channel: webhook(`/overtime/${project}`) },
      ]),
    );
    const run = await api.call('GET', `/api/runs/${runId}`);
    expect(Date.parse(run.body.endedAt as string) - Date.parse(run.body.startedAt as string)).toBeGreaterThan(
      2_000,
    );
    await waitFor('the overtime delivery', () =>
      forPath(`/overtime/${project}`).length > 0 ? true : undefined,
    );
    await settle();
    const posts = forPath(`/overtime/${project}`);
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.body)).toMatchObject({ event: 'overtime', run: runId });
    expect(JSON.parse(posts[0]!.body).text).toContain('is still running after 1 minute');
  });

  it('tells once that a data product went stale, from a freshness check of its own', async () => {
    const project = await newProject();
    await api.call('PUT', `/api/projects/${project}/notifications`, {
      body: { rules: [{ on: ['stale'], channel: webhook(`/stale/${project}`) }] },
    });
    const id = uniq('orders');
    await saveAndRun({
      apiVersion: 'tributary/v1',
      id,
      name: id,
      project,
      nodes: [
        {
          id: 'load',
          type: 'source.generate',
          config: { rows: 2, columns: [{ name: 'n', generator: 'sequence' }] },
        },
        { id: 'out', type: 'sink.postgres', config: { table: 'orders', mode: 'replace' } },
      ],
      edges: [{ from: 'load', to: 'out' }],
    });
    const product = uniq('orders');
    const published = await api.call('POST', `/api/projects/${project}/products`, {
      // Fresh for about a third of a second after each publish.
      body: {
        id: product,
        table: `${projectSchemaName(project)}.orders`,
        name: 'Orders',
        freshness: { maxAgeHours: 0.0001 },
      },
    });
    expect(published.status, published.text).toBe(201);
    await waitFor('the stale delivery', () => (forPath(`/stale/${project}`).length === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1_000)); // several more freshness checks
    const posts = forPath(`/stale/${project}`);
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]!.body)).toMatchObject({
      event: 'stale',
      product,
      pipeline: id,
      link: `${PUBLIC_URL}/catalog/${product}`,
    });
  });
});

describe('the API', () => {
  it('sends a test message to a channel and reports how it went', async () => {
    const project = await newProject();
    const queued = await api.call('POST', `/api/projects/${project}/notifications/test`, {
      body: { channel: slack },
    });
    expect(queued.status, queued.text).toBe(202);
    expect(queued.body).toMatchObject({ status: 'pending', event: 'test' });
    const done = await waitFor('the test delivery', async () => {
      const { body } = await api.call(
        'GET',
        `/api/projects/${project}/notifications/deliveries/${queued.body.id}`,
      );
      return body.status === 'pending' ? undefined : body;
    });
    expect(done).toMatchObject({ status: 'sent', attempts: 1 });
    expect(
      http.received.filter((r) => r.path === '/slack/T000/B000' && r.body.includes('Test message')),
    ).not.toEqual([]);
  });

  it('refuses rules that name secrets the project lacks, naming the field', async () => {
    const project = await newProject();
    const put = await api.call('PUT', `/api/projects/${project}/notifications`, {
      body: { rules: [{ on: ['failure'], channel: { ...slack, webhookUrlSecret: 'nope' } }] },
    });
    expect(put.status).toBe(400);
    expect(put.headers.get('content-type')).toContain('application/problem+json');
    expect(put.body.errors).toEqual([
      expect.objectContaining({
        path: 'rules[0].channel.webhookUrlSecret',
        message: 'secret "nope" does not exist in the project; add it under Settings → Secrets',
      }),
    ]);
    const overtime = await api.call('PUT', `/api/projects/${project}/notifications`, {
      body: { rules: [{ on: ['overtime'], channel: slack }] },
    });
    expect(overtime.status).toBe(400);
    expect(JSON.stringify(overtime.body.errors)).toContain('overtimeMinutes');
  });

  it("keeps a project's notifications from other projects' tokens", async () => {
    const project = await newProject();
    const { runId } = await saveAndRun(
      doc(project, uniq('private'), 'select n / 0 from {{ inputs.load }}', [
        { on: ['failure'], channel: webhook(`/private/${project}`) },
      ]),
    );
    const other = await api.token(['admin'], [uniq('elsewhere')]);
    for (const [method, path, body] of [
      ['GET', `/api/projects/${project}/notifications`, undefined],
      ['PUT', `/api/projects/${project}/notifications`, { rules: [] }],
      ['POST', `/api/projects/${project}/notifications/test`, { channel: slack }],
      ['GET', `/api/runs/${runId}/notifications`, undefined],
    ] as const) {
      const reply = await api.call(method, path, { token: other, ...(body ? { body } : {}) });
      expect([403, 404], `${method} ${path}`).toContain(reply.status);
    }
    const anonymous = await api.call('GET', `/api/runs/${runId}/notifications`, { token: null });
    expect(anonymous.status).toBe(401);
    // A delivery id of this project, asked for under another project the token may read: not found.
    // Asked again until the dispatcher has queued the delivery (it may not have when the run ends).
    const delivery = await waitFor('a delivery', async () => {
      const own = await api.call('GET', `/api/runs/${runId}/notifications`);
      return own.body.items[0];
    });
    const deliveryId = delivery.id as number;
    const mine = uniq('mine');
    await api.call('POST', '/api/projects', { body: { id: mine, name: mine } });
    const cross = await api.call('GET', `/api/projects/${mine}/notifications/deliveries/${deliveryId}`);
    expect(cross.status).toBe(404);
  });

  it('refuses a pipeline whose condition cannot be evaluated, naming the node and field', async () => {
    const project = await newProject();
    const id = uniq('bad-if');
    const document = {
      apiVersion: 'tributary/v1',
      id,
      name: 'bad if',
      project,
      nodes: [
        {
          id: 'load',
          type: 'source.generate',
          config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
        },
        { id: 'check', type: 'flow.if', config: { condition: 'steps.load.rowsOut > "many"' } },
        { id: 'next', type: 'transform.sql', config: { sql: 'select 1 as one' } },
      ],
      edges: [
        { from: 'load', to: 'check' },
        { from: 'check', to: 'next', output: 'true' },
      ],
    };
    const refusal = expect.objectContaining({
      nodeId: 'check',
      path: 'nodes[1].config.condition',
      message:
        'Node "check", field "condition": cannot compare a number with a string using ">" (at column 20)',
    });
    // Validation (the builder's, while typing) and the save both say what is wrong...
    const validated = await api.call('POST', '/api/pipelines/validate', { body: document });
    expect(validated.body).toMatchObject({ valid: false, errors: [refusal] });
    const saved = await api.call('POST', '/api/pipelines', { body: document });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ valid: false, errors: [refusal] });
    // ...and a run is refused with a problem naming node and field.
    const run = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    expect(run.status).toBe(400);
    expect(run.headers.get('content-type')).toContain('application/problem+json');
    expect(run.body.errors).toEqual([refusal]);
  });
});
