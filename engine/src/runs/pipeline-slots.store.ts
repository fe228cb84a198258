// The slot of a pipeline under concurrency "skip" (migration 091): one run at a time, claimed under
// a per-pipeline advisory lock so that check-then-start is one step across every API process.
import type pg from 'pg';
import { withTransaction } from '../store/transaction.js';

/** Any constant: the advisory lock's first key, the pipeline's hash the second. */
const SLOT_LOCK_SPACE = 7_411_091;

export class PipelineSlots {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Runs `claim` alone for this pipeline (other processes wait), with the run that holds the slot
   * (null: none yet); the run id it returns becomes the holder.
   */
  async exclusive<T>(
    pipelineId: string,
    claim: (holder: string | null) => Promise<{ result: T; holder?: string }>,
  ): Promise<T> {
    return withTransaction(this.pool, async (client) => {
      await client.query('select pg_advisory_xact_lock($1, hashtext($2))', [SLOT_LOCK_SPACE, pipelineId]);
      const { rows } = await client.query<{ run_id: string }>(
        'select run_id from tributary.pipeline_run_slots where pipeline_id = $1',
        [pipelineId],
      );
      const { result, holder } = await claim(rows[0]?.run_id ?? null);
      if (holder) {
        await client.query(
          `insert into tributary.pipeline_run_slots (pipeline_id, run_id) values ($1, $2)
           on conflict (pipeline_id) do update set run_id = excluded.run_id, claimed_at = now()`,
          [pipelineId, holder],
        );
      }
      return result;
    });
  }
}
