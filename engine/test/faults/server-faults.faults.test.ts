// Scenarios (b), (c), (d): the servers fail under a running load. (b) Temporal is SIGKILLed and
// restarted on its db file; (c) the step's Postgres connection is terminated mid-COPY and
// mid-publish while a second connection watches the targets; (d) Postgres restarts mid-publish.
// Every run ends succeeded (or, for (d), clearly failed), and each target holds the old rows or
// the new ones, exactly, never a part.
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultStack, type FaultStack } from './fault-stack.js';
import {
  createPipeline,
  exactly,
  loadPipeline,
  MODES,
  report,
  runResult,
  sleep,
  startRun,
  targetState,
  waitForRunning,
  writeCsv,
  type Expected,
  type TargetState,
} from './fault-kit.js';

let stack: FaultStack;
let expected: Expected;
const OLD_ROWS = 10;

beforeAll(async () => {
  stack = await startFaultStack();
  expected = await writeCsv(stack.dataDir, 'faults/rows.csv');
  await stack.startWorker();
});
afterAll(async () => stack?.stop());

const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));

/** A schema whose replace target already holds OLD_ROWS old rows, so "old or new" means something. */
async function freshSchema(name: string): Promise<TargetState> {
  await stack.db.query(`drop schema if exists ${name} cascade; create schema ${name}`);
  await stack.db.query(
    `create table ${name}.t_replace as
       select g::bigint as id, (g * 1000)::bigint as amount, 'old'::text as label, 0::int as bucket
         from generate_series(1, ${OLD_ROWS}) g`,
  );
  await stack.giveSchema(name);
  return (await targetState(stack.db, `${name}.t_replace`))!;
}

/** Polls the targets' row counts from a connection of its own until stopped; returns what it saw. */
function watchTargets(schema: string): { stop(): Promise<Map<string, Set<number | null>>> } {
  const seen = new Map<string, Set<number | null>>(MODES.map((m) => [m, new Set()]));
  let running = true;
  const loop = (async () => {
    let client: pg.PoolClient | undefined;
    while (running) {
      try {
        client ??= await stack.db.connect();
        for (const mode of MODES) {
          const table = `${schema}.t_${mode}`;
          // Two statements: a count of a table that does not exist yet fails at parse time.
          const exists = await client.query('select to_regclass($1) as t', [table]);
          if (!exists.rows[0].t) {
            seen.get(mode)!.add(null);
            continue;
          }
          try {
            seen.get(mode)!.add((await client.query(`select count(*)::int as n from ${table}`)).rows[0].n);
          } catch {
            // Swapped away (replace) between the two statements: the next look sees the new one.
          }
        }
      } catch {
        // Postgres restarting: connect again.
        client?.release(true);
        client = undefined;
      }
      await sleep(100);
    }
    client?.release();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** Waits for a backend of the warehouse running `pattern` (not ours), and terminates it. */
async function terminateBackend(pattern: string, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await stack.db.query(
      `select pid, left(query, 80) as query from pg_stat_activity
        where state = 'active' and pid <> pg_backend_pid() and query ilike $1 limit 1`,
      [pattern],
    );
    if (r.rows[0]) {
      await stack.db.query('select pg_terminate_backend($1)', [r.rows[0].pid]);
      return r.rows[0].query as string;
    }
    if (Date.now() > deadline) throw new Error(`no backend ran ${pattern} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe('servers failing under a load', () => {
  it('(b) completes a run whose Temporal server was SIGKILLed and restarted on its db file', async () => {
    const schema = 'faults_temporal';
    await freshSchema(schema);
    await createPipeline(stack, loadPipeline('temporal-restart', 'faults/rows.csv', schema));
    const runId = await startRun(stack, 'temporal-restart');
    await waitForRunning(stack.temporal, runId, 'load');
    await sleep(300);
    const killedAt = Date.now();
    await stack.killTemporal();
    await sleep(2_000);
    await stack.startTemporal();
    report(`(b) Temporal down and back in ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
    const run = await runResult(stack, runId);
    expect(run.status, show(run.steps)).toBe('succeeded');
    for (const mode of MODES)
      expect(await targetState(stack.db, `${schema}.t_${mode}`), mode).toEqual(exactly(expected));
    report(
      `(b) run ${run.status}; attempts ${show(Object.fromEntries(Object.entries(run.steps ?? {}).map(([k, s]) => [k, s.attempt])))}`,
    );
  });

  it('(c) retries a step whose connection was terminated mid-COPY and mid-publish; nobody sees a half-written target', async () => {
    const schema = 'faults_terminate';
    const old = await freshSchema(schema);
    await createPipeline(stack, loadPipeline('terminate', 'faults/rows.csv', schema));
    const watcher = watchTargets(schema);
    const runId = await startRun(stack, 'terminate');
    const copy = await terminateBackend('copy %from stdin%');
    const publish = await terminateBackend(`insert into "${schema}".%`).catch(async (error: Error) => {
      throw new Error(`${error.message}; the run: ${show(await runResult(stack, runId, 1_000))}`, {
        cause: error,
      });
    });
    const run = await runResult(stack, runId);
    const seen = await watcher.stop();
    report(
      `(c) terminated "${copy}" and "${publish}"; run ${run.status}; seen ${show(Object.fromEntries([...seen].map(([m, s]) => [m, [...s]])))}`,
    );
    expect(run.status, show(run.steps)).toBe('succeeded');
    expect(run.steps?.load?.attempt).toBeGreaterThanOrEqual(2);
    for (const mode of MODES) {
      expect(await targetState(stack.db, `${schema}.t_${mode}`), mode).toEqual(exactly(expected));
      const allowed = mode === 'replace' ? [old.rows, expected.rows] : [null, 0, expected.rows];
      for (const n of seen.get(mode)!) expect(allowed, `${mode} was seen with ${n} rows`).toContain(n);
    }
    // The watcher saw the targets before the publish too, so it was watching throughout.
    expect([...seen.get('replace')!]).toContain(old.rows);
    expect([...seen.get('append')!]).toContain(null);
  });

  it('(d) survives a Postgres restart mid-publish: the run completes or fails clearly, targets old or new', async () => {
    const schema = 'faults_pgrestart';
    const old = await freshSchema(schema);
    await createPipeline(stack, loadPipeline('pg-restart', 'faults/rows.csv', schema));
    const runId = await startRun(stack, 'pg-restart');
    await waitForRunning(stack.temporal, runId, 'sink-replace');
    await sleep(200);
    await stack.restartPostgres(1_000);
    const run = await runResult(stack, runId);
    const attempts = Object.fromEntries(Object.entries(run.steps ?? {}).map(([k, v]) => [k, v.attempt]));
    report(
      `(d) run ${run.status}; attempts ${show(attempts)}${run.status === 'succeeded' ? '' : `: ${show(run.steps)}`}`,
    );
    expect(['succeeded', 'failed']).toContain(run.status);
    if (run.status === 'failed') {
      const failed = Object.values(run.steps ?? {}).filter((s) => s.status === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      for (const s of failed) expect(s.error).toMatch(/\S/);
    }
    const replace = await targetState(stack.db, `${schema}.t_replace`);
    expect([show(old), show(exactly(expected))]).toContain(show(replace));
    for (const mode of ['append', 'upsert'] as const) {
      const state = await targetState(stack.db, `${schema}.t_${mode}`);
      expect([show(null), show(exactly(expected))]).toContain(show(state));
    }
    if (run.status === 'succeeded') {
      for (const mode of MODES)
        expect(await targetState(stack.db, `${schema}.t_${mode}`)).toEqual(exactly(expected));
    }
  });
});
