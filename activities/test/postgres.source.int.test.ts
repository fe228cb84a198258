// source.postgres through real pipeline runs, reading from a second database on the test server
// (standing in for an external one) whose URL is a project secret.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';

const suffix = randomBytes(4).toString('hex');
const schema = `source_it_${suffix}`;
// Not the sink test's secret name: test files run in parallel and share the platform database.
const SECRET = 'ext-source-db';
let h: Harness;
let wh: pg.Pool;
let ext: pg.Pool;
let extDatabase: string;
let extUrl: string;

beforeAll(async () => {
  h = await startHarness();
  wh = h.platform.warehousePool;
  await h.giveSchema(schema);
  extDatabase = `ext_${suffix}`;
  await wh.query(`create database ${extDatabase}`);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${extDatabase}`;
  extUrl = url.toString();
  ext = new pg.Pool({ connectionString: extUrl, max: 2 });
  // Dropping the database at the end terminates its connections; an ending client must not throw.
  ext.on('error', () => {});
  await h.platform.secrets.set('default', SECRET, extUrl);
  await ext.query(`
    create schema shop;
    create type shop.mood as enum ('happy', 'sad');
    create domain shop.positive as integer check (value > 0);
    create table shop.orders (
      id integer primary key,
      customer varchar(40) not null,
      amount numeric(10, 2),
      placed_at timestamptz not null,
      tags text[],
      mood shop.mood,
      qty shop.positive
    );
    insert into shop.orders values
      (1, 'ann', 10.50, '2026-01-01 10:00:00+00', '{a,b}', 'happy', 1),
      (2, 'bob', 20.00, '2026-01-02 10:00:00+00', null, 'sad', 2),
      (3, 'cy''s "shop"', null, '2026-01-03 10:00:00.123456+00', '{}', null, 3);
  `);
});

afterAll(async () => {
  await ext?.end();
  await wh?.query(`drop schema if exists ${schema} cascade`);
  await wh?.query(`drop database if exists ${extDatabase} with (force)`);
  await h?.stop();
});

/** A pipeline that reads with `source` config and, unless `sink` is null, publishes into `sink`. */
function pipeline(id: string, source: Record<string, unknown>, sink: Record<string, unknown> | null) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { keepStaging: true },
    nodes: [
      { id: 'read', type: 'source.postgres', config: { connection: SECRET, ...source } },
      ...(sink ? [{ id: 'publish', type: 'sink.postgres', config: sink }] : []),
    ],
    edges: sink ? [{ from: 'read', to: 'publish' }] : [],
  };
}

const stagingOf = (pipelineId: string, runId: string) => stagingSchemaFor(runId, pipelineId);

async function stagedColumns(table: string): Promise<string[]> {
  const result = await wh.query<{ c: string }>(
    `select a.attname || ' ' || format_type(a.atttypid, a.atttypmod) as c from pg_attribute a
      where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [table],
  );
  return result.rows.map((r) => r.c);
}

async function storedState(pipelineId: string): Promise<unknown> {
  const result = await h.platform.platformPool.query(
    `select state from tributary.node_state where pipeline_id = $1 and node_id = 'read'`,
    [pipelineId],
  );
  return result.rows[0]?.state;
}

