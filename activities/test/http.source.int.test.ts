// source.http through real pipeline runs against a fresh local HTTP server per test: every
// pagination style, the three kinds of auth (and the secret never surfacing), retries of 5xx and
// 429 inside the step, and the failures a user must be able to read.
import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import {
  onePipeline,
  sendJson,
  startServer,
  stepHistory,
  tableRows,
  type Handler,
  type SeenRequest,
  type TestServer,
} from './source-test-utils.js';

const SECRET_VALUE = 'secret-value';
let h: Harness;
let server: TestServer | undefined;

beforeAll(async () => {
  h = await startHarness();
  await h.platform.secrets.set('default', 'api-token', SECRET_VALUE);
  await h.platform.secrets.set('default', 'api-basic', `alice:${SECRET_VALUE}`);
});
afterAll(async () => h?.stop());
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(handler: Handler): Promise<TestServer> {
  server = await startServer(handler);
  return server;
}

/** Fast in-step retries, so failure paths take milliseconds. */
const fastRetry = { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 };
const noRetry = { retry: { maxAttempts: 1 } };

async function runHttp(
  id: string,
  config: Record<string, unknown>,
  node: Record<string, unknown> = {},
  params?: { declared: Record<string, unknown>; values: Record<string, unknown> },
) {
  const plan = h.plan(onePipeline(id, 'source.http', config, node, params?.declared ?? {}), params?.values);
  const run = await h.run(plan);
  return { ...run, step: run.progress?.steps.src };
}

