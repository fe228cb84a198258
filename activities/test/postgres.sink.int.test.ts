// sink.postgres through real pipeline runs: the real worker, Temporal dev server and Postgres.
// Each test publishes into its own tables of one schema of this file's own, so files running in
// parallel against the same server never meet.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runIdFor, stagingSchemaFor } from '../../engine/src/model/run-ids.js';
import { compile } from '../../engine/src/compiler/compile.js';
import { nodeCatalog } from '../../engine/src/platform.js';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { createActivities, type StepActivityFn } from '../src/create-activities.js';
import { registry } from '../src/registry.js';
import type { StepActivityInput } from '../src/step-activity.js';

const suffix = randomBytes(4).toString('hex');
const schema = `sink_it_${suffix}`;
const SECRET = 'ext-db';
let h: Harness;
let wh: pg.Pool;
let ext: pg.Pool;
let extDatabase: string;
// The real sink activity, wrapped by the test worker to lose an attempt after it committed.
/** Runs setup SQL as the platform, then hands what it made to the default project's role. */
async function seed(sql: string): Promise<void> {
  await wh.query(sql);
  await h.giveSchema(schema);
}

let realActivities: Record<string, StepActivityFn> | undefined;
/** What the sink activity was sent, for the tests that look at its input. */
const sinkInputs: StepActivityInput[] = [];
const CRASH_PIPELINE = 'sink-crash-after-commit';

beforeAll(async () => {
  h = await startHarness({
    extraActivities: {
      'sink.postgres': async (input: StepActivityInput) => {
        sinkInputs.push(input);
        const result = await realActivities!['sink.postgres']!(input);
        // Stands in for a worker that dies after the publish committed but before Temporal heard.
        if (input.pipelineId === CRASH_PIPELINE && Context.current().info.attempt === 1) {
          throw new Error('worker lost after commit');
        }
        return result;
      },
    },
  });
  realActivities = createActivities(registry, h.activityDeps);
  wh = h.platform.warehousePool;
  await h.giveSchema(schema);
  extDatabase = `ext_${suffix}`;
  await wh.query(`create database ${extDatabase}`);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${extDatabase}`;
  ext = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // Dropping the database at the end terminates its connections; an ending client must not throw.
  ext.on('error', () => {});
  await h.platform.secrets.set('default', SECRET, url.toString());
});

afterAll(async () => {
  await ext?.end();
  await wh?.query(`drop schema if exists ${schema} cascade`);
  await wh?.query(`drop database if exists ${extDatabase} with (force)`);
  await h?.stop();
});

type Column = Record<string, unknown>;
const sequence = (name: string, start = 1): Column => ({ name, generator: 'sequence', start });
const text = (name: string, prefix: string): Column => ({ name, generator: 'text', prefix });

/** A pipeline of a generate source (`rows` rows of `columns`) and a sink with `sink` config. */
function pipeline(id: string, rows: number, columns: Column[], sink: Record<string, unknown>) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    nodes: [
      { id: 'rows', type: 'source.generate', config: { rows, columns } },
      { id: 'publish', type: 'sink.postgres', config: sink, retry: { initialIntervalSeconds: 0.2 } },
    ],
    edges: [{ from: 'rows', to: 'publish' }],
  };
}

async function rowsOf(db: pg.Pool, table: string, order = 'id'): Promise<Record<string, unknown>[]> {
  return (await db.query(`select * from ${table} order by ${order}`)).rows;
}

async function columnsOf(db: pg.Pool, table: string): Promise<string[]> {
  const result = await db.query<{ c: string }>(
    `select a.attname || ' ' || format_type(a.atttypid, a.atttypmod) as c from pg_attribute a
      where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [table],
  );
  return result.rows.map((r) => r.c);
}

