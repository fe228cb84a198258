// Writes each closed run's record (runs/run-records.store.ts) before Temporal's retention can delete
// its history. One pass lists the runs on this deployment's task queue that closed since the stored
// watermark (less an overlap: visibility is eventually consistent) and records those without one.
// It runs at start (the catch-up for runs that closed while no process watched) and then every
// TRIBUTARY_RUN_RECORD_SECONDS; if the namespace's retention were shorter than the time between
// two passes, a run could lose its history before its record is written (docs/operations/run-records.md).
import { startPeriodic } from '../infra/periodic.js';
import type { Client } from '@temporalio/client';
import { auditTrailOf } from '../audit/run-audit.js';
import { fetchRunHistory, UnreadableRunError } from '../audit/run-history.js';
import { RunNotFoundError, type RunsClient } from '../client/runs.js';
import type { Logger } from '../infra/logger.js';
import { INTERPRETER_WORKFLOW } from '../model/run-contract.js';
import { runUsageFactsOf } from '../telemetry/run-usage.js';
import { mapLimit, visibilityLiteral } from '../telemetry/usage-report.js';
import type { RunRecordStore } from './run-records.store.js';

const OVERLAP_MS = 10 * 60_000;
const CONCURRENCY = 4;

export interface RecorderDeps {
  temporal: Client;
  runs: RunsClient;
  records: RunRecordStore;
  log?: Logger;
}

export interface RecordPassResult {
  /** Records written by this pass. */
  recorded: number;
  /** Closed runs looked at (recorded before, by this pass, or by another process). */
  seen: number;
}

/** Writes one closed run's record; false when it is still open or already recorded. */
export async function recordRun(deps: RecorderDeps, runId: string): Promise<boolean> {
  const closed = await deps.runs.describeClosed(runId);
  if (!closed) return false;
  const history = await fetchRunHistory(deps.temporal, runId);
  return deps.records.insert({
    runId,
    executionRunId: closed.executionRunId,
    taskQueue: closed.taskQueue,
    summary: closed.summary,
    detail: closed.detail,
    audit: auditTrailOf(history),
    usage: runUsageFactsOf(history),
  });
}

/** One pass: records every run on the task queue that closed since the watermark and has no record. */
export async function recordClosedRuns(
  deps: RecorderDeps,
  options: { full?: boolean } = {},
): Promise<RecordPassResult> {
  const taskQueue = deps.runs.taskQueue;
  const watermark = options.full ? null : await deps.records.watermark(taskQueue);
  const clauses = [
    `WorkflowType = '${INTERPRETER_WORKFLOW}'`,
    `TaskQueue = ${visibilityLiteral(taskQueue)}`,
    `ExecutionStatus != 'Running'`,
  ];
  if (watermark) {
    const since = new Date(watermark.getTime() - OVERLAP_MS).toISOString();
    clauses.push(`CloseTime >= ${visibilityLiteral(since)}`);
  }
  const closed: { runId: string; closeTime: number }[] = [];
  for await (const execution of deps.temporal.workflow.list({ query: clauses.join(' AND ') })) {
    closed.push({ runId: execution.workflowId, closeTime: execution.closeTime?.getTime() ?? 0 });
  }
  const done = await deps.records.recorded(closed.map((c) => c.runId));
  const todo = closed.filter((c) => !done.has(c.runId));
  const failures: { runId: string; error: Error }[] = [];
  const written = await mapLimit(todo, CONCURRENCY, async ({ runId }) => {
    try {
      return await recordRun(deps, runId);
    } catch (error) {
      // Gone between the list and the read: nothing is left to record.
      if (error instanceof RunNotFoundError) return false;
      if (error instanceof UnreadableRunError) {
        deps.log?.warn('run records: skipped a run whose history is not readable', { runId });
        return false;
      }
      failures.push({ runId, error: error as Error });
      return false;
    }
  });
  if (failures.length > 0) {
    // The watermark stays, so the next pass tries these again.
    throw new AggregateError(
      failures.map((f) => f.error),
      `Run records: ${failures.length} closed run(s) could not be recorded, e.g. ${failures[0]!.runId}: ${failures[0]!.error.message}`,
    );
  }
  const latest = closed.reduce((max, c) => Math.max(max, c.closeTime), 0);
  if (latest > 0) await deps.records.advanceWatermark(taskQueue, new Date(latest));
  const recorded = written.filter(Boolean).length;
  if (recorded > 0) deps.log?.info('run records written', { recorded });
  return { recorded, seen: closed.length };
}

/**
 * Records now (the catch-up), then every `intervalMs`; applies the retention once a day. A pass never
 * overlaps the previous one; a failed pass is logged and retried at the next tick.
 */
export function startRunRecorder(
  deps: RecorderDeps,
  options: { intervalMs: number; retentionDays: number | null },
): { stop(): Promise<void>; caughtUp: Promise<void> } {
  let lastRetention = 0;
  const pass = async () => {
    if (Date.now() - lastRetention > 24 * 3600_000) {
      const deleted = await deps.records.applyRetention(options.retentionDays);
      lastRetention = Date.now();
      if (deleted > 0) deps.log?.info('run records past TRIBUTARY_RUN_RETENTION_DAYS deleted', { deleted });
    }
    await recordClosedRuns(deps);
  };
  return startPeriodic(pass, options.intervalMs, {
    onError: (error) =>
      deps.log?.warn('run records: a pass failed; retrying at the next interval', { error: error.message }),
  });
}
