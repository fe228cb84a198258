// Load: LOAD_PIPELINES pipelines × LOAD_RUNS runs (default 50 × 4) started at once through the
// API, on one worker. Every run must succeed and publish exactly its rows; the throughput figures
// (runs/s accepted, API latency p50/p99, time to drain) are reported, not asserted: they depend
// on the machine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultStack, type FaultStack } from './fault-stack.js';
import { createPipeline, report, runResult } from './fault-kit.js';

const PIPELINES = Number(process.env.LOAD_PIPELINES ?? 50);
const RUNS = Number(process.env.LOAD_RUNS ?? 4);
const ROWS = 10;

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack();
  await stack.startWorker();
  await stack.db.query('drop schema if exists faults_load cascade; create schema faults_load');
  await stack.giveSchema('faults_load');
});
afterAll(async () => stack?.stop());

const pipeline = (i: number) => ({
  apiVersion: 'tributary/v1',
  id: `load-${i}`,
  name: `Load ${i}`,
  settings: { concurrency: 'allow' },
  nodes: [
    {
      id: 'g',
      type: 'source.generate',
      config: { rows: ROWS, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    { id: 'sq', type: 'transform.sql', config: { sql: 'select n, n * n as sq from {{ inputs.g }}' } },
    { id: 'out', type: 'sink.postgres', config: { table: `faults_load.t_${i}`, mode: 'append' } },
  ],
  edges: [
    { from: 'g', to: 'sq' },
    { from: 'sq', to: 'out' },
  ],
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

describe('load', () => {
  it(`runs ${PIPELINES} pipelines × ${RUNS} runs started at once, all to success`, async () => {
    for (let i = 0; i < PIPELINES; i++) await createPipeline(stack, pipeline(i));
    const t0 = performance.now();
    const latencies: number[] = [];
    const started = await Promise.all(
      Array.from({ length: PIPELINES * RUNS }, async (_, k) => {
        const t = performance.now();
        const reply = await stack.call('POST', `/api/pipelines/load-${k % PIPELINES}/runs`, {});
        latencies.push(performance.now() - t);
        return reply;
      }),
    );
    const acceptedIn = (performance.now() - t0) / 1000;
    expect(started.filter((s) => s.status !== 202).map((s) => s.body)).toEqual([]);
    const runs = await Promise.all(started.map((s) => runResult(stack, s.body.runId)));
    const drained = (performance.now() - t0) / 1000;
    const statuses = runs.reduce<Record<string, number>>(
      (acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }),
      {},
    );
    latencies.sort((a, b) => a - b);
    report(
      `load ${PIPELINES}×${RUNS} = ${runs.length} runs: accepted in ${acceptedIn.toFixed(1)} s (${(runs.length / acceptedIn).toFixed(1)} runs/s), ` +
        `start API p50 ${percentile(latencies, 0.5).toFixed(0)} ms, p99 ${percentile(latencies, 0.99).toFixed(0)} ms, ` +
        `drained in ${drained.toFixed(1)} s (${(runs.length / drained).toFixed(1)} runs/s); ${JSON.stringify(statuses)}`,
    );
    expect(statuses).toEqual({ succeeded: PIPELINES * RUNS });
    const published = await stack.db.query(
      `select count(*)::int as n from (${Array.from({ length: PIPELINES }, (_, i) => `select n from faults_load.t_${i}`).join(' union all ')}) x`,
    );
    expect(published.rows[0].n).toBe(PIPELINES * RUNS * ROWS);
  });
});
