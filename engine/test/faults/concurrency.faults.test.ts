// Scenario (e): two runs of one pipeline started at the same moment under each concurrency
// setting (allow: both run at once; queue: one after the other; skip: exactly one starts), and
// incremental state that only a successful run moves: a failed and a cancelled run leave the
// cursor where it was, and the next good run reads exactly the rows past it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultStack, type Body, type FaultStack } from './fault-stack.js';
import { createPipeline, report, runResult, sleep, waitForRunning } from './fault-kit.js';

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack();
  await stack.startWorker();
  await stack.db.query('drop schema if exists faults_conc cascade; create schema faults_conc');
  await stack.giveSchema('faults_conc');
});
afterAll(async () => stack?.stop());

const slowPipeline = (id: string, concurrency: string) => ({
  apiVersion: 'tributary/v1',
  id,
  name: id,
  settings: { concurrency },
  nodes: [
    {
      id: 'g',
      type: 'source.generate',
      config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    {
      id: 'wait',
      type: 'transform.sql',
      config: { sql: 'select n from {{ inputs.g }} where (select pg_sleep(3)::text) is not null' },
    },
    {
      id: 'out',
      type: 'sink.postgres',
      config: { table: `faults_conc.${id.replace(/-/g, '_')}`, mode: 'append' },
    },
  ],
  edges: [
    { from: 'g', to: 'wait' },
    { from: 'wait', to: 'out' },
  ],
});

async function startTwo(pipelineId: string) {
  return Promise.all([0, 1].map(() => stack.call('POST', `/api/pipelines/${pipelineId}/runs`, {})));
}
const ms = (t: string | null | undefined) => (t ? Date.parse(t) : NaN);
const count = async (table: string) =>
  (await stack.db.query(`select count(*)::int as n from faults_conc.${table}`)).rows[0].n as number;

describe('two runs of one pipeline started together', () => {
  it('allow: both run, overlapping, and both publish', async () => {
    await createPipeline(stack, slowPipeline('conc-allow', 'allow'));
    const started = await startTwo('conc-allow');
    expect(started.map((s) => s.status)).toEqual([202, 202]);
    const runs = await Promise.all(started.map((s) => runResult(stack, s.body.runId)));
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const [a, b] = runs.map((r) => r.steps!.wait as Body);
    // Both slow steps were running at the same time.
    expect(ms(a.startedAt)).toBeLessThan(ms(b.endedAt));
    expect(ms(b.startedAt)).toBeLessThan(ms(a.endedAt));
    expect(await count('conc_allow')).toBe(6);
  });

  it('queue: both run, one after the other', async () => {
    await createPipeline(stack, slowPipeline('conc-queue', 'queue'));
    const started = await startTwo('conc-queue');
    expect(started.map((s) => s.status)).toEqual([202, 202]);
    const runs = await Promise.all(started.map((s) => runResult(stack, s.body.runId)));
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const [first, second] = runs
      .map((r) => r.steps!.g as Body)
      .sort((x, y) => ms(x.startedAt) - ms(y.startedAt));
    const firstEnd = Math.max(
      ...runs.map((r) => ms((r.steps!.out as Body).endedAt)).filter((t) => t < ms(second.startedAt)),
    );
    expect(ms(first.startedAt)).toBeLessThan(ms(second.startedAt));
    // The second run's first step started only after the first run's last step ended.
    expect(firstEnd).toBeLessThanOrEqual(ms(second.startedAt));
    expect(await count('conc_queue')).toBe(6);
  });

  it('skip: a second run while the first is in flight is refused with 409, and only one publishes', async () => {
    await createPipeline(stack, slowPipeline('conc-skip', 'skip'));
    const first = await stack.call('POST', '/api/pipelines/conc-skip/runs', {});
    expect(first.status).toBe(202);
    await waitForRunning(stack.temporal, first.body.runId, 'wait');
    const second = await stack.call('POST', '/api/pipelines/conc-skip/runs', {});
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain(first.body.runId);
    expect((await runResult(stack, first.body.runId)).status).toBe('succeeded');
    expect(await count('conc_skip')).toBe(3);
  });

  it('skip: of two runs started in the same instant exactly one starts, the other gets 409', async () => {
    // RunsClient.start checks and starts under the pipeline's slot lock (runs/pipeline-slots.store.ts).
    await createPipeline(stack, slowPipeline('conc-skip-race', 'skip'));
    const started = await startTwo('conc-skip-race');
    const accepted = started.filter((s) => s.status === 202);
    for (const s of started.filter((x) => x.status !== 202)) expect(s.status).toBe(409);
    expect(accepted).toHaveLength(1);
    const runs = await Promise.all(accepted.map((s) => runResult(stack, s.body.runId)));
    expect(runs.map((r) => r.status)).toEqual(accepted.map(() => 'succeeded'));
    expect(await count('conc_skip_race')).toBe(3 * accepted.length);
    report(`(e) skip, two starts in the same instant: ${accepted.length} accepted`);
  });
});

describe('incremental state', () => {
  it('is moved by a successful run only, never by a failed or a cancelled one', async () => {
    await stack.db.query(
      `create table faults_conc.src as select g::bigint as id, ('v' || g)::text as v from generate_series(1, 5) g`,
    );
    const secret = await stack.call('PUT', '/api/projects/default/secrets/faults_src', {
      value: stack.databaseUrl,
    });
    expect(secret.status).toBe(200);
    await createPipeline(stack, {
      apiVersion: 'tributary/v1',
      id: 'incremental',
      name: 'incremental',
      params: { fail: { type: 'boolean', default: false }, sleep: { type: 'number', default: 0 } },
      nodes: [
        {
          id: 'src',
          type: 'source.postgres',
          config: { connection: 'faults_src', table: 'faults_conc.src', cursorColumn: 'id' },
        },
        {
          id: 'check',
          type: 'transform.sql',
          config: {
            sql:
              'select id, v from {{ inputs.src }} where (select pg_sleep({{ params.sleep }}::float)::text) is not null ' +
              'and (case when {{ params.fail }}::boolean then 1 / 0 else 1 end) = 1',
          },
          retry: { maxAttempts: 1 },
        },
        { id: 'out', type: 'sink.postgres', config: { table: 'faults_conc.inc_out', mode: 'append' } },
      ],
      edges: [
        { from: 'src', to: 'check' },
        { from: 'check', to: 'out' },
      ],
    });
    const cursor = async () =>
      (
        await stack.db.query(
          `select state from tributary.node_state where pipeline_id = 'incremental' and node_id = 'src'`,
        )
      ).rows[0]?.state?.cursor ?? null;
    const run = async (params: Record<string, unknown>) => {
      const started = await stack.call('POST', '/api/pipelines/incremental/runs', { params });
      expect(started.status).toBe(202);
      return started.body.runId as string;
    };

    expect((await runResult(stack, await run({}))).status).toBe('succeeded');
    expect(String(await cursor())).toBe('5');
    await stack.db.query(`insert into faults_conc.src select g, 'v' || g from generate_series(6, 8) g`);

    const failed = await runResult(stack, await run({ fail: true }));
    expect(failed.status).toBe('failed');
    expect(String(await cursor())).toBe('5');

    const cancelledId = await run({ sleep: 30 });
    await waitForRunning(stack.temporal, cancelledId, 'check');
    await sleep(500);
    expect((await stack.call('POST', `/api/runs/${cancelledId}/cancel`, { reason: 'faults' })).status).toBe(
      202,
    );
    expect((await runResult(stack, cancelledId)).status).toBe('cancelled');
    expect(String(await cursor())).toBe('5');

    const good = await runResult(stack, await run({}));
    expect(good.status).toBe('succeeded');
    expect(good.steps?.src).toMatchObject({ rowsOut: 3 });
    expect(String(await cursor())).toBe('8');
    const out = await stack.db.query(
      'select count(*)::int as n, count(distinct id)::int as d, sum(id)::int as s from faults_conc.inc_out',
    );
    expect(out.rows[0]).toEqual({ n: 8, d: 8, s: 36 });
    report('(e) allow/queue/skip as promised; cursor 5 → 5 (failed) → 5 (cancelled) → 8');
  });
});
