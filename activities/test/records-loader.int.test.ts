// The records loader against the real Postgres: type inference, widening and late columns across
// batches, awkward keys and values. Small sample and batch sizes make every path run on a few rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadRecords, MAX_COLUMNS, type RecordsLoaderOptions } from '../src/source/json/records-loader.js';

const schema = `loader_it_${randomBytes(4).toString('hex')}`;
let db: pg.Pool;
let n = 0;

beforeAll(async () => {
  db = new pg.Pool({ connectionString: inject('databaseUrl'), max: 4 });
  await db.query(`create schema ${schema}`);
});
afterAll(async () => {
  await db?.query(`drop schema if exists ${schema} cascade`);
  await db?.end();
});

async function* from(records: unknown[]) {
  yield* records;
}

async function load(records: unknown[], options: RecordsLoaderOptions = {}) {
  const table = { schema, table: `t${++n}` };
  const result = await loadRecords(db, table, from(records), options);
  const rows = await db.query(`select * from ${schema}.${table.table}`);
  const types = await db.query<{ name: string; type: string }>(
    `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`,
    [`${schema}.${table.table}`],
  );
  return {
    result,
    rows: rows.rows,
    types: Object.fromEntries(types.rows.map((r) => [r.name, r.type])),
  };
}

describe('records loader', () => {
  it('widens bigint → numeric → text → jsonb across batches after a tiny sample', async () => {
    const values = [1, 2, 2.5, 'three', { four: 4 }, 6];
    const { result, rows, types } = await load(
      values.map((v, i) => ({ i, v })),
      { sampleSize: 1, batchRows: 1 },
    );
    expect(types).toEqual({ i: 'bigint', v: 'jsonb' });
    // Values written while the column was text stay JSON strings once it is jsonb.
    expect(rows.sort((a, b) => Number(a.i) - Number(b.i)).map((r) => r.v)).toEqual([
      '1',
      '2',
      '2.5',
      'three',
      { four: 4 },
      6,
    ]);
    expect(result.rows).toBe(6);
    expect(result.notes).toEqual([
      'column "v" widened from bigint to numeric at record 3',
      'column "v" widened from numeric to text at record 4',
      'column "v" widened from text to jsonb at record 5',
    ]);
  });

  it('gives a late key whose first values are null the type of its first real value', async () => {
    const { types, rows, result } = await load(
      [{ a: 1 }, { a: 2, b: null }, { a: 3, b: null }, { a: 4, b: true }, { a: 5, c: null }],
      { sampleSize: 1, batchRows: 2 },
    );
    // c never had a value: it still becomes a (text) column, after the others.
    expect(types).toEqual({ a: 'bigint', b: 'boolean', c: 'text' });
    expect(rows.map((r) => [Number(r.a), r.b, r.c])).toEqual([
      [1, null, null],
      [2, null, null],
      [3, null, null],
      [4, true, null],
      [5, null, null],
    ]);
    expect(result.notes).toEqual(['column "b" (boolean) added at record 4']);
  });

  it('stores awkward text faithfully: quotes, commas, newlines, backslashes, unicode, empty strings', async () => {
    const values = ['say "hi"', 'a,b', 'line\nbreak\r\n', 'back\\slash \\N', '', 'ünï©ødé 🎉', 'NULL'];
    const { rows } = await load(values.map((s, i) => ({ i, s })));
    expect(rows.sort((x, y) => Number(x.i) - Number(y.i)).map((r) => r.s)).toEqual(values);
  });

  it('removes NUL characters, which Postgres cannot store, from text and jsonb', async () => {
    const { rows, result } = await load([{ t: 'a\u0000b', j: { k: 'c\u0000d', raw: '\\u0000' } }]);
    expect(rows[0]).toEqual({ t: 'ab', j: { k: 'cd', raw: '\\u0000' } });
    expect(result.notes).toContain('NUL characters (\\u0000), which Postgres cannot store, were removed');
  });

  it('shortens keys longer than Postgres identifiers and keeps them distinct', async () => {
    const long = 'k'.repeat(70);
    const { types, result } = await load([{ [`${long}1`]: 1, [`${long}2`]: 2, '': 3 }]);
    expect(Object.keys(types)).toEqual(['k'.repeat(63), `${'k'.repeat(61)}_2`, 'column']);
    expect(result.notes).toHaveLength(3);
  });

  it('wraps records that are not objects in a value column', async () => {
    const { types, rows } = await load([1, 2, 3]);
    expect(types).toEqual({ value: 'bigint' });
    expect(rows.map((r) => r.value).sort()).toEqual(['1', '2', '3']);
  });

  it('creates an empty table for no records', async () => {
    const { types, rows, result } = await load([]);
    expect(types).toEqual({});
    expect(rows).toEqual([]);
    expect(result.rows).toBe(0);
  });

  it('keeps integers beyond bigint as numeric', async () => {
    const { types } = await load([{ big: 2 ** 64 }, { big: 1 }]);
    expect(types).toEqual({ big: 'numeric' });
  });

  it('refuses more keys than Postgres allows columns, naming the cause', async () => {
    const record = Object.fromEntries(Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => [`id_${i}`, i]));
    await expect(load([record])).rejects.toThrow(/more columns than Postgres allows/);
  });
});
