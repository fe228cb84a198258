// Scenario (g), the production shape: one API and three worker processes on one Temporal server and
// one Postgres, 100 runs spread across the workers; during the load every worker is restarted, one
// at a time (SIGTERM after its replacement polls), and one is killed outright (SIGKILL). A second
// deployment (its own Postgres, its own API and worker) runs on the same Temporal server with its
// own task queue. Every run ends exactly once and succeeds; the target holds exactly 100 runs' rows;
// and every step of every run ran on a worker of its own deployment (the history names the worker).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/infra/logger.js';
import { findFreePort } from '../../src/infra/ports.js';
import { providePostgres, type PostgresServer } from '../../src/infra/postgres-server.js';
import { startFaultStack, type Body, type FaultStack, type Proc } from './fault-stack.js';
import { createPipeline, report, sleep, startRun } from './fault-kit.js';

const RUNS = 100;
const ROWS = 5;

let stack: FaultStack;
let second: { postgres: PostgresServer; api: Proc; worker: Proc; url: string } | undefined;

beforeAll(async () => {
  stack = await startFaultStack();
  for (let i = 0; i < 3; i++) await stack.startWorker();
  await stack.db.query('drop schema if exists topo cascade; create schema topo');
  await stack.giveSchema('topo');
});
afterAll(async () => {
  await second?.worker.kill('SIGTERM');
  await second?.api.kill('SIGTERM');
  await second?.postgres.stop();
  await stack?.stop();
});

const pipeline = (id: string, sink: boolean) => ({
  apiVersion: 'tributary/v1',
  id,
  name: id,
  nodes: [
    {
      id: 'g',
      type: 'source.generate',
      config: { rows: ROWS, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    {
      id: 'slow',
      type: 'transform.sql',
      config: { sql: 'select n from {{ inputs.g }} where (select pg_sleep(0.4)::text) is not null' },
    },
    ...(sink ? [{ id: 'out', type: 'sink.postgres', config: { table: 'topo.rows', mode: 'append' } }] : []),
  ],
  edges: [{ from: 'g', to: 'slow' }, ...(sink ? [{ from: 'slow', to: 'out' }] : [])],
});

/** The pids of the workers that started the run's activities, from its history. */
async function workersOf(runId: string): Promise<Set<number>> {
  const history = await stack.temporal.workflow.getHandle(runId).fetchHistory();
  const pids = new Set<number>();
  for (const event of history.events ?? []) {
    const identity = event.activityTaskStartedEventAttributes?.identity;
    if (identity) pids.add(Number(identity.split('@')[0]));
  }
  return pids;
}

async function waitClosed(runId: string): Promise<string> {
  await stack.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});
  return (await stack.temporal.workflow.getHandle(runId).describe()).status.name;
}

describe('the production shape', () => {
  it('one API, three workers, 100 runs through a rolling restart and a kill, beside a second deployment', async () => {
    // The second deployment: its own Postgres and platform database, the same Temporal, its own queue.
    const pgHome = path.join(stack.home, 'pg-two');
    const postgres = await providePostgres({
      home: pgHome,
      port: await findFreePort(),
      persistent: false,
      log: createLogger('warn', 'faults'),
    });
    const apiPort = await findFreePort();
    const env = {
      DATABASE_URL: postgres.url,
      WAREHOUSE_URL: postgres.warehouseUrl,
      TRIBUTARY_ALLOW_SHARED_DATABASE: 'false',
      TEMPORAL_TASK_QUEUE: 'tributary-two',
      TRIBUTARY_HOME: path.join(os.tmpdir(), `tributary-two-${randomBytes(4).toString('hex')}`),
      PORT: String(apiPort),
    };
    const api = await stack.startProcess('api', env);
    const worker = await stack.startProcess('worker', env);
    second = { postgres, api, worker, url: `http://127.0.0.1:${apiPort}` };
    const callTwo = async (method: string, route: string, body?: unknown) => {
      const response = await fetch(`${second!.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${stack.admin}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: response.status, body: (await response.json()) as Body };
    };

    // The second deployment may not take the first one's queue (its claim is refused at start).
    await expect(stack.startProcess('worker', { ...env, TEMPORAL_TASK_QUEUE: 'tributary' })).rejects.toThrow(
      /claimed by another Tributary deployment/,
    );

    await createPipeline(stack, pipeline('topo-one', true));
    expect((await callTwo('POST', '/api/pipelines', pipeline('topo-two', false))).status).toBe(201);

    const firstWorkers = new Set(stack.workers.map((w) => w.pid));
    const runIds: string[] = [];
    const secondRunIds: string[] = [];
    const starting = (async () => {
      for (let i = 0; i < RUNS; i++) {
        runIds.push(await startRun(stack, 'topo-one'));
        if (i % 5 === 0) {
          const started = await callTwo('POST', '/api/pipelines/topo-two/runs', {});
          expect(started.status).toBe(202);
          secondRunIds.push(started.body.runId);
        }
        await sleep(50);
      }
    })();

    // Rolling restart: each of the three first workers, one at a time, after its replacement polls.
    await sleep(2_000);
    for (const old of [...stack.workers]) {
      const replacement = await stack.startWorker();
      firstWorkers.add(replacement.pid);
      await old.kill('SIGTERM');
    }
    // And one killed outright mid-load, with a new one in its place.
    const victim = stack.workers.at(-1)!;
    await victim.kill('SIGKILL');
    firstWorkers.add((await stack.startWorker()).pid);
    await starting;

    const statuses = await Promise.all(runIds.map(waitClosed));
    const secondStatuses = await Promise.all(secondRunIds.map(waitClosed));
    expect(new Set(runIds).size).toBe(RUNS);
    expect(statuses.filter((s) => s !== 'COMPLETED')).toEqual([]);
    expect(secondStatuses.filter((s) => s !== 'COMPLETED')).toEqual([]);
    const { rows } = await stack.db.query<{ n: string }>('select count(*) as n from topo.rows');
    expect(Number(rows[0]!.n)).toBe(RUNS * ROWS);

    const secondWorkers = new Set([worker.pid]);
    const crossed: string[] = [];
    const spread = new Map<number, number>();
    for (const runId of runIds) {
      for (const pid of await workersOf(runId)) {
        spread.set(pid, (spread.get(pid) ?? 0) + 1);
        if (!firstWorkers.has(pid)) crossed.push(`${runId} ran on ${pid}`);
      }
    }
    for (const runId of secondRunIds) {
      for (const pid of await workersOf(runId))
        if (!secondWorkers.has(pid)) crossed.push(`${runId} ran on ${pid}`);
    }
    expect(crossed).toEqual([]);
    // The load was spread: more than one worker of the first deployment ran steps.
    expect(spread.size).toBeGreaterThan(1);
    report(
      `(g) topology: ${RUNS} runs + ${secondRunIds.length} of a second deployment, rolling restart of 3 workers and a SIGKILL: ` +
        `all succeeded once, ${RUNS * ROWS} rows, steps by worker ${[...spread.values()].join('/')}, none crossed`,
    );
  });
});
