// Outages answered plainly: with Temporal or Postgres stopped, the API calls that need it answer
// within 2 s with 503 application/problem+json naming the component and a Retry-After, the calls
// that do not need it still work, and /api/health says which is down. This file stops servers, so
// it starts its own (never the ones the other test files share).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { silentLogger } from '../../src/infra/logger.js';
import { providePostgres, type PostgresServer } from '../../src/infra/postgres-server.js';
import { provideTemporal, type TemporalServer } from '../../src/infra/temporal-server.js';
import { connectPlatform, type Platform } from '../../src/platform.js';
import { TokenStore } from '../../src/store/tokens.store.js';
import { TEST_MASTER_KEY, TEST_PAYLOAD_KEY } from '../harness.js';
import { generatePipeline } from './api-harness.js';

let home: string;
let temporal: TemporalServer;
let postgres: PostgresServer;
let platform: Platform;
let server: Server;
let base: string;
let admin: string;

const startPostgres = (port: number) => providePostgres({ home, port, persistent: true, log: silentLogger });

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'tributary-outage-'));
  chmodSync(home, 0o755);
  [temporal, postgres] = await Promise.all([
    provideTemporal({
      namespace: 'default',
      home,
      binCacheDir: path.resolve('.tributary', 'bin'),
      port: 0,
      uiPort: null,
      dbFilename: null,
      log: silentLogger,
    }),
    startPostgres(0),
  ]);
  platform = await connectPlatform({
    databaseUrl: postgres.url,
    warehouseUrl: postgres.warehouseUrl,
    temporalAddress: temporal.address,
    namespace: 'default',
    taskQueue: 'outage',
    masterKey: TEST_MASTER_KEY,
    payloadKey: TEST_PAYLOAD_KEY,
  });
  const app = createApp({
    pool: platform.platformPool,
    warehousePool: platform.warehousePool,
    temporal: platform.temporal,
    runs: platform.runs,
    version: 'test',
    log: silentLogger,
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  admin = (
    await new TokenStore(platform.platformPool).create({
      name: 'outage',
      scopes: ['admin'],
      projects: null,
      createdBy: 'test',
    })
  ).token;
  const created = await call('POST', '/api/pipelines', generatePipeline('outage-pipe'));
  expect(created.status).toBe(201);
});

afterAll(async () => {
  server?.close();
  server?.closeAllConnections();
  await platform?.close().catch(() => {});
  await temporal?.stop().catch(() => {});
  await postgres?.stop().catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown) {
  const started = Date.now();
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${admin}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    ms: Date.now() - started,
    type: response.headers.get('content-type') ?? '',
    retryAfter: response.headers.get('retry-after'),
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    body: (text ? JSON.parse(text) : null) as any,
  };
}

function expectOutage(reply: Awaited<ReturnType<typeof call>>, component: 'temporal' | 'postgres') {
  expect(reply.status, JSON.stringify(reply.body)).toBe(503);
  expect(reply.ms).toBeLessThan(2_000);
  expect(reply.type).toContain('application/problem+json');
  expect(reply.retryAfter).toBe('5');
  expect(reply.body).toMatchObject({
    type: 'https://tributary.dev/problems/503',
    title: 'Service Unavailable',
    status: 503,
    component,
    detail: expect.stringContaining(
      component === 'temporal' ? 'Temporal is not answering' : 'Postgres is not answering',
    ),
  });
}

describe('outages', () => {
  it('answers every call while both are up', async () => {
    expect((await call('GET', '/api/health')).body).toMatchObject({
      status: 'ok',
      temporal: 'ok',
      postgres: 'ok',
    });
    expect((await call('GET', '/api/runs')).status).toBe(200);
  });

  it('with Temporal stopped: 503 naming Temporal within 2 s for run calls; pipelines still answer', async () => {
    await temporal.stop();
    for (const [method, url, body] of [
      ['GET', '/api/runs', undefined],
      ['GET', '/api/runs/run-outage-pipe-x', undefined],
      ['GET', '/api/runs/run-outage-pipe-x/audit', undefined],
      ['POST', '/api/pipelines/outage-pipe/runs', {}],
    ] as const) {
      expectOutage(await call(method, url, body), 'temporal');
    }
    expect((await call('GET', '/api/pipelines/outage-pipe')).status).toBe(200);
    const health = await call('GET', '/api/health');
    expect(health.status).toBe(503);
    expect(health.ms).toBeLessThan(2_000);
    expect(health.body).toMatchObject({
      status: 'degraded',
      postgres: 'ok',
      temporal: expect.stringMatching(/^down/),
    });
  });

  it('with Postgres stopped: 503 naming Postgres within 2 s; back to 200 when it is back', async () => {
    const port = Number(new URL(postgres.url).port);
    await postgres.stop();
    for (const [method, url, body] of [
      ['GET', '/api/pipelines', undefined],
      ['GET', '/api/pipelines/outage-pipe', undefined],
      ['PUT', '/api/pipelines/outage-pipe/draft', generatePipeline('outage-pipe')],
    ] as const) {
      expectOutage(await call(method, url, body), 'postgres');
    }
    const health = await call('GET', '/api/health');
    expect(health.status).toBe(503);
    expect(health.body.postgres).toMatch(/^down/);

    postgres = await startPostgres(port);
    let back = await call('GET', '/api/pipelines/outage-pipe');
    for (let i = 0; i < 20 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      back = await call('GET', '/api/pipelines/outage-pipe');
    }
    expect(back.status).toBe(200);
    expect((await call('GET', '/api/health')).body.postgres).toBe('ok');
  });
});
