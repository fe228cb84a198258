// Writes run and step usage into the WAREHOUSE (`tributary_telemetry.runs` and `.steps`), so users
// can query it with SQL. It reads run records (runs/run-records.store.ts), so a run's usage is the
// same after Temporal deleted its history: first it records the closed runs not yet recorded, then
// writes the records written since a stored watermark (less an overlap, since concurrent inserts
// commit out of order). Idempotent: rows are upserted by run id and (run id, node id).
import { startPeriodic } from '../infra/periodic.js';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import type { RunsClient } from '../client/runs.js';
import type { Logger } from '../infra/logger.js';
import { recordClosedRuns } from '../runs/run-recorder.js';
import { withTransaction } from '../store/transaction.js';
import type { CreditRates } from './credit-rates.js';
import { priceUsage, type RunUsage } from './run-usage.js';
import type { UsageCache } from './usage-report.js';

const { escapeIdentifier } = pg;

export const TELEMETRY_SCHEMA = 'tributary_telemetry';
/** Any constant, the same in every process: one sync at a time per warehouse. */
const SYNC_LOCK_KEY = 7_411_030;
const DEFAULT_OVERLAP_MS = 10 * 60_000;

export interface TelemetrySyncDeps {
  temporal: Client;
  /** With its run records: the sync's source. */
  runs: RunsClient;
  warehouse: pg.Pool;
  /** TRIBUTARY_CREDIT_RATES as parsed at start (config/env.ts); passed in so no one reads it twice. */
  rates: CreditRates;
  log?: Logger;
  /** Kept for callers that share one with the usage routes; records make it unnecessary here. */
  cache?: UsageCache;
}

export interface TelemetrySyncOptions {
  /** Every run record, not only those written since the last sync. */
  full?: boolean;
  /** How far before the watermark to look again (default 10 minutes). */
  overlapMs?: number;
}

export interface TelemetrySyncResult {
  runs: number;
  steps: number;
  /** Records written at or after this were looked at; null for a full sync. */
  since: string | null;
  /** The latest record time synced so far. */
  watermark: string | null;
}

/**
 * Creates the telemetry tables (if missing) in a warehouse schema: `TELEMETRY_SCHEMA` for the sync;
 * another schema for fixtures that must have exactly the sync's shape.
 */
export async function createTelemetryTables(
  db: pg.Pool | pg.PoolClient,
  schema: string = TELEMETRY_SCHEMA,
): Promise<void> {
  const s = escapeIdentifier(schema);
  await db.query(`
create schema if not exists ${s};
create table if not exists ${s}.runs (
  run_id text primary key,
  project text not null,
  pipeline_id text not null,
  pipeline_version text not null,
  trigger text not null,
  actor text not null,
  status text not null,
  started_at timestamptz not null,
  ended_at timestamptz,
  wall_seconds double precision,
  activity_seconds double precision not null,
  lifecycle_seconds double precision not null,
  steps integer not null,
  attempts integer not null,
  retries integer not null,
  rows_in bigint not null,
  rows_out bigint not null,
  bytes bigint not null,
  credits double precision not null,
  synced_at timestamptz not null default now()
);
create index if not exists runs_started_idx on ${s}.runs (started_at);
create index if not exists runs_project_idx on ${s}.runs (project, started_at);
create table if not exists ${s}.steps (
  run_id text not null references ${s}.runs (run_id) on delete cascade,
  node_id text not null,
  node_type text not null,
  node_kind text not null,
  status text not null,
  attempts integer not null,
  retries integer not null,
  activity_seconds double precision not null,
  scheduled_seconds double precision,
  rows_in bigint not null,
  rows_out bigint not null,
  bytes bigint not null,
  credits double precision not null,
  scheduled_at timestamptz,
  started_at timestamptz,
  ended_at timestamptz,
  primary key (run_id, node_id)
);
create index if not exists steps_type_idx on ${s}.steps (node_type);
create table if not exists ${s}.sync_state (
  id boolean primary key default true check (id),
  watermark timestamptz,
  last_synced_at timestamptz not null default now()
);
comment on schema ${s} is 'Tributary usage telemetry, written by the telemetry sync';
`);
}

