// What the fault scenarios share: a generated CSV of N rows with known sums, the pipeline
// source.csv → transform.sql → sink.postgres (append, replace, upsert), exact target checks, and
// watching a step through Temporal's view of its pending activity (attempt, worker, start time).
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { Body, FaultStack } from './fault-stack.js';

/** Rows of the CSV: FAULTS_ROWS, default 500,000. */
export const ROWS = Number(process.env.FAULTS_ROWS ?? 500_000);
export const REPEAT = Number(process.env.FAULTS_REPEAT ?? 1);
export const MODES = ['append', 'replace', 'upsert'] as const;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Expected {
  rows: number;
  sumId: bigint;
  sumAmount: bigint;
}

/** id 1..n, amount = (id * 7919) % 10007, a label: sums known without reading the file back. */
export async function writeCsv(dataDir: string, name: string, rows = ROWS): Promise<Expected> {
  const file = path.join(dataDir, name);
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  out.write('id,amount,label\n');
  let sumAmount = 0n;
  let chunk = '';
  for (let id = 1; id <= rows; id++) {
    const amount = (id * 7919) % 10007;
    sumAmount += BigInt(amount);
    chunk += `${id},${amount},row-${id.toString(36)}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  const n = BigInt(rows);
  return { rows, sumId: (n * (n + 1n)) / 2n, sumAmount };
}

/** The suite's pipeline: one load, one transform, a sink per mode, each into its own table. */
export function loadPipeline(
  id: string,
  csv: string,
  schema: string,
  settings: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: `Faults ${id}`,
    settings: { maxParallel: 4, ...settings },
    nodes: [
      {
        id: 'load',
        type: 'source.csv',
        config: { path: csv },
        retry: { maxAttempts: 5, initialIntervalSeconds: 1 },
      },
      {
        id: 'shape',
        type: 'transform.sql',
        config: {
          sql: 'select id::bigint as id, amount::bigint as amount, label, (id % 7)::int as bucket from {{ inputs.load }}',
        },
        retry: { maxAttempts: 5, initialIntervalSeconds: 1 },
      },
      ...MODES.map((mode) => ({
        id: `sink-${mode}`,
        type: 'sink.postgres',
        config: {
          table: `${schema}.t_${mode}`,
          mode,
          ...(mode === 'upsert' ? { primaryKey: ['id'] } : {}),
        },
        retry: { maxAttempts: 5, initialIntervalSeconds: 1 },
      })),
    ],
    edges: [{ from: 'load', to: 'shape' }, ...MODES.map((mode) => ({ from: 'shape', to: `sink-${mode}` }))],
  };
}

export interface TargetState {
  rows: number;
  distinctIds: number;
  sumId: bigint;
  sumAmount: bigint;
}

export async function targetState(db: pg.Pool, table: string): Promise<TargetState | null> {
  const exists = await db.query('select to_regclass($1) as t', [table]);
  if (!exists.rows[0].t) return null;
  const r = await db.query(
    `select count(*)::int as rows, count(distinct id)::int as distinct_ids,
            coalesce(sum(id), 0)::text as sum_id, coalesce(sum(amount), 0)::text as sum_amount from ${table}`,
  );
  const row = r.rows[0];
  return {
    rows: row.rows,
    distinctIds: row.distinct_ids,
    sumId: BigInt(row.sum_id),
    sumAmount: BigInt(row.sum_amount),
  };
}

/** Exactly the file's rows: none lost, none duplicated. */
export function exactly(expected: Expected): TargetState {
  return {
    rows: expected.rows,
    distinctIds: expected.rows,
    sumId: expected.sumId,
    sumAmount: expected.sumAmount,
  };
}

export async function createPipeline(stack: FaultStack, doc: unknown): Promise<void> {
  const created = await stack.call('POST', '/api/pipelines', doc);
  if (created.status !== 201)
    throw new Error(`pipeline not created: ${created.status} ${JSON.stringify(created.body)}`);
}

export async function startRun(stack: FaultStack, pipelineId: string): Promise<string> {
  const started = await stack.call('POST', `/api/pipelines/${pipelineId}/runs`, {});
  if (started.status !== 202)
    throw new Error(`run not started: ${started.status} ${JSON.stringify(started.body)}`);
  return started.body.runId as string;
}

export interface PendingStep {
  activityType: string;
  activityId: string;
  state: number;
  attempt: number;
  worker: string;
  lastStartedMs: number | null;
}

const STARTED = 2; // PENDING_ACTIVITY_STATE_STARTED

export async function pendingSteps(temporal: Client, runId: string): Promise<PendingStep[]> {
  const described = await temporal.workflow.getHandle(runId).describe();
  return (described.raw.pendingActivities ?? []).map((a) => ({
    activityType: a.activityType?.name ?? '',
    activityId: a.activityId ?? '',
    state: Number(a.state ?? 0),
    attempt: a.attempt ?? 0,
    worker: a.lastWorkerIdentity ?? '',
    lastStartedMs: a.lastStartedTime
      ? Number(a.lastStartedTime.seconds ?? 0) * 1000 + Math.floor((a.lastStartedTime.nanos ?? 0) / 1e6)
      : null,
  }));
}

/** Waits until the step runs (started on a worker); returns it. */
export async function waitForRunning(
  temporal: Client,
  runId: string,
  stepId: string,
  where: (step: PendingStep) => boolean = () => true,
  timeoutMs = 120_000,
): Promise<PendingStep> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const step = (await pendingSteps(temporal, runId).catch(() => [])).find(
      (s) => s.activityId === stepId && s.state === STARTED && where(s),
    );
    if (step) return step;
    if (Date.now() > deadline)
      throw new Error(`step ${stepId} of ${runId} did not run within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** The worker identity Temporal's SDK uses by default: `<pid>@<host>`. */
export const onWorker = (pid: number) => (step: PendingStep) => step.worker.startsWith(`${pid}@`);

export async function runResult(stack: FaultStack, runId: string, timeoutMs = 600_000) {
  const handle = stack.temporal.workflow.getHandle(runId);
  await Promise.race([handle.result().catch(() => {}), sleep(timeoutMs)]);
  const run = await stack.call('GET', `/api/runs/${runId}`);
  return run.body as {
    status: string;
    steps?: Record<string, { status: string; attempt: number; error?: string | null }>;
  } & Record<string, Body>;
}

export function report(line: string): void {
  process.stdout.write(`faults: ${line}\n`);
}