async function ids(runId: string, pipelineId: string): Promise<number[]> {
  const rows = await tableRows(h, runId, pipelineId, 'id');
  return rows.map((r) => Number(r.id));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const ALL = range(1, 25);

describe('source.http pagination', () => {
  it('none: one request, the response is the array', async () => {
    const s = await serve((_req, res) => sendJson(res, [{ id: 1 }, { id: 2 }]));
    const { runId, status } = await runHttp('http-none', { url: `${s.url}/items` });
    expect(status).toBe('succeeded');
    expect(await ids(runId, 'http-none')).toEqual([1, 2]);
    expect(s.requests).toHaveLength(1);
  });

  it('page: numbered pages until one is shorter than the page size', async () => {
    const s = await serve((req, res) => {
      const page = Number(req.query.get('p'));
      const size = Number(req.query.get('per_page'));
      sendJson(res, { data: ALL.slice((page - 1) * size, page * size).map((id) => ({ id })) });
    });
    const { runId, status } = await runHttp('http-page', {
      url: `${s.url}/items`,
      recordsPath: 'data',
      pagination: { type: 'page', param: 'p', start: 1, sizeParam: 'per_page', size: 10 },
    });
    expect(status).toBe('succeeded');
    expect(await ids(runId, 'http-page')).toEqual(ALL);
    expect(s.requests.map((r) => r.query.get('p'))).toEqual(['1', '2', '3']);
  });

  it('page: without a size, stops on the first empty page', async () => {
    const s = await serve((req, res) => {
      const page = Number(req.query.get('page'));
      sendJson(
        res,
        ALL.slice((page - 1) * 10, page * 10).map((id) => ({ id })),
      );
    });
    const { runId, status } = await runHttp('http-page-empty', {
      url: `${s.url}/items`,
      pagination: { type: 'page' },
    });
    expect(status).toBe('succeeded');
    expect(await ids(runId, 'http-page-empty')).toEqual(ALL);
    expect(s.requests).toHaveLength(4);
  });

  it('offset: offset and limit until a short page', async () => {
    const s = await serve((req, res) => {
      const offset = Number(req.query.get('offset'));
      const limit = Number(req.query.get('limit'));
      sendJson(res, { results: ALL.slice(offset, offset + limit).map((id) => ({ id })) });
    });
    const { runId, status } = await runHttp('http-offset', {
      url: `${s.url}/items`,
      recordsPath: 'results',
      pagination: { type: 'offset', param: 'offset', limitParam: 'limit', limit: 10 },
    });
    expect(status).toBe('succeeded');
    expect(await ids(runId, 'http-offset')).toEqual(ALL);
    expect(s.requests.map((r) => r.query.get('offset'))).toEqual(['0', '10', '20']);
  });

  it('cursor: follows next_cursor until it is empty', async () => {
    const s = await serve((req, res) => {
      const start = Number(req.query.get('cursor') ?? '0');
      const next = start + 10 < ALL.length ? String(start + 10) : null;
      sendJson(res, { items: ALL.slice(start, start + 10).map((id) => ({ id })), meta: { next } });
    });
    const { runId, status } = await runHttp('http-cursor', {
      url: `${s.url}/items`,
      recordsPath: 'items',
      pagination: { type: 'cursor', param: 'cursor', cursorPath: 'meta.next' },
    });
    expect(status).toBe('succeeded');
    expect(await ids(runId, 'http-cursor')).toEqual(ALL);
    expect(s.requests.map((r) => r.query.get('cursor'))).toEqual([null, '10', '20']);
  });

  it('link: follows the RFC 8288 rel="next" header, relative or absolute', async () => {
    const s = await serve((req, res) => {
      const page = Number(req.query.get('page') ?? '1');
      const links = [`<${s.url}/items?page=1>; rel="first"`];
      if (page * 10 < ALL.length) links.push(`</items?page=${page + 1}>; rel="next"`);
      sendJson(
        res,
        ALL.slice((page - 1) * 10, page * 10).map((id) => ({ id })),
        200,
        { link: links.join(', ') },
      );
    });
    const { runId, status } = await runHttp('http-link', {
      url: `${s.url}/items`,
      pagination: { type: 'link' },
    });
    expect(status).toBe('succeeded');
    expect(await ids(runId, 'http-link')).toEqual(ALL);
    expect(s.requests).toHaveLength(3);
  });

  it('next_url: follows the next URL in the body until it is null', async () => {
    const s = await serve((req, res) => {
      const page = Number(req.query.get('page') ?? '1');
      const next = page * 10 < ALL.length ? `${s.url}/items?page=${page + 1}` : null;
      sendJson(res, { results: ALL.slice((page - 1) * 10, page * 10).map((id) => ({ id })), next });
    });
    const { runId, status } = await runHttp('http-next-url', {
      url: `${s.url}/items`,
      recordsPath: 'results',
      pagination: { type: 'next_url', nextUrlPath: 'next' },
    });
    expect(status).toBe('succeeded');
    expect(await ids(runId, 'http-next-url')).toEqual(ALL);
  });

  it('stops at maxPages with a note, not an error', async () => {
    const s = await serve((req, res) => {
      const page = Number(req.query.get('page'));
      sendJson(res, [{ id: page * 2 - 1 }, { id: page * 2 }]); // never ends
    });
    const { runId, status, step } = await runHttp('http-max-pages', {
      url: `${s.url}/items`,
      pagination: { type: 'page' },
      maxPages: 3,
    });
    expect(status).toBe('succeeded');
    expect(step?.rowsOut).toBe(6);
    expect(s.requests).toHaveLength(3);
    const { result } = await stepHistory(h, runId);
    expect(result?.notes).toEqual([
      'stopped after maxPages (3) pages with 6 rows; the API had more pages: raise maxPages to read them',
    ]);
  });

  it('fails instead of looping when a cursor repeats', async () => {
    const s = await serve((_req, res) => sendJson(res, { items: [{ id: 1 }], next: 'same' }));
    const { status, step } = await runHttp(
      'http-cursor-loop',
      { url: `${s.url}/items`, recordsPath: 'items', pagination: { type: 'cursor', cursorPath: 'next' } },
      noRetry,
    );
    expect(status).toBe('failed');
    expect(step?.error).toContain('pagination loops');
    expect(s.requests).toHaveLength(2);
  });
});

describe('source.http requests', () => {
  it('sends query params with {{ params.x }} URL-encoded, custom headers, and a POST body', async () => {
    const s = await serve((_req, res) => sendJson(res, { rows: [{ id: 1 }] }));
    const { status } = await runHttp(
      'http-post',
      {
        url: `${s.url}/search`,
        method: 'POST',
        headers: { 'X-Client': 'tributary {{ params.region }}' },
        query: { q: '{{ params.term }}', fixed: 7 },
        body: { term: '{{ params.term }}', limit: '{{ params.limit }}', nested: ['in {{ params.region }}'] },
        recordsPath: 'rows',
      },
      {},
      {
        declared: { term: { type: 'string' }, region: { type: 'string' }, limit: { type: 'integer' } },
        values: { term: 'a&b c/d?', region: 'eu', limit: 5 },
      },
    );
    expect(status).toBe('succeeded');
    const req = s.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.query.get('q')).toBe('a&b c/d?');
    expect(req.query.get('fixed')).toBe('7');
    expect(req.url).not.toContain('a&b');
    expect(req.headers['x-client']).toBe('tributary eu');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({ term: 'a&b c/d?', limit: 5, nested: ['in eu'] });
  });
});

