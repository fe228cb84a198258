// sink.webhook through real pipeline runs, delivering to a local HTTP receiver on 127.0.0.1 that
// checks signatures the way the doc comment in sign.ts tells receivers to.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { signPayload } from '../src/sink/webhook/sign.js';

const SECRET_NAME = 'hook-secret';
const SECRET = 'shh';

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
  body: { rows: Record<string, unknown>[]; batch: number; runId: string; nodeId: string };
  at: number;
}
interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** Per path: what arrived, and how to answer the n-th delivery (0-based). */
const receivers = new Map<string, { deliveries: Delivery[]; reply: (d: Delivery, n: number) => Reply }>();
let h: Harness;
let server: Server;
let base: string;

beforeAll(async () => {
  h = await startHarness();
  await h.platform.secrets.set('default', SECRET_NAME, SECRET);
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receiver = receivers.get(new URL(req.url ?? '/', base).pathname);
      if (!receiver) {
        res.writeHead(404).end();
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      const delivery: Delivery = { headers: req.headers, raw, body: JSON.parse(raw), at: Date.now() };
      const reply = receiver.reply(delivery, receiver.deliveries.length);
      receiver.deliveries.push(delivery);
      res.writeHead(reply.status, reply.headers).end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await h?.stop();
});

function receiver(path: string, reply: (d: Delivery, n: number) => Reply = () => ({ status: 200 })) {
  const entry = { deliveries: [] as Delivery[], reply };
  receivers.set(path, entry);
  return entry.deliveries;
}

function pipeline(id: string, rows: number, sink: Record<string, unknown>, retry?: { maxAttempts: number }) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    nodes: [
      {
        id: 'numbers',
        type: 'source.generate',
        config: {
          rows,
          columns: [
            { name: 'n', generator: 'sequence' },
            { name: 'label', generator: 'text', prefix: 'row-' },
          ],
        },
      },
      { id: 'deliver', type: 'sink.webhook', config: sink, ...(retry ? { retry } : {}) },
    ],
    edges: [{ from: 'numbers', to: 'deliver' }],
  };
}

/** The receiver's side of sign.ts: recompute, compare in constant time, refuse stale timestamps. */
function verifies(d: Delivery, secret = SECRET): boolean {
  const timestamp = String(d.headers['x-tributary-timestamp']);
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.${d.raw}`).digest('hex')}`,
  );
  const given = Buffer.from(String(d.headers['x-tributary-signature'] ?? ''));
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
  return fresh && given.length === expected.length && timingSafeEqual(given, expected);
}