async function ledgerRows(db: pg.Pool, runId: string): Promise<Record<string, unknown>[]> {
  return (
    await db.query(
      'select node_id, target, mode, attempt, rows_out from tributary_meta.sink_ledger where run_id = $1',
      [runId],
    )
  ).rows;
}

describe('sink.postgres', () => {
  it('creates the target on the first append and adds the rows again on a second run', async () => {
    const target = `${schema}.appended`;
    const plan = h.plan(
      pipeline('sink-append', 3, [sequence('id'), text('name', 'n-')], { table: target, mode: 'append' }),
    );
    const first = await h.run(plan);
    expect(first.status).toBe('succeeded');
    expect(first.progress?.steps.publish).toMatchObject({ status: 'succeeded', rowsIn: 3, rowsOut: 3 });
    expect(first.progress?.steps.publish?.bytes).toBeGreaterThan(0);
    expect(await columnsOf(wh, target)).toEqual(['id bigint', 'name text']);

    const second = await h.run(plan);
    expect(second.status).toBe('succeeded');
    const rows = await rowsOf(wh, target, 'id, name');
    expect(rows.map((r) => `${r.id}:${r.name}`)).toEqual([
      '1:n-1',
      '1:n-1',
      '2:n-2',
      '2:n-2',
      '3:n-3',
      '3:n-3',
    ]);
    expect(await ledgerRows(wh, first.runId)).toEqual([
      { node_id: 'publish', target, mode: 'append', attempt: 1, rows_out: '3' },
    ]);
    expect(await ledgerRows(wh, second.runId)).toHaveLength(1);
  });

  it('skips an attempt whose run and node already have a ledger row, and returns the recorded stats', async () => {
    const target = `${schema}.ledgered`;
    const pipelineId = 'sink-ledgered';
    const key = `key-${suffix}`;
    const runId = runIdFor(pipelineId, key);
    await seed(`create table ${target} (id bigint, name text)`);
    await seed(`insert into ${target} values (100, 'already there')`);
    // The ledger table exists once any sink has published into this database.
    await h.run(
      h.plan(pipeline('sink-ledger-bootstrap', 1, [sequence('id')], { table: `${schema}.bootstrap` })),
    );
    await wh.query(
      `insert into tributary_meta.sink_ledger (role, run_id, node_id, target, mode, attempt, rows_in, rows_out, bytes)
       values ('trp_default', $1, 'publish', $2, 'append', 1, 7, 7, 8192)`,
      [runId, target],
    );
    const result = await h.run(
      h.plan(pipeline(pipelineId, 5, [sequence('id'), text('name', 'n-')], { table: target })),
      { idempotencyKey: key },
    );
    expect(result.runId).toBe(runId);
    expect(result.status).toBe('succeeded');
    expect(result.progress?.steps.publish).toMatchObject({ rowsIn: 7, rowsOut: 7, bytes: 8192 });
    expect(await rowsOf(wh, target)).toEqual([{ id: '100', name: 'already there' }]);
  });

  it('does not add the rows twice when an attempt is lost after its publish committed', async () => {
    const target = `${schema}.crashed`;
    const result = await h.run(
      h.plan(pipeline(CRASH_PIPELINE, 4, [sequence('id'), text('name', 'n-')], { table: target })),
    );
    expect(result.status).toBe('succeeded');
    expect(result.progress?.steps.publish).toMatchObject({ attempt: 2, rowsIn: 4, rowsOut: 4 });
    expect((await rowsOf(wh, target)).map((r) => r.id)).toEqual(['1', '2', '3', '4']);
    expect(await ledgerRows(wh, result.runId)).toEqual([
      { node_id: 'publish', target, mode: 'append', attempt: 1, rows_out: '4' },
    ]);
  });

  it('leaves the target untouched when a row fails halfway, and a run after the fix adds each row once', async () => {
    const target = `${schema}.checked`;
    await seed(`create table ${target} (id bigint, name text, constraint small_ids check (id <= 5))`);
    await seed(`insert into ${target} values (1, 'old-1'), (2, 'old-2')`);
    const plan = h.plan(
      pipeline('sink-check', 10, [sequence('id', 3), text('name', 'new-')], { table: target }),
    );

    const failed = await h.run(plan);
    expect(failed.status).toBe('failed');
    expect(failed.progress?.steps.publish?.error).toMatch(/small_ids/);
    expect(await rowsOf(wh, target, 'id, name')).toEqual([
      { id: '1', name: 'old-1' },
      { id: '2', name: 'old-2' },
    ]);
    expect(await ledgerRows(wh, failed.runId)).toEqual([]);

    await seed(`alter table ${target} drop constraint small_ids`);
    const fixed = await h.run(plan);
    expect(fixed.status).toBe('succeeded');
    const rows = await rowsOf(wh, target, 'id, name');
    expect(rows).toHaveLength(12);
    expect(rows.filter((r) => String(r.name).startsWith('new-')).map((r) => Number(r.id))).toEqual([
      3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
  });

  it('replaces the table in one swap: readers see the old rows or the new ones, never an empty table', async () => {
    const target = `${schema}.replaced`;
    await seed(`create table ${target} (id bigint, old_column text)`);
    await seed(`insert into ${target} select i, 'old' from generate_series(1, 3) as i`);
    const plan = h.plan(
      pipeline('sink-replace', 50_000, [sequence('id'), text('name', 'n-')], {
        table: target,
        mode: 'replace',
        primaryKey: ['id'],
      }),
    );
    // A reader polls the table for the whole run.
    const seen = new Set<number>();
    let polling = true;
    const reader = (async () => {
      while (polling) {
        const { rows } = await wh.query<{ n: string }>(`select count(*) as n from ${target}`);
        seen.add(Number(rows[0]!.n));
      }
    })();
    const first = await h.run(plan);
    polling = false;
    await reader;
    expect(first.status).toBe('succeeded');
    expect(first.progress?.steps.publish).toMatchObject({ rowsIn: 50_000, rowsOut: 50_000 });
    expect([...seen].sort((a, b) => a - b)).toEqual([3, 50_000]);
    expect(await columnsOf(wh, target)).toEqual(['id bigint', 'name text']);
    const stats = await wh.query(
      `select count(*)::int as n, min(id)::int as lo, max(id)::int as hi from ${target}`,
    );
    expect(stats.rows[0]).toEqual({ n: 50_000, lo: 1, hi: 50_000 });

    // Again, to show the swapped table's key does not get in the way of the next swap.
    const second = await h.run(
      h.plan(
        pipeline('sink-replace', 2, [sequence('id', 10), text('name', 'again-')], {
          table: target,
          mode: 'replace',
          primaryKey: ['id'],
        }),
      ),
    );
    expect(second.status).toBe('succeeded');
    expect(await rowsOf(wh, target)).toEqual([
      { id: '10', name: 'again-1' },
      { id: '11', name: 'again-2' },
    ]);
    const leftovers = await wh.query(`select to_regclass($1) as t`, [`${schema}.replaced__tributary_new`]);
    expect(leftovers.rows[0].t).toBeNull();
  });

  it('replaces by moving the input into place when only the sink reads it, and by copying when previews keep it', async () => {
    const target = `${schema}.moved`;
    const moved = await h.run(
      h.plan(
        pipeline('sink-move', 5, [sequence('id')], { table: target, mode: 'replace', primaryKey: ['id'] }),
      ),
    );
    expect(moved.status).toBe('succeeded');
    expect(moved.progress?.steps.publish?.notes).toEqual([
      `replaced ${target} with 5 rows (moved into place, not copied)`,
    ]);
    expect(await rowsOf(wh, target)).toHaveLength(5);
    const key = await wh.query(
      `select conname from pg_constraint where conrelid = $1::regclass and contype = 'p'`,
      [target],
    );
    expect(key.rows).toEqual([{ conname: 'moved_pkey' }]);

    const kept = await h.run(
      h.plan({
        ...pipeline('sink-move-kept', 3, [sequence('id')], { table: target, mode: 'replace' }),
        settings: { keepStaging: true },
      }),
    );
    expect(kept.progress?.steps.publish?.notes).toEqual([`replaced ${target} with 3 rows`]);
    const staged = await wh.query(
      'select count(*)::int as n from ' + `"${stagingSchemaFor(kept.runId, 'sink-move-kept')}".rows`,
    );
    expect(staged.rows[0].n).toBe(3);
    expect(await rowsOf(wh, target)).toHaveLength(3);
  });

  it("takes the row count a CSV load reported (COPY's answer) for the input it consumes, instead of counting it", async () => {
    const file = `sink-rows-${suffix}.csv`;
    writeFileSync(
      path.join(h.dataDir, file),
      'id,name\n' + Array.from({ length: 7 }, (_, i) => `${i + 1},n${i + 1}\n`).join(''),
    );
    const target = `${schema}.from_csv`;
    const document = (id: string, keepStaging: boolean) => ({
      apiVersion: 'tributary/v1',
      id,
      name: id,
      settings: { keepStaging },
      nodes: [
        { id: 'orders', type: 'source.csv', config: { path: file } },
        { id: 'publish', type: 'sink.postgres', config: { table: target, mode: 'replace' } },
      ],
      edges: [{ from: 'orders', to: 'publish' }],
    });
    const moved = await h.run(h.plan(document('sink-csv-rows', false)));
    expect(moved.status).toBe('succeeded');
    expect(sinkInputs.find((i) => i.runId === moved.runId)?.inputRows).toEqual({ orders: 7 });
    expect(moved.progress?.steps.publish).toMatchObject({ rowsIn: 7, rowsOut: 7 });
    expect(moved.progress?.steps.publish?.notes).toEqual([
      `replaced ${target} with 7 rows (moved into place, not copied)`,
    ]);
    expect(await ledgerRows(wh, moved.runId)).toEqual([
      { node_id: 'publish', target, mode: 'replace', attempt: 1, rows_out: '7' },
    ]);
    expect(await rowsOf(wh, target)).toHaveLength(7);

    // Kept for previews, the table is not the sink's alone: no count is handed over, it is counted.
    const kept = await h.run(h.plan(document('sink-csv-rows-kept', true)));
    expect(kept.status).toBe('succeeded');
    expect(sinkInputs.find((i) => i.runId === kept.runId)?.inputRows).toBeUndefined();
    expect(kept.progress?.steps.publish).toMatchObject({ rowsIn: 7, rowsOut: 7 });
  });

  it('upserts: inserts new keys and updates existing ones', async () => {
    const target = `${schema}.upserted`;
    const sink = { table: target, mode: 'upsert', primaryKey: ['id'] };
    const first = await h.run(h.plan(pipeline('sink-upsert', 5, [sequence('id'), text('name', 'a-')], sink)));
    expect(first.status).toBe('succeeded');
    const second = await h.run(
      h.plan(pipeline('sink-upsert', 6, [sequence('id', 3), text('name', 'b-')], sink)),
    );
    expect(second.status).toBe('succeeded');
    expect(second.progress?.steps.publish).toMatchObject({ rowsIn: 6, rowsOut: 6 });
    expect((await rowsOf(wh, target)).map((r) => `${r.id}:${r.name}`)).toEqual([
      '1:a-1',
      '2:a-2',
      '3:b-1',
      '4:b-2',
      '5:b-3',
      '6:b-4',
      '7:b-5',
      '8:b-6',
    ]);
    const key = await wh.query(
      `select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = $1::regclass and contype = 'p'`,
      [target],
    );
    expect(key.rows[0].def).toBe('PRIMARY KEY (id)');
  });

  it('refuses an upsert without primaryKey at compile time, naming the field', () => {
    const document = pipeline('sink-upsert-nokey', 1, [sequence('id')], {
      table: `${schema}.x`,
      mode: 'upsert',
    });
    const result = compile(document, { catalog: nodeCatalog });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      expect.objectContaining({
        code: 'invalid_config',
        nodeId: 'publish',
        path: 'nodes[1].config.primaryKey',
        message: expect.stringMatching(/field "primaryKey".*required when mode is "upsert"/),
      }),
    ]);
    expect(() => h.plan(document)).toThrow(/primaryKey/);
  });

  it('refuses an upsert into a table with no unique key on primaryKey, and leaves it untouched', async () => {
    const target = `${schema}.keyless`;
    await seed(`create table ${target} (id bigint, name text)`);
    await seed(`insert into ${target} values (1, 'old')`);
    const result = await h.run(
      h.plan(
        pipeline('sink-upsert-keyless', 3, [sequence('id'), text('name', 'n-')], {
          table: target,
          mode: 'upsert',
          primaryKey: ['id'],
        }),
      ),
    );
    expect(result.status).toBe('failed');
    expect(result.progress?.steps.publish).toMatchObject({ attempt: 1 });
    expect(result.progress?.steps.publish?.error).toMatch(
      /config\.primaryKey: .*keyless has no primary key or unique constraint on \(id\)/,
    );
    expect(await rowsOf(wh, target)).toEqual([{ id: '1', name: 'old' }]);
  });

  it('refuses an upsert whose input repeats a key', async () => {
    const target = `${schema}.dupes`;
    const result = await h.run(
      h.plan(
        pipeline('sink-upsert-dupes', 10, [{ name: 'id', generator: 'integer', min: 1, max: 2 }], {
          table: target,
          mode: 'upsert',
          primaryKey: ['id'],
        }),
      ),
    );
    expect(result.status).toBe('failed');
    expect(result.progress?.steps.publish?.error).toMatch(/primaryKey \(id\) values on more than one row/);
    expect((await wh.query('select to_regclass($1) as t', [target])).rows[0].t).toBeNull();
  });

  it('adds a new input column to the target and leaves target-only columns alone', async () => {
    const target = `${schema}.drifted`;
    await seed(`create table ${target} (id bigint, name text, legacy text)`);
    await seed(`insert into ${target} values (1, 'old', 'kept')`);
    const result = await h.run(
      h.plan(
        pipeline('sink-drift', 2, [sequence('id', 2), text('name', 'n-'), text('extra', 'x-')], {
          table: target,
        }),
      ),
    );
    expect(result.status).toBe('succeeded');
    expect(await columnsOf(wh, target)).toEqual(['id bigint', 'name text', 'legacy text', 'extra text']);
    expect(await rowsOf(wh, target)).toEqual([
      { id: '1', name: 'old', legacy: 'kept', extra: null },
      { id: '2', name: 'n-1', legacy: null, extra: 'x-1' },
      { id: '3', name: 'n-2', legacy: null, extra: 'x-2' },
    ]);
  });

  it('accepts safe widenings: bigint input into numeric and text target columns', async () => {
    const target = `${schema}.widened`;
    await seed(`create table ${target} (id numeric(20,0), name text, code text)`);
    const result = await h.run(
      h.plan(
        pipeline('sink-widen', 2, [sequence('id'), text('name', 'n-'), sequence('code', 7)], {
          table: target,
        }),
      ),
    );
    expect(result.status).toBe('succeeded');
    expect(await rowsOf(wh, target)).toEqual([
      { id: '1', name: 'n-1', code: '7' },
      { id: '2', name: 'n-2', code: '8' },
    ]);
  });

  it('refuses an incompatible type change, naming column and types, and writes nothing', async () => {
    const target = `${schema}.narrow`;
    await seed(`create table ${target} (id integer, name integer)`);
    await seed(`insert into ${target} values (1, 1)`);
    const result = await h.run(
      h.plan(
        pipeline('sink-narrow', 2, [sequence('id'), text('name', 'n-'), text('extra', 'x-')], {
          table: target,
        }),
      ),
    );
    expect(result.status).toBe('failed');
    const error = result.progress?.steps.publish?.error ?? '';
    expect(result.progress?.steps.publish?.attempt).toBe(1);
    expect(error).toContain('column "id": the target has type integer, the input has bigint');
    expect(error).toContain('column "name": the target has type integer, the input has text');
    expect(error).toContain('nothing was written');
    expect(await columnsOf(wh, target)).toEqual(['id integer', 'name integer']);
    expect(await rowsOf(wh, target)).toEqual([{ id: 1, name: 1 }]);
  });

  it('publishes into an external database named by a secret: append, upsert and replace', async () => {
    const base = { connection: SECRET, table: 'mart.customers' };
    const append = await h.run(
      h.plan(
        pipeline('sink-external', 3, [sequence('id'), text('name', 'a-')], { ...base, primaryKey: ['id'] }),
      ),
    );
    expect(append.status).toBe('succeeded');
    expect(append.progress?.steps.publish).toMatchObject({ rowsIn: 3, rowsOut: 3 });
    expect((await rowsOf(ext, 'mart.customers')).map((r) => `${r.id}:${r.name}`)).toEqual([
      '1:a-1',
      '2:a-2',
      '3:a-3',
    ]);
    expect(await ledgerRows(ext, append.runId)).toHaveLength(1);
    expect(await ledgerRows(wh, append.runId)).toHaveLength(0);
    // The warehouse has no such table: the rows went across.
    expect((await wh.query(`select to_regclass('mart.customers') as t`)).rows[0].t).toBeNull();

    const upsert = await h.run(
      h.plan(
        pipeline('sink-external', 2, [sequence('id', 3), text('name', 'u-'), text('tier', 't-')], {
          ...base,
          mode: 'upsert',
          primaryKey: ['id'],
        }),
      ),
    );
    expect(upsert.status).toBe('succeeded');
    expect(upsert.progress?.steps.publish).toMatchObject({ rowsIn: 2, rowsOut: 2 });
    expect((await rowsOf(ext, 'mart.customers')).map((r) => `${r.id}:${r.name}:${r.tier}`)).toEqual([
      '1:a-1:null',
      '2:a-2:null',
      '3:u-1:t-1',
      '4:u-2:t-2',
    ]);

    const replace = await h.run(
      h.plan(
        pipeline('sink-external', 2, [sequence('id', 100), text('name', 'r-')], { ...base, mode: 'replace' }),
      ),
    );
    expect(replace.status).toBe('succeeded');
    expect(await rowsOf(ext, 'mart.customers')).toEqual([
      { id: '100', name: 'r-1' },
      { id: '101', name: 'r-2' },
    ]);
  });

  it('refuses an external type change before writing anything there', async () => {
    await ext.query('create schema if not exists mart');
    await ext.query('create table mart.typed (id integer)');
    const result = await h.run(
      h.plan(
        pipeline('sink-external-narrow', 2, [sequence('id')], { connection: SECRET, table: 'mart.typed' }),
      ),
    );
    expect(result.status).toBe('failed');
    expect(result.progress?.steps.publish?.error).toContain(
      'column "id": the target has type integer, the input has bigint',
    );
    expect(await rowsOf(ext, 'mart.typed')).toEqual([]);
  });

  it('names a missing connection secret without running anything', async () => {
    const result = await h.run(
      h.plan(
        pipeline('sink-nosecret', 1, [sequence('id')], { connection: 'nope', table: `${schema}.never` }),
      ),
    );
    expect(result.status).toBe('failed');
    expect(result.progress?.steps.publish?.error).toMatch(/secret "nope" does not exist/);
  });
});