describe('source.http auth', () => {
  const cases: [string, Record<string, unknown>, (req: SeenRequest) => string | undefined, string][] = [
    [
      'bearer',
      { type: 'bearer', secret: 'api-token' },
      (r) => r.headers.authorization,
      `Bearer ${SECRET_VALUE}`,
    ],
    [
      'basic',
      { type: 'basic', secret: 'api-basic' },
      (r) => r.headers.authorization,
      `Basic ${Buffer.from(`alice:${SECRET_VALUE}`).toString('base64')}`,
    ],
    [
      'header',
      { type: 'header', name: 'X-Api-Key', secret: 'api-token' },
      (r) => r.headers['x-api-key'] as string | undefined,
      SECRET_VALUE,
    ],
  ];

  for (const [kind, auth, sent, expected] of cases) {
    it(`${kind}: sends the secret, which stays out of the step's result`, async () => {
      const s = await serve((req, res) =>
        sent(req) === expected ? sendJson(res, [{ id: 1 }]) : sendJson(res, { error: 'unauthorized' }, 401),
      );
      const id = `http-auth-${kind}`;
      const { runId, status } = await runHttp(id, { url: `${s.url}/me`, auth });
      expect(status).toBe('succeeded');
      expect(sent(s.requests[0]!)).toBe(expected);
      const { result } = await stepHistory(h, runId);
      expect(JSON.stringify(result)).not.toContain(SECRET_VALUE);
      expect(await ids(runId, id)).toEqual([1]);
    });
  }

  it('keeps the secret out of the error even when the server echoes it back', async () => {
    const s = await serve((req, res) =>
      sendJson(
        res,
        { error: `invalid credentials: ${req.headers.authorization} / ${req.headers['x-token']}` },
        401,
      ),
    );
    for (const [id, auth] of [
      ['http-auth-echo-bearer', { type: 'bearer', secret: 'api-token' }],
      ['http-auth-echo-basic', { type: 'basic', secret: 'api-basic' }],
      ['http-auth-echo-header', { type: 'header', name: 'X-Token', secret: 'api-token' }],
    ] as const) {
      const { runId, status, step } = await runHttp(id, { url: `${s.url}/me`, auth }, noRetry);
      expect(status).toBe('failed');
      expect(step?.error).toContain('HTTP 401');
      expect(step?.error).toContain('invalid credentials');
      const { failures } = await stepHistory(h, runId);
      for (const text of [step?.error ?? '', ...failures]) {
        expect(text).not.toContain(SECRET_VALUE);
        expect(text).not.toContain(Buffer.from(`alice:${SECRET_VALUE}`).toString('base64'));
      }
    }
  });
  it('follows a same-origin redirect with credentials but never sends them to another origin', async () => {
    const other = await startServer((_req, res) => sendJson(res, [{ id: 99 }]));
    try {
      const s = await serve((req, res) => {
        if (req.url.startsWith('/old')) res.writeHead(301, { location: '/new' }).end();
        else if (req.url.startsWith('/away')) res.writeHead(302, { location: `${other.url}/steal` }).end();
        else sendJson(res, [{ id: 1 }]);
      });
      const auth = { type: 'header', name: 'X-Api-Key', secret: 'api-token' };
      const moved = await runHttp('http-redirect-same', { url: `${s.url}/old`, auth });
      expect(moved.status).toBe('succeeded');
      expect(s.requests.map((r) => [r.url, r.headers['x-api-key']])).toEqual([
        ['/old', SECRET_VALUE],
        ['/new', SECRET_VALUE],
      ]);

      const away = await runHttp('http-redirect-away', { url: `${s.url}/away`, auth }, noRetry);
      expect(away.status).toBe('failed');
      expect(away.step?.error).toContain(`redirected to another origin (${other.url})`);
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('source.http failures and retries', () => {
  it('retries a 500 inside the step and loads every row once', async () => {
    let failed = false;
    const s = await serve((req, res) => {
      const page = Number(req.query.get('page'));
      if (page === 2 && !failed) {
        failed = true;
        res.writeHead(500).end('temporary');
        return;
      }
      sendJson(
        res,
        ALL.slice((page - 1) * 10, page * 10).map((id) => ({ id })),
      );
    });
    const { runId, status, step } = await runHttp('http-500', {
      url: `${s.url}/items`,
      pagination: { type: 'page', size: 10, sizeParam: 'size' },
      retry: fastRetry,
    });
    expect(status).toBe('succeeded');
    expect(step?.attempt).toBe(1);
    expect(await ids(runId, 'http-500')).toEqual(ALL);
    expect(s.requests.map((r) => r.query.get('page'))).toEqual(['1', '2', '2', '3']);
  });

  it('waits out Retry-After on a 429 and retries the same page', async () => {
    const s = await serve((req, res, index) => {
      if (index === 1) {
        res.writeHead(429, { 'retry-after': '1' }).end('slow down');
        return;
      }
      const page = Number(req.query.get('page'));
      sendJson(res, page <= 2 ? [{ id: page }] : []);
    });
    const { runId, status } = await runHttp('http-429', {
      url: `${s.url}/items`,
      pagination: { type: 'page' },
      retry: fastRetry,
    });
    expect(status).toBe('succeeded');
    expect(await ids(runId, 'http-429')).toEqual([1, 2]);
    const pages = s.requests.map((r) => r.query.get('page'));
    expect(pages).toEqual(['1', '2', '2', '3']);
    expect(s.requests[2]!.at - s.requests[1]!.at).toBeGreaterThanOrEqual(900);
  });

  it('fails a lasting 5xx with a retryable error after its in-step attempts', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(503).end('down for maintenance');
    });
    const { status, step } = await runHttp('http-503', { url: `${s.url}/items`, retry: fastRetry }, noRetry);
    expect(status).toBe('failed');
    expect(step?.error).toContain('HTTP 503');
    expect(step?.error).toContain('after 3 attempts');
    expect(step?.error).toContain('down for maintenance');
    expect(s.requests).toHaveLength(3);
  });

  it('fails a 404 at once, naming the status, the URL without secrets and the body', async () => {
    const s = await serve((_req, res: ServerResponse) => {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ message: 'no such resource' }));
    });
    // No retry override: a 4xx must not be retried by Temporal either.
    const { status, step } = await runHttp('http-404', {
      url: `${s.url}/missing`,
      query: { api_key: 'query-secret', view: 'full' },
    });
    expect(status).toBe('failed');
    expect(step?.attempt).toBe(1);
    expect(step?.error).toContain('HTTP 404 Not Found from GET');
    expect(step?.error).toContain(`${s.url}/missing?api_key=***&view=full`);
    expect(step?.error).toContain('{"message":"no such resource"}');
    expect(step?.error).not.toContain('query-secret');
    expect(s.requests).toHaveLength(1);
  });

  it('fails on a response that is not JSON, naming its content-type and start', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><h1>Login</h1>');
    });
    const { status, step } = await runHttp('http-not-json', { url: `${s.url}/items` }, noRetry);
    expect(status).toBe('failed');
    expect(step?.error).toContain('is not JSON: content-type text/html; charset=utf-8');
    expect(step?.error).toContain('<!doctype html><h1>Login</h1>');
  });

  it('fails on invalid JSON under a JSON content-type with the parser message', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"items": [1, 2,');
    });
    const { status, step } = await runHttp('http-bad-json', { url: `${s.url}/items` }, noRetry);
    expect(status).toBe('failed');
    expect(step?.error).toContain('is not valid JSON');
    expect(step?.error).toContain('{"items": [1, 2,');
  });

  it('names the keys of the response when recordsPath finds no records', async () => {
    const s = await serve((_req, res) => sendJson(res, { results: [], count: 0 }));
    const { status, step } = await runHttp(
      'http-wrong-path',
      { url: `${s.url}/items`, recordsPath: 'data' },
      noRetry,
    );
    expect(status).toBe('failed');
    expect(step?.error).toContain('no records at recordsPath "data"');
    expect(step?.error).toContain('its keys are: results, count');
  });

  it('stops waiting on a 429 when the run is cancelled', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(429, { 'retry-after': '50' }).end();
    });
    const plan = h.plan(onePipeline('http-cancel', 'source.http', { url: `${s.url}/items` }));
    const { runId } = await h.platform.runs.start(plan, { trigger: { type: 'manual', actor: 'test' } });
    const handle = h.platform.temporal.workflow.getHandle(runId);
    for (let i = 0; i < 100 && s.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await h.platform.runs.cancel(runId, 'test');
    await handle.result().catch(() => {});
    const detail = await h.platform.runs.get(runId);
    expect(detail.status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(s.requests).toHaveLength(1);
  });
});