export async function syncTelemetry(
  deps: TelemetrySyncDeps,
  options: TelemetrySyncOptions = {},
): Promise<TelemetrySyncResult> {
  const db = await deps.warehouse.connect();
  try {
    // A session lock for the whole sync; the DDL inside it cannot race another process's.
    await db.query('select pg_advisory_lock($1)', [SYNC_LOCK_KEY]);
    await createTelemetryTables(db);
    const state = await db.query<{ watermark: Date | null }>(
      `select watermark from ${TELEMETRY_SCHEMA}.sync_state where id`,
    );
    const watermark = state.rows[0]?.watermark ?? null;
    const since =
      options.full || !watermark
        ? null
        : new Date(watermark.getTime() - (options.overlapMs ?? DEFAULT_OVERLAP_MS));

    const records = deps.runs.records;
    if (!records) throw new Error('telemetry sync needs the run records (RunsClient with a RunRecordStore)');
    // Runs that closed since the recorder's last pass are recorded first, so the sync is never behind.
    await recordClosedRuns({
      temporal: deps.temporal,
      runs: deps.runs,
      records,
      ...(deps.log ? { log: deps.log } : {}),
    });
    const found = await records.recordedSince(since);
    for (const { usage } of found) await writeUsage(deps.warehouse, priceUsage(usage, deps.rates));
    const runs = found.length;
    const steps = found.reduce((total, r) => total + r.usage.steps.length, 0);
    const latest = found.reduce((max, r) => Math.max(max, r.recordedAt.getTime()), watermark?.getTime() ?? 0);
    const next = latest > 0 ? new Date(latest) : null;
    await db.query(
      `insert into ${TELEMETRY_SCHEMA}.sync_state (id, watermark, last_synced_at) values (true, $1, now())
       on conflict (id) do update set watermark = excluded.watermark, last_synced_at = now()`,
      [next],
    );
    deps.log?.info('telemetry synced', { runs, steps, since: since?.toISOString() ?? 'all' });
    return { runs, steps, since: since?.toISOString() ?? null, watermark: next?.toISOString() ?? null };
  } finally {
    await db.query('select pg_advisory_unlock($1)', [SYNC_LOCK_KEY]).catch(() => {});
    db.release();
  }
}

const RUN_COLUMNS = [
  'run_id',
  'project',
  'pipeline_id',
  'pipeline_version',
  'trigger',
  'actor',
  'status',
  'started_at',
  'ended_at',
  'wall_seconds',
  'activity_seconds',
  'lifecycle_seconds',
  'steps',
  'attempts',
  'retries',
  'rows_in',
  'rows_out',
  'bytes',
  'credits',
];
const STEP_COLUMNS = [
  'run_id',
  'node_id',
  'node_type',
  'node_kind',
  'status',
  'attempts',
  'retries',
  'activity_seconds',
  'scheduled_seconds',
  'rows_in',
  'rows_out',
  'bytes',
  'credits',
  'scheduled_at',
  'started_at',
  'ended_at',
];

const placeholders = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => `$${i + 1 + offset}`).join(', ');
const updates = (columns: string[], key: string[]) =>
  columns
    .filter((c) => !key.includes(c))
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');

/** One run and its steps, in one transaction: a reader never sees a run without its steps. */
async function writeUsage(warehouse: pg.Pool, usage: RunUsage): Promise<void> {
  await withTransaction(warehouse, async (client) => {
    await client.query(
      `insert into ${TELEMETRY_SCHEMA}.runs (${RUN_COLUMNS.join(', ')}, synced_at)
       values (${placeholders(RUN_COLUMNS.length)}, now())
       on conflict (run_id) do update set ${updates(RUN_COLUMNS, ['run_id'])}, synced_at = now()`,
      [
        usage.runId,
        usage.project,
        usage.pipelineId,
        String(usage.pipelineVersion),
        usage.trigger,
        usage.actor,
        usage.status,
        usage.startedAt,
        usage.endedAt,
        usage.wallSeconds,
        usage.activitySeconds,
        usage.lifecycleSeconds,
        usage.steps.length,
        usage.attempts,
        usage.retries,
        usage.rowsIn,
        usage.rowsOut,
        usage.bytes,
        usage.credits,
      ],
    );
    for (const s of usage.steps) {
      await client.query(
        `insert into ${TELEMETRY_SCHEMA}.steps (${STEP_COLUMNS.join(', ')})
         values (${placeholders(STEP_COLUMNS.length)})
         on conflict (run_id, node_id) do update set ${updates(STEP_COLUMNS, ['run_id', 'node_id'])}`,
        [
          usage.runId,
          s.nodeId,
          s.nodeType,
          s.kind,
          s.status,
          s.attempts,
          s.retries,
          s.activitySeconds,
          s.scheduledSeconds,
          s.rowsIn,
          s.rowsOut,
          s.bytes,
          s.credits,
          s.scheduledAt,
          s.startedAt,
          s.endedAt,
        ],
      );
    }
  });
}

/**
 * Syncs every `intervalMs` until stopped; a sync never overlaps the previous one, and a failure is
 * logged and retried at the next tick. For the worker process (see docs/operations/audit-and-telemetry.md).
 */
export function startTelemetrySync(deps: TelemetrySyncDeps, intervalMs: number): { stop(): Promise<void> } {
  return startPeriodic(() => syncTelemetry(deps), intervalMs, {
    onError: (error) =>
      deps.log?.warn('telemetry sync failed; retrying at the next interval', { error: error.message }),
  });
}