describe('source.postgres', () => {
  it('copies a whole table with the source column types', async () => {
    const id = 'pg-source-table';
    const result = await h.run(h.plan(pipeline(id, { table: 'shop.orders' }, null)));
    expect(result.status).toBe('succeeded');
    expect(result.progress?.steps.read).toMatchObject({ rowsIn: 3, rowsOut: 3 });
    const staged = `${stagingOf(id, result.runId)}.read`;
    expect(await stagedColumns(staged)).toEqual([
      'id integer',
      'customer character varying(40)',
      'amount numeric(10,2)',
      'placed_at timestamp with time zone',
      'tags text[]',
      // The source's own types: an enum becomes text, a domain its base type.
      'mood text',
      'qty integer',
    ]);
    const rows = await wh.query(
      `select id, customer, amount::text, placed_at = '2026-01-03 10:00:00.123456+00' as exact, tags, mood, qty
         from ${staged} order by id`,
    );
    expect(rows.rows).toEqual([
      { id: 1, customer: 'ann', amount: '10.50', exact: false, tags: ['a', 'b'], mood: 'happy', qty: 1 },
      { id: 2, customer: 'bob', amount: '20.00', exact: false, tags: null, mood: 'sad', qty: 2 },
      { id: 3, customer: 'cy\'s "shop"', amount: null, exact: true, tags: [], mood: null, qty: 3 },
    ]);
  });

  it('copies the result of a query, into a sink', async () => {
    const target = `${schema}.big_orders`;
    const result = await h.run(
      h.plan(
        pipeline(
          'pg-source-query',
          {
            query: `-- orders over ten\nselect id, upper(customer) as customer, amount * 2 as doubled\n  from shop.orders where amount > 10;  -- done`,
          },
          { table: target },
        ),
      ),
    );
    expect(result.status).toBe('succeeded');
    expect(result.progress?.steps.read).toMatchObject({ rowsIn: 2, rowsOut: 2 });
    const rows = await wh.query(`select id, customer, doubled::text from ${target} order by id`);
    expect(rows.rows).toEqual([
      { id: 1, customer: 'ANN', doubled: '21.00' },
      { id: 2, customer: 'BOB', doubled: '40.00' },
    ]);
  });

  it('refuses a query that is not one SELECT, and never runs it', async () => {
    const del = await h.run(h.plan(pipeline('pg-source-delete', { query: 'delete from shop.orders' }, null)));
    expect(del.status).toBe('failed');
    expect(del.progress?.steps.read?.error).toMatch(/config\.query: must be a SELECT .*not DELETE/);
    const two = await h.run(
      h.plan(pipeline('pg-source-two', { query: 'select 1; drop table shop.orders' }, null)),
    );
    expect(two.progress?.steps.read?.error).toMatch(
      /config\.query: must be one SELECT statement, but it has 2/,
    );
    expect((await ext.query('select count(*)::int as n from shop.orders')).rows[0].n).toBe(3);
  });

  it('refuses a config with both query and table, or neither, at compile time', () => {
    expect(() =>
      h.plan(pipeline('pg-source-both', { query: 'select 1', table: 'shop.orders' }, null)),
    ).toThrow(/give exactly one of/);
    expect(() => h.plan(pipeline('pg-source-neither', {}, null))).toThrow(/give exactly one of/);
  });

  it('reads incrementally, and a failed run does not move the cursor', async () => {
    const id = 'pg-source-incremental';
    await ext.query(`
      create table shop.events (id bigint primary key, name text not null, updated_at timestamp(3) not null);
      insert into shop.events values (1, 'a', '2026-02-01 00:00:00.001'), (2, 'b', '2026-02-01 00:00:00.002');
    `);
    const target = `${schema}.events`;
    const good = h.plan(
      pipeline(id, { table: 'shop.events', cursorColumn: 'updated_at' }, { table: target }),
    );

    const first = await h.run(good);
    expect(first.status).toBe('succeeded');
    expect(first.progress?.steps.read).toMatchObject({ rowsIn: 2 });
    expect(await storedState(id)).toEqual({ cursor: '2026-02-01 00:00:00.002', column: 'updated_at' });

    await ext.query(`
      insert into shop.events values (3, 'c', '2026-02-01 00:00:00.003');
      update shop.events set name = 'a2', updated_at = '2026-02-01 00:00:00.004' where id = 1;
    `);
    const second = await h.run(good);
    expect(second.status).toBe('succeeded');
    expect(second.progress?.steps.read).toMatchObject({ rowsIn: 2 });
    const staged = await wh.query(`select id::int, name from ${stagingOf(id, second.runId)}.read`);
    // Ordered by the cursor.
    expect(staged.rows).toEqual([
      { id: 3, name: 'c' },
      { id: 1, name: 'a2' },
    ]);
    expect(await storedState(id)).toEqual({ cursor: '2026-02-01 00:00:00.004', column: 'updated_at' });

    // A run whose sink fails (its target cannot take text names) reads the new row, but its
    // cursor is not committed: the next good run reads that row again.
    await ext.query(`insert into shop.events values (4, 'd', '2026-02-01 00:00:00.005')`);
    await wh.query(`create table ${schema}.strict (id bigint, name integer)`);
    await h.giveSchema(schema);
    const bad = await h.run(
      h.plan(
        pipeline(id, { table: 'shop.events', cursorColumn: 'updated_at' }, { table: `${schema}.strict` }),
      ),
    );
    expect(bad.status).toBe('failed');
    expect(bad.progress?.steps.read).toMatchObject({ status: 'succeeded', rowsIn: 1 });
    expect(bad.progress?.steps.publish?.status).toBe('failed');
    expect(await storedState(id)).toEqual({ cursor: '2026-02-01 00:00:00.004', column: 'updated_at' });

    const third = await h.run(good);
    expect(third.status).toBe('succeeded');
    expect(third.progress?.steps.read).toMatchObject({ rowsIn: 1 });
    expect(await storedState(id)).toEqual({ cursor: '2026-02-01 00:00:00.005', column: 'updated_at' });

    // Nothing new: no rows, and the cursor stays where it was.
    const idle = await h.run(good);
    expect(idle.status).toBe('succeeded');
    expect(idle.progress?.steps.read).toMatchObject({ rowsIn: 0, rowsOut: 0 });
    expect(await storedState(id)).toEqual({ cursor: '2026-02-01 00:00:00.005', column: 'updated_at' });

    const published = await wh.query(`select id::int, name from ${target} order by updated_at`);
    expect(published.rows).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
      { id: 1, name: 'a2' },
      { id: 4, name: 'd' },
    ]);
  });

  it('reads a query incrementally by an id cursor, binding a cursor value that looks like SQL safely', async () => {
    const id = 'pg-source-id-cursor';
    await ext.query(`
      create table shop.notes (code text primary key, body text);
      insert into shop.notes values ('a', 'first'), ($$b' or '1'='1$$, 'tricky');
    `);
    const plan = h.plan(
      pipeline(id, { query: 'select code, body from shop.notes', cursorColumn: 'code' }, null),
    );
    const first = await h.run(plan);
    expect(first.status).toBe('succeeded');
    expect(await storedState(id)).toEqual({ cursor: "b' or '1'='1", column: 'code' });
    await ext.query(`insert into shop.notes values ('c', 'third')`);
    const second = await h.run(plan);
    expect(second.status).toBe('succeeded');
    expect(second.progress?.steps.read).toMatchObject({ rowsIn: 1 });
  });

  it('never shows the connection URL or its password, even when the connection fails', async () => {
    const url = new URL(extUrl);
    url.password = 'wrong-password-3141';
    await h.platform.secrets.set('default', 'ext-source-bad', url.toString());
    const result = await h.run(
      h.plan({
        ...pipeline('pg-source-badauth', { table: 'shop.orders' }, null),
        nodes: [
          {
            id: 'read',
            type: 'source.postgres',
            config: { connection: 'ext-source-bad', table: 'shop.orders' },
          },
        ],
      }),
    );
    expect(result.status).toBe('failed');
    const error = result.progress?.steps.read?.error ?? '';
    expect(error).toMatch(/connection "ext-source-bad"/);
    expect(error).not.toContain('wrong-password-3141');
    expect(error).not.toContain(url.host);
    // Authentication failures are not retried.
    expect(result.progress?.steps.read?.attempt).toBe(1);
  });
});
