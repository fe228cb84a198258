// CSV load: a generated 1,000,000-row (~50 MB) CSV through a real pipeline run (source.csv →
// sink.postgres) against `psql \copy` of the same file into the same kind of table. Prints both
// times, rows/s, the ratio (target: within 1.25x) and the worker's peak RSS (the worker runs in
// this process, so the process's RSS is the worker's).
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import pg from 'pg';
import { compile } from '../../engine/src/compiler/compile.js';
import type { BenchStack } from '../lib/stack.js';

const ROWS = 1_000_000;
const STATUSES = ['new', 'paid', 'shipped', 'cancelled'];

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,customer,status,amount,created_at\n');
  for (let i = 1; i <= ROWS; i++) {
    const line = `${i},customer-${i % 9973},${STATUSES[i % 4]},${((i * 7919) % 100000) / 100},2026-0${(i % 9) + 1}-1${i % 10}T10:${String(i % 60).padStart(2, '0')}:00\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  return work()
    .then((result) => ({ result, peakMb: Math.round(peak / 1024 / 1024) }))
    .finally(() => clearInterval(timer));
}

export async function csvLoadBench(stack: BenchStack): Promise<string[]> {
  const file = path.join(stack.dataDir, 'orders-1m.csv');
  await writeCsv(file);
  const sizeMb = (await stat(file)).size / 1024 / 1024;

  const compiled = compile(
    {
      apiVersion: 'tributary/v1',
      id: 'bench-csv-load',
      name: 'bench csv load',
      nodes: [
        { id: 'orders', type: 'source.csv', config: { path: 'orders-1m.csv' } },
        { id: 'publish', type: 'sink.postgres', config: { table: 'bench.orders', mode: 'replace' } },
      ],
      edges: [{ from: 'orders', to: 'publish' }],
    },
    { catalog: stack.catalog },
  );
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  const started = performance.now();
  const { result: status, peakMb } = await peakRss(async () => {
    const { runId } = await stack.platform.runs.start(compiled.plan, {
      trigger: { type: 'manual', actor: 'bench' },
    });
    await stack.platform.temporal.workflow.getHandle(runId).result();
    return (await stack.platform.runs.get(runId)).status;
  });
  const pipelineMs = performance.now() - started;
  if (status !== 'succeeded') throw new Error(`the pipeline run ended ${status}`);

  // The same table shape the pipeline produced, loaded by psql's client-side COPY.
  const pool = new pg.Pool({ connectionString: stack.databaseUrl });
  await pool.query('drop table if exists bench.orders_psql');
  await pool.query('create table bench.orders_psql (like bench.orders)');
  const loaded = await pool.query<{ n: number }>('select count(*)::int as n from bench.orders');
  await pool.end();
  const psqlStarted = performance.now();
  const psql = spawnSync(
    'psql',
    [stack.databaseUrl, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy bench.orders_psql from '${file}' csv header`],
    {
      encoding: 'utf8',
    },
  );
  const psqlMs = performance.now() - psqlStarted;
  if (psql.error || psql.status !== 0) {
    return [`csv load: psql is needed for the baseline (${psql.error?.message ?? psql.stderr.trim()})`];
  }
  const rate = (ms: number) => Math.round(ROWS / (ms / 1000)).toLocaleString('en-US');
  return [
    `csv load ${ROWS.toLocaleString('en-US')} rows, ${sizeMb.toFixed(1)} MB (loaded ${loaded.rows[0]!.n.toLocaleString('en-US')} rows):`,
    `  tributary source.csv -> sink.postgres (whole run): ${(pipelineMs / 1000).toFixed(2)} s, ${rate(pipelineMs)} rows/s, peak RSS ${peakMb} MB`,
    `  psql \\copy:                                        ${(psqlMs / 1000).toFixed(2)} s, ${rate(psqlMs)} rows/s`,
    `  ratio ${(pipelineMs / psqlMs).toFixed(2)}x (target 1.25x)`,
  ];
}
