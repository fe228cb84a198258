// What each pipeline's schedule was asked for (cron, time zone, params). Temporal owns the
// schedule itself; this row lets a new pipeline version be recompiled with the same params.
import type pg from 'pg';

export interface ScheduleRecord {
  pipelineId: string;
  cron: string;
  timezone: string;
  params: Record<string, unknown>;
  planVersion: number;
  updatedBy: string;
  createdAt: string;
  updatedAt: string;
}

interface ScheduleRow {
  pipeline_id: string;
  cron: string;
  timezone: string;
  params: Record<string, unknown>;
  plan_version: number;
  updated_by: string;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (r: ScheduleRow): ScheduleRecord => ({
  pipelineId: r.pipeline_id,
  cron: r.cron,
  timezone: r.timezone,
  params: r.params,
  planVersion: r.plan_version,
  updatedBy: r.updated_by,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export class ScheduleStore {
  constructor(private readonly pool: pg.Pool) {}

  async get(pipelineId: string): Promise<ScheduleRecord | undefined> {
    const result = await this.pool.query<ScheduleRow>(
      'select * from tributary.pipeline_schedules where pipeline_id = $1',
      [pipelineId],
    );
    return result.rows[0] && toRecord(result.rows[0]);
  }

  async put(input: Omit<ScheduleRecord, 'createdAt' | 'updatedAt'>): Promise<ScheduleRecord> {
    const result = await this.pool.query<ScheduleRow>(
      `insert into tributary.pipeline_schedules (pipeline_id, cron, timezone, params, plan_version, updated_by)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (pipeline_id) do update set cron = excluded.cron, timezone = excluded.timezone,
         params = excluded.params, plan_version = excluded.plan_version, updated_by = excluded.updated_by,
         updated_at = now()
       returning *`,
      [
        input.pipelineId,
        input.cron,
        input.timezone,
        JSON.stringify(input.params),
        input.planVersion,
        input.updatedBy,
      ],
    );
    return toRecord(result.rows[0]!);
  }

  async setPlanVersion(pipelineId: string, version: number): Promise<void> {
    await this.pool.query(
      'update tributary.pipeline_schedules set plan_version = $2, updated_at = now() where pipeline_id = $1',
      [pipelineId, version],
    );
  }

  async delete(pipelineId: string): Promise<boolean> {
    const result = await this.pool.query('delete from tributary.pipeline_schedules where pipeline_id = $1', [
      pipelineId,
    ]);
    return (result.rowCount ?? 0) > 0;
  }
}
