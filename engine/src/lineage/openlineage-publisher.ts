// Pushes runs to an OpenLineage collector (TRIBUTARY_OPENLINEAGE_URL) as they happen, from a durable
// outbox: each pass writes the events of runs started or closed since the last pass into
// tributary.openlineage_outbox (once per run and event type), then POSTs the unsent rows in order,
// stopping at the first the collector does not take. A run never waits on this; a collector that is
// down gets everything later, in order. The collector is configured by the operator, not by a
// pipeline, so this is not pipeline egress and does not go through the pipelines' egress check.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { RunsClient } from '../client/runs.js';
import type { Logger } from '../infra/logger.js';
import type { LineageNodeTypes } from './lineage-graph.js';
import { INTERPRETER_WORKFLOW } from '../model/run-contract.js';
import { visibilityLiteral } from '../telemetry/usage-report.js';
import { runOpenLineageEvents, type RunLineageDeps } from './lineage-service.js';

export interface OpenLineageTarget {
  /** The collector, e.g. http://marquez:5000. */
  url: string;
  /** Path under `url` that takes events; the OpenLineage HTTP transport's default is api/v1/lineage. */
  endpoint: string;
  /** Sent as `Authorization: Bearer <apiKey>` (the HTTP transport's api_key auth). */
  apiKey?: string;
}

export interface PublisherDeps {
  platform: pg.Pool;
  warehouse: pg.Pool;
  temporal: Client;
  runs: RunsClient;
  nodeTypes: LineageNodeTypes;
  /** The columns of datasets whose configs do not list them (observed-columns.ts). */
  observe?: RunLineageDeps['observe'];
  target: OpenLineageTarget;
  log: Logger;
  /** How long one POST may take; default 10 s. */
  timeoutMs?: number;
}

/** Any constant, the same in every process: one pass at a time over one platform database. */
const LOCK_KEY = 7_140_001;
/** Visibility is eventually consistent: each pass looks again this far behind its watermark. */
const OVERLAP_MS = 5 * 60_000;
const SEND_BATCH = 100;

export const collectorUrl = (target: OpenLineageTarget) =>
  new URL(target.endpoint.replace(/^\/+/, ''), target.url.endsWith('/') ? target.url : `${target.url}/`).href;

/** Writes the events of runs started or closed since the last pass that are not in the outbox yet. */
export async function enqueueRunEvents(deps: PublisherDeps, db: pg.PoolClient): Promise<number> {
  const passStart = new Date();
  const state = await db.query<{ watermark: Date }>('select watermark from tributary.openlineage_state');
  if (!state.rows[0]) {
    // The first pass starts the stream now: runs from before the collector was set up are not sent.
    await db.query('insert into tributary.openlineage_state (watermark) values ($1) on conflict do nothing', [
      new Date(passStart.getTime() - OVERLAP_MS),
    ]);
  }
  const watermark = state.rows[0]?.watermark ?? new Date(passStart.getTime() - OVERLAP_MS);
  const since = visibilityLiteral(new Date(watermark.getTime() - OVERLAP_MS).toISOString());
  const runIds = new Set<string>();
  for await (const execution of deps.temporal.workflow.list({
    // Only this deployment's runs: another deployment may share the namespace on its own task queue.
    query: `WorkflowType = '${INTERPRETER_WORKFLOW}' AND TaskQueue = ${visibilityLiteral(deps.runs.taskQueue)} AND (StartTime >= ${since} OR CloseTime >= ${since})`,
  }))
    runIds.add(execution.workflowId);

  const ids = [...runIds];
  const known = await db.query<{ run_id: string; event_type: string }>(
    'select run_id, event_type from tributary.openlineage_outbox where run_id = any($1)',
    [ids],
  );
  const have = new Map<string, Set<string>>();
  for (const row of known.rows) have.set(row.run_id, (have.get(row.run_id) ?? new Set()).add(row.event_type));
  let added = 0;
  // Oldest first, so the outbox holds runs in the order they started.
  for (const runId of ids.reverse()) {
    const kinds = have.get(runId);
    // Both events are in: nothing more will happen to this run.
    if (kinds && kinds.size >= 2) continue;
    try {
      const found = await runOpenLineageEvents(deps, runId);
      for (const event of found?.events ?? []) {
        const type = String(event.eventType);
        if (kinds?.has(type)) continue;
        const inserted = await db.query(
          `insert into tributary.openlineage_outbox (run_id, event_type, event) values ($1, $2, $3)
           on conflict (run_id, event_type) do nothing`,
          [runId, type, event],
        );
        added += inserted.rowCount ?? 0;
      }
    } catch (error) {
      // One run that cannot be read (its history gone) must not hold up the others.
      deps.log.warn('openlineage: could not build the events of a run', {
        runId,
        error: (error as Error).message,
      });
    }
  }
  await db.query('update tributary.openlineage_state set watermark = $1', [passStart]);
  return added;
}

