// Run records: what a closed run was (its summary, detail, audit trail and usage facts) kept in the
// platform database once it closes, so every reader answers the same after Temporal has deleted the
// run's history. Append-only (migration 090): written once, never changed, deleted only past
// TRIBUTARY_RUN_RETENTION_DAYS.
import type pg from 'pg';
import type { RunAuditTrail } from '../audit/run-audit.js';
import type { RunDetail, RunSummary } from '../client/runs.js';
import type { TriggerType } from '../model/plan.js';
import type { RunUsageFacts } from '../telemetry/run-usage.js';

export interface RunRecord {
  runId: string;
  /** Temporal's id of the execution (OpenLineage names the run by it). */
  executionRunId: string;
  taskQueue: string;
  summary: RunSummary;
  detail: RunDetail;
  audit: RunAuditTrail;
  usage: RunUsageFacts;
}

export interface RunRecordFilter {
  project?: string;
  /** Only these projects (a token's reach); an empty list matches nothing. */
  projects?: string[];
  pipelineId?: string;
  trigger?: TriggerType;
  /** Started strictly before this (the runs list's cursor). */
  startedBefore?: string;
  /** Started at or after this. */
  startedFrom?: Date;
  /** Started before this. */
  startedTo?: Date;
  limit?: number;
}

interface RecordRow {
  run_id: string;
  execution_run_id: string;
  task_queue: string;
  summary: RunSummary;
  detail: RunDetail;
  audit: RunAuditTrail;
  usage: RunUsageFacts;
}

const toRecord = (r: RecordRow): RunRecord => ({
  runId: r.run_id,
  executionRunId: r.execution_run_id,
  taskQueue: r.task_queue,
  summary: r.summary,
  detail: r.detail,
  audit: r.audit,
  usage: r.usage,
});

export class RunRecordStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(runId: string): Promise<RunRecord | undefined> {
    const { rows } = await this.pool.query<RecordRow>(
      'select * from tributary.run_records where run_id = $1',
      [runId],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Which of these runs have a record. */
  async recorded(runIds: string[]): Promise<Set<string>> {
    if (runIds.length === 0) return new Set();
    const { rows } = await this.pool.query<{ run_id: string }>(
      'select run_id from tributary.run_records where run_id = any($1)',
      [runIds],
    );
    return new Set(rows.map((r) => r.run_id));
  }

  /** Writes a record once; a second write of the same run (another process got there first) is a no-op. */
  async insert(record: RunRecord): Promise<boolean> {
    const s = record.summary;
    const { rowCount } = await this.pool.query(
      `insert into tributary.run_records
         (run_id, execution_run_id, task_queue, project, pipeline_id, trigger, status, started_at, ended_at,
          summary, detail, audit, usage)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       on conflict (run_id) do nothing`,
      [
        record.runId,
        record.executionRunId,
        record.taskQueue,
        s.project,
        s.pipelineId,
        s.trigger,
        s.status,
        s.startedAt,
        s.endedAt,
        // Serialised here, so the json column holds exactly the text the API will send.
        JSON.stringify(record.summary),
        JSON.stringify(record.detail),
        JSON.stringify(record.audit),
        JSON.stringify(record.usage),
      ],
    );
    return rowCount === 1;
  }

  /** Summaries newest first, for the runs list. */
  async summaries(filter: RunRecordFilter): Promise<RunSummary[]> {
    const { where, values } = whereOf(filter);
    values.push(filter.limit ?? 50);
    const { rows } = await this.pool.query<{ summary: RunSummary }>(
      `select summary from tributary.run_records ${where} order by started_at desc, run_id desc limit $${values.length}`,
      values,
    );
    return rows.map((r) => r.summary);
  }

  /** Usage facts of runs started in a range, for usage reports. */
  async usages(filter: RunRecordFilter): Promise<Map<string, RunUsageFacts>> {
    const { where, values } = whereOf(filter);
    const { rows } = await this.pool.query<{ run_id: string; usage: RunUsageFacts }>(
      `select run_id, usage from tributary.run_records ${where} order by started_at desc`,
      values,
    );
    return new Map(rows.map((r) => [r.run_id, r.usage]));
  }

  /** Records written at or after `since` (the telemetry sync's watermark), oldest first. */
  async recordedSince(since: Date | null): Promise<{ usage: RunUsageFacts; recordedAt: Date }[]> {
    const { rows } = await this.pool.query<{ usage: RunUsageFacts; recorded_at: Date }>(
      `select usage, recorded_at from tributary.run_records
        ${since ? 'where recorded_at >= $1' : ''} order by recorded_at`,
      since ? [since] : [],
    );
    return rows.map((r) => ({ usage: r.usage, recordedAt: r.recorded_at }));
  }

  /** Sets TRIBUTARY_RUN_RETENTION_DAYS (null: forever) and deletes the records past it. */
  async applyRetention(days: number | null): Promise<number> {
    await this.pool.query('update tributary.run_record_policy set retention_days = $1 where id', [days]);
    if (days === null) return 0;
    const { rowCount } = await this.pool.query(
      `delete from tributary.run_records where ended_at < now() - make_interval(days => $1::int)`,
      [days],
    );
    return rowCount ?? 0;
  }

  async watermark(taskQueue: string): Promise<Date | null> {
    const { rows } = await this.pool.query<{ watermark: Date | null }>(
      'select watermark from tributary.run_record_state where task_queue = $1',
      [taskQueue],
    );
    return rows[0]?.watermark ?? null;
  }

  /** Moves the catch-up's watermark forward only (two processes may finish passes out of order). */
  async advanceWatermark(taskQueue: string, to: Date): Promise<void> {
    await this.pool.query(
      `insert into tributary.run_record_state (task_queue, watermark) values ($1, $2)
       on conflict (task_queue) do update
         set watermark = greatest(tributary.run_record_state.watermark, excluded.watermark)`,
      [taskQueue, to],
    );
  }
}

function whereOf(filter: RunRecordFilter): { where: string; values: unknown[] } {
  const clauses: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    clauses.push(sql.replace('?', `$${values.length}`));
  };
  if (filter.project) add('project = ?', filter.project);
  if (filter.projects) add('project = any(?)', filter.projects);
  if (filter.pipelineId) add('pipeline_id = ?', filter.pipelineId);
  if (filter.trigger) add('trigger = ?', filter.trigger);
  if (filter.startedBefore) add('started_at < ?', filter.startedBefore);
  if (filter.startedFrom) add('started_at >= ?', filter.startedFrom);
  if (filter.startedTo) add('started_at < ?', filter.startedTo);
  return { where: clauses.length ? `where ${clauses.join(' and ')}` : '', values };
}
