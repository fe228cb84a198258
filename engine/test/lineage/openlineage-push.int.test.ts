// OpenLineage pushed from the outbox: a succeeded, a failed and a cancelled run, first with the
// collector down (the runs finish anyway, their events wait in the outbox), then up (a local
// collector process on 127.0.0.1 gets every event once, in order, each valid against the official
// OpenLineage JSON Schemas, with the API key as bearer).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/infra/logger.js';
import { activityCatalog } from '../../src/pipelines/node-catalog.js';
import { publishOnce, type PublisherDeps } from '../../src/lineage/openlineage-publisher.js';
import { startApi, uniq, type ApiHarness, type Body } from '../api/api-harness.js';
import { openLineageProblems } from './openlineage-validator.js';

let api: ApiHarness;
let deps: PublisherDeps;
let port: number;
let collector: Server | undefined;
const received: { path: string; authorization: string | undefined; event: Body; problems: string[] }[] = [];
const project = uniq('olp');
const runIds: Record<'succeeded' | 'failed' | 'cancelled', string> = {
  succeeded: '',
  failed: '',
  cancelled: '',
};

const pipeline = (id: string, sql: string) => ({
  apiVersion: 'tributary/v1',
  id: `${project}-${id}`,
  name: id,
  project,
  nodes: [
    {
      id: 'gen',
      type: 'source.generate',
      config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    { id: 'calc', type: 'transform.sql', config: { sql } },
    { id: 'out', type: 'sink.postgres', config: { table: `out_${id}`, mode: 'replace' } },
  ],
  edges: [
    { from: 'gen', to: 'calc' },
    { from: 'calc', to: 'out' },
  ],
});

async function start(id: string, sql: string): Promise<string> {
  expect((await api.call('POST', '/api/pipelines', { body: pipeline(id, sql) })).status).toBe(201);
  const started = await api.call('POST', `/api/pipelines/${project}-${id}/runs`, { body: {} });
  expect(started.status).toBe(202);
  return started.body.runId as string;
}
const finished = (runId: string) =>
  api.h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => undefined);

/** A collector process of our own: records what it gets and checks it against the spec's schemas. */
async function startCollector(): Promise<Server> {
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const event = JSON.parse(text) as Body;
      received.push({
        path: req.url ?? '',
        authorization: req.headers.authorization,
        event,
        problems: openLineageProblems(event),
      });
      res.writeHead(201).end();
    });
  });
  server.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

beforeAll(async () => {
  api = await startApi();
  expect((await api.call('POST', '/api/projects', { body: { id: project, name: project } })).status).toBe(
    201,
  );
  // A port nobody listens on yet: the collector is down.
  const probe = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  port = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  deps = {
    platform: api.h.platform.platformPool,
    warehouse: api.h.platform.warehousePool,
    temporal: api.h.platform.temporal,
    runs: api.h.platform.runs,
    nodeTypes: activityCatalog,
    target: { url: `http://127.0.0.1:${port}`, endpoint: 'api/v1/lineage', apiKey: 'ol-key-123' },
    log: silentLogger,
    timeoutMs: 2_000,
  };
  // The first pass starts the stream (runs before it are not sent).
  await publishOnce(deps);
}, 120_000);
afterAll(async () => {
  await new Promise((resolve) => (collector ? collector.close(resolve) : resolve(undefined)));
  await api?.stop();
});

const ours = () => received.filter((r) => r.event.job?.namespace === `tributary.${project}`);

describe('OpenLineage push', () => {
  it('keeps the events of a succeeded, a failed and a cancelled run while the collector is down', async () => {
    runIds.succeeded = await start('ok', 'select n, n * 2 as doubled from {{ inputs.gen }}');
    runIds.failed = await start('bad', 'select n, 10 / (n - 2) as q from {{ inputs.gen }}');
    runIds.cancelled = await start('slow', 'select g.n from {{ inputs.gen }} g, pg_sleep(60)');
    await Promise.all([finished(runIds.succeeded), finished(runIds.failed)]);
    // Cancel once the slow step runs.
    for (let i = 0; i < 100; i++) {
      const run = await api.call('GET', `/api/runs/${runIds.cancelled}`);
      if (run.body.steps?.calc?.status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect((await api.call('POST', `/api/runs/${runIds.cancelled}/cancel`, { body: {} })).status).toBe(202);
    await finished(runIds.cancelled);
    for (const [status, runId] of Object.entries(runIds))
      expect((await api.call('GET', `/api/runs/${runId}`)).body.status).toBe(status);

    const pass = await publishOnce(deps);
    expect(pass).toMatchObject({ sent: 0, failed: true });
    const { rows } = await deps.platform.query<{
      run_id: string;
      event_type: string;
      sent_at: Date | null;
      last_error: string;
    }>(
      'select run_id, event_type, sent_at, last_error from tributary.openlineage_outbox where run_id = any($1) order by id',
      [Object.values(runIds)],
    );
    expect(rows.map((r) => [r.run_id, r.event_type]).sort()).toEqual(
      [
        [runIds.succeeded, 'START'],
        [runIds.succeeded, 'COMPLETE'],
        [runIds.failed, 'START'],
        [runIds.failed, 'FAIL'],
        [runIds.cancelled, 'START'],
        [runIds.cancelled, 'ABORT'],
      ].sort(),
    );
    expect(rows.every((r) => r.sent_at === null)).toBe(true);
    expect(ours()).toEqual([]);
  }, 180_000);

  it('sends them once, in order and valid, when the collector is up again', async () => {
    collector = await startCollector();
    expect(await publishOnce(deps)).toMatchObject({ failed: false });
    // Another pass sends nothing twice.
    await publishOnce(deps);
    const events = ours();
    expect(events).toHaveLength(6);
    for (const r of events) {
      expect(r.path).toBe('/api/v1/lineage');
      expect(r.authorization).toBe('Bearer ol-key-123');
      expect(r.problems).toEqual([]);
    }
    const sequence = events.map((r) => `${r.event.job.name}:${r.event.eventType}`);
    for (const [id, end] of [
      ['ok', 'COMPLETE'],
      ['bad', 'FAIL'],
      ['slow', 'ABORT'],
    ]) {
      const startAt = sequence.indexOf(`${project}-${id}:START`);
      const endAt = sequence.indexOf(`${project}-${id}:${end}`);
      expect(startAt, sequence.join(', ')).toBeGreaterThanOrEqual(0);
      expect(endAt).toBeGreaterThan(startAt);
    }
    const fail = events.find((r) => r.event.eventType === 'FAIL')!.event;
    expect(fail.run.facets.errorMessage.message).toContain('division by zero');
    const complete = events.find((r) => r.event.eventType === 'COMPLETE')!.event;
    expect(complete.outputs[0].name).toMatch(/\.out_ok$/);
    expect(complete.outputs[0].facets.schema.fields).toEqual([
      { name: 'n', type: 'bigint' },
      { name: 'doubled', type: 'bigint' },
    ]);
  }, 120_000);
});