/** POSTs unsent events in id order; stops at the first failure so the order holds. */
export async function sendUnsent(
  deps: PublisherDeps,
  db: pg.PoolClient,
): Promise<{ sent: number; failed: boolean }> {
  const url = collectorUrl(deps.target);
  let sent = 0;
  for (;;) {
    const { rows } = await db.query<{ id: string; event: unknown }>(
      'select id, event from tributary.openlineage_outbox where sent_at is null order by id limit $1',
      [SEND_BATCH],
    );
    if (rows.length === 0) return { sent, failed: false };
    for (const row of rows) {
      let error: string | undefined;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(deps.target.apiKey ? { authorization: `Bearer ${deps.target.apiKey}` } : {}),
          },
          body: JSON.stringify(row.event),
          signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (!response.ok) error = `the collector answered ${response.status}`;
      } catch (e) {
        error = (e as Error).message;
      }
      if (error) {
        await db.query(
          'update tributary.openlineage_outbox set attempts = attempts + 1, last_error = $2 where id = $1',
          [row.id, error.slice(0, 500)],
        );
        return { sent, failed: true };
      }
      await db.query(
        'update tributary.openlineage_outbox set sent_at = now(), attempts = attempts + 1, last_error = null where id = $1',
        [row.id],
      );
      sent++;
    }
  }
}

/** One pass: enqueue, then send. Another process holding the lock means it is doing the same. */
export async function publishOnce(
  deps: PublisherDeps,
): Promise<{ enqueued: number; sent: number; failed: boolean } | null> {
  const db = await deps.platform.connect();
  try {
    const locked = await db.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [LOCK_KEY]);
    if (!locked.rows[0]?.ok) return null;
    try {
      const enqueued = await enqueueRunEvents(deps, db);
      return { enqueued, ...(await sendUnsent(deps, db)) };
    } finally {
      await db.query('select pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  } finally {
    db.release();
  }
}

/** A pass every `intervalMs` (never two at once) until stopped; failures are logged and retried. */
export function startOpenLineagePublisher(
  deps: PublisherDeps,
  intervalMs: number,
): { stop(): Promise<void> } {
  let current: Promise<unknown> = Promise.resolve();
  let running = false;
  let stopped = false;
  let failing = false;
  const tick = () => {
    if (stopped || running) return;
    running = true;
    current = publishOnce(deps)
      .then((outcome) => {
        if (outcome?.failed && !failing)
          deps.log.warn('openlineage: the collector is not taking events; will retry');
        if (outcome && !outcome.failed && failing)
          deps.log.info('openlineage: the collector takes events again');
        failing = outcome?.failed ?? failing;
      })
      .catch((error: Error) =>
        deps.log.warn('openlineage: a pass failed; retrying', { error: error.message }),
      )
      .finally(() => {
        running = false;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current;
    },
  };
}
