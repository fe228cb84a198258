// Pipeline drafts: the editor's autosaved working copy, one per pipeline. A draft is not a version
// (nothing runs it but the editor); publishing makes it one (see pipelines/publish-pipeline.ts).
import type pg from 'pg';
import type { Pipeline } from '../model/pipeline.schema.js';

export interface PipelineDraft {
  pipelineId: string;
  document: Pipeline;
  baseVersion: number;
  updatedBy: string;
  updatedAt: string;
}

interface DraftRow {
  pipeline_id: string;
  document: Pipeline;
  base_version: number;
  updated_by: string;
  updated_at: Date;
}

const toDraft = (r: DraftRow): PipelineDraft => ({
  pipelineId: r.pipeline_id,
  document: r.document,
  baseVersion: r.base_version,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at.toISOString(),
});

export class DraftStore {
  constructor(private readonly pool: pg.Pool) {}

  /** The draft of a live pipeline; undefined when it has none (or the pipeline was deleted). */
  async get(pipelineId: string): Promise<PipelineDraft | undefined> {
    const result = await this.pool.query<DraftRow>(
      `select d.* from tributary.pipeline_drafts d
         join tributary.pipelines p on p.id = d.pipeline_id and p.deleted_at is null
        where d.pipeline_id = $1`,
      [pipelineId],
    );
    return result.rows[0] && toDraft(result.rows[0]);
  }

  /**
   * Saves the draft. A new draft starts from `baseVersion`; an existing one keeps the version it
   * started from, so the editor can still see that someone published in between.
   */
  async put(
    pipelineId: string,
    document: Pipeline,
    baseVersion: number,
    actor: string,
  ): Promise<PipelineDraft> {
    const result = await this.pool.query<DraftRow>(
      `insert into tributary.pipeline_drafts (pipeline_id, document, base_version, updated_by)
       values ($1, $2, $3, $4)
       on conflict (pipeline_id) do update
         set document = excluded.document, updated_by = excluded.updated_by, updated_at = clock_timestamp()
       returning *`,
      [pipelineId, JSON.stringify(document), baseVersion, actor],
    );
    return toDraft(result.rows[0]!);
  }

  /**
   * Removes the draft; with `ifDocument`, only while it still holds that document, so an autosave
   * that landed after a publish read the draft survives the publish.
   */
  async remove(pipelineId: string, ifDocument?: Pipeline): Promise<boolean> {
    const result = await this.pool.query(
      `delete from tributary.pipeline_drafts
        where pipeline_id = $1 and ($2::jsonb is null or document = $2::jsonb)`,
      [pipelineId, ifDocument ? JSON.stringify(ifDocument) : null],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Keeps the document a draft run ran (see 121_draft_run_documents.sql); older than a week goes. */
  async recordRun(runId: string, pipelineId: string, document: unknown): Promise<void> {
    await this.pool.query(
      `with old as (delete from tributary.draft_run_documents where created_at < now() - interval '7 days')
       insert into tributary.draft_run_documents (run_id, pipeline_id, document) values ($1, $2, $3)
       on conflict (run_id) do nothing`,
      [runId, pipelineId, JSON.stringify(document)],
    );
  }

  /** The documents these draft runs of the pipeline ran, by run id (runs not recorded are left out). */
  async runDocuments(pipelineId: string, runIds: string[]): Promise<Map<string, Pipeline>> {
    if (runIds.length === 0) return new Map();
    const result = await this.pool.query<{ run_id: string; document: Pipeline }>(
      `select run_id, document from tributary.draft_run_documents where pipeline_id = $1 and run_id = any($2)`,
      [pipelineId, runIds],
    );
    return new Map(result.rows.map((r) => [r.run_id, r.document]));
  }
}