const uniqueByKey = (deliveries: Delivery[]) => [
  ...new Map(deliveries.map((d) => [d.headers['idempotency-key'], d])).values(),
];
const allRows = (deliveries: Delivery[]) => deliveries.flatMap((d) => d.body.rows.map((r) => r.n));
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('sink.webhook', () => {
  it('delivers every row in ceil(n / batchSize) signed batches', async () => {
    const deliveries = receiver('/all');
    const { runId, status, progress } = await h.run(
      h.plan(
        pipeline('hook-all', 1234, {
          url: `${base}/all`,
          batchSize: 500,
          signingSecret: SECRET_NAME,
          headers: { 'X-Team': 'data' },
        }),
      ),
    );
    expect(status).toBe('succeeded');
    expect(progress?.steps.deliver).toMatchObject({ status: 'succeeded', rowsIn: 1234 });
    expect(deliveries).toHaveLength(3);
    expect(deliveries.map((d) => d.body.batch)).toEqual([1, 2, 3]);
    expect(deliveries.map((d) => d.body.rows.length)).toEqual([500, 500, 234]);
    expect(allRows(deliveries)).toEqual(range(1234));
    expect(deliveries[0]!.body.rows[0]).toEqual({ n: 1, label: 'row-1' });
    for (const d of deliveries) {
      expect(d.body).toMatchObject({ runId, nodeId: 'deliver' });
      expect(d.headers['content-type']).toBe('application/json');
      expect(d.headers['x-team']).toBe('data');
      expect(d.headers['idempotency-key']).toBe(`${runId}:deliver:${d.body.batch}`);
      expect(d.headers['x-tributary-signature']).toBe(
        signPayload(SECRET, String(d.headers['x-tributary-timestamp']), d.raw),
      );
      expect(verifies(d)).toBe(true);
      expect(verifies(d, 'not-the-secret')).toBe(false);
    }
  });

  it('retries a batch that got a 500, and the receiver sees each row once after deduping', async () => {
    // The receiver stores batch 2 and then fails, as a server that crashes before answering would.
    const deliveries = receiver('/flaky', (d) => ({
      status: d.body.batch === 2 && !deliveries.some((x) => x.body.batch === 2) ? 500 : 200,
    }));
    const { status, progress } = await h.run(
      h.plan(
        pipeline('hook-flaky', 1100, {
          url: `${base}/flaky`,
          batchSize: 500,
          signingSecret: SECRET_NAME,
          baseDelayMs: 10,
        }),
      ),
    );
    expect(status).toBe('succeeded');
    expect(progress?.steps.deliver?.attempt).toBe(1);
    expect(deliveries.map((d) => d.body.batch)).toEqual([1, 2, 2, 3]);
    const [first, again] = deliveries.filter((d) => d.body.batch === 2);
    expect(again!.headers['idempotency-key']).toBe(first!.headers['idempotency-key']);
    expect(again!.raw).toBe(first!.raw);
    expect(verifies(again!)).toBe(true);
    const unique = uniqueByKey(deliveries);
    expect(unique).toHaveLength(Math.ceil(1100 / 500));
    expect(allRows(unique)).toEqual(range(1100));
  });

  it('waits as long as Retry-After asks on a 429', async () => {
    const deliveries = receiver('/busy', (_d, n) =>
      n === 0 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 },
    );
    const { status } = await h.run(
      h.plan(pipeline('hook-busy', 10, { url: `${base}/busy`, baseDelayMs: 10 })),
    );
    expect(status).toBe('succeeded');
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(950);
    expect(deliveries[1]!.headers['x-tributary-signature']).toBeUndefined(); // no signingSecret
  });

  it('fails the step on a 400, naming the status and the body, without the secret', async () => {
    const deliveries = receiver('/reject', () => ({
      status: 400,
      body: JSON.stringify({ error: `row 3 is invalid; expected secret ${SECRET}` }),
    }));
    const { status, progress } = await h.run(
      h.plan(
        pipeline(
          'hook-reject',
          5,
          { url: `${base}/reject?token=abc`, signingSecret: SECRET_NAME },
          { maxAttempts: 1 },
        ),
      ),
    );
    expect(status).toBe('failed');
    const error = progress?.steps.deliver?.error ?? '';
    expect(error).toContain('Step "deliver" (sink.webhook): POST');
    expect(error).toContain('/reject?… answered HTTP 400 Bad Request for batch 1 (rows 1–5)');
    expect(error).toContain('row 3 is invalid');
    expect(error).not.toContain(SECRET);
    expect(error).not.toContain('abc');
    expect(deliveries).toHaveLength(1); // a 4xx is not retried
  });

  it('gives up on a batch after maxRetries and leaves the step to Temporal', async () => {
    const deliveries = receiver('/down', () => ({ status: 503, body: 'maintenance' }));
    const { status, progress } = await h.run(
      h.plan(
        pipeline('hook-down', 5, { url: `${base}/down`, maxRetries: 2, baseDelayMs: 10 }, { maxAttempts: 1 }),
      ),
    );
    expect(status).toBe('failed');
    expect(progress?.steps.deliver?.error).toContain(
      'failed for batch 1 (rows 1–5) after 3 attempts: HTTP 503 Service Unavailable: maintenance',
    );
    expect(deliveries).toHaveLength(3);
  });

  it('retries network faults and names them', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { status, progress } = await h.run(
      h.plan(
        pipeline(
          'hook-refused',
          5,
          { url: `http://127.0.0.1:${port}/x`, maxRetries: 1, baseDelayMs: 10 },
          { maxAttempts: 1 },
        ),
      ),
    );
    expect(status).toBe('failed');
    expect(progress?.steps.deliver?.error).toContain('after 2 attempts: ECONNREFUSED');
  });
});
