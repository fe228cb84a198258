// concurrency "skip" is a promise: of many triggers of one pipeline in the same instant, from
// several API processes (each its own Temporal connection and Postgres pool here), exactly one run
// starts and every other is refused; once it has ended, the next trigger starts a run again.
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RunRefusedError, RunsClient } from '../../src/client/runs.js';
import { PipelineSlots } from '../../src/runs/pipeline-slots.store.js';
import { AesGcmPayloadCodec } from '../../src/temporal/payload-codec.js';
import { startHarness, TEST_PAYLOAD_KEY, type Harness } from '../harness.js';
import { uniq } from './api-harness.js';

let h: Harness;
const processes: { runs: RunsClient; close(): Promise<void> }[] = [];

beforeAll(async () => {
  h = await startHarness();
  for (let i = 0; i < 3; i++) {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 10 });
    const client = new Client({
      connection,
      namespace: 'default',
      dataConverter: { payloadCodecs: [new AesGcmPayloadCodec(TEST_PAYLOAD_KEY)] },
    });
    processes.push({
      runs: new RunsClient(client, h.taskQueue, undefined, undefined, new PipelineSlots(pool)),
      close: async () => {
        await connection.close();
        await pool.end();
      },
    });
  }
});
afterAll(async () => {
  for (const p of processes) await p.close();
  await h?.stop();
});

const slowSkip = (id: string) =>
  h.plan({
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { concurrency: 'skip' },
    nodes: [
      {
        id: 'g',
        type: 'source.generate',
        config: { rows: 2, columns: [{ name: 'n', generator: 'sequence' }] },
      },
      {
        id: 'wait',
        type: 'transform.sql',
        config: { sql: 'select n from {{ inputs.g }} where (select pg_sleep(2)::text) is not null' },
      },
    ],
    edges: [{ from: 'g', to: 'wait' }],
  });

describe('concurrency "skip"', () => {
  it('starts exactly one run of 24 simultaneous triggers from three processes, then one again after it ends', async () => {
    const plan = slowSkip(uniq('skip-race'));
    const outcomes = await Promise.allSettled(
      processes.flatMap((p, i) =>
        Array.from({ length: 8 }, (_, j) =>
          p.runs.start(plan, { trigger: { type: 'api', actor: `process-${i}-${j}` } }),
        ),
      ),
    );
    const started = outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value);
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason as Error);
    expect(started).toHaveLength(1);
    expect(started[0]!.created).toBe(true);
    expect(refused).toHaveLength(23);
    for (const error of refused) {
      expect(error).toBeInstanceOf(RunRefusedError);
      expect(error.message).toContain(started[0]!.runId);
    }
    await h.platform.temporal.workflow.getHandle(started[0]!.runId).result();

    // The slot's holder has ended: the next trigger starts a run.
    const next = await processes[1]!.runs.start(plan, { trigger: { type: 'api', actor: 'after' } });
    expect(next).toMatchObject({ created: true });
    expect(next.runId).not.toBe(started[0]!.runId);
    await h.platform.temporal.workflow.getHandle(next.runId).result();
  });
});
