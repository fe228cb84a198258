// source.table end to end: real pipeline runs on the dev server reading tables of the real
// warehouse into the run's staging schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../../../engine/test/harness.js';
import { stagingSchemaFor } from '../../../../engine/src/model/run-ids.js';

let h: Harness;
const schema = `table_source_${process.pid}_${Date.now()}`;

beforeAll(async () => {
  h = await startHarness();
  await h.platform.warehousePool.query(`
    create schema "${schema}";
    create table "${schema}".orders (id integer, customer text, total numeric(10, 2), day date);
    insert into "${schema}".orders values
      (1, 'ann', 20.00, '2026-03-01'), (2, 'bob', 35.50, '2026-03-02'),
      (3, 'ann', 10.00, '2026-03-03'), (4, 'cy', null, '2026-03-03');`);
  await h.giveSchema(schema);
});

afterAll(async () => {
  await h?.platform.warehousePool.query(`drop schema if exists "${schema}" cascade`);
  await h?.stop();
});

let runs = 0;
function pipeline(config: Record<string, unknown>, params: Record<string, { type: string }> = {}) {
  const id = `table-src-${++runs}`;
  return {
    id,
    document: {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      params,
      settings: { keepStaging: true },
      nodes: [{ id: 'src', type: 'source.table', config, retry: { maxAttempts: 1 } }],
    },
  };
}

/** Runs a one-node pipeline and returns the step's progress and its output table's rows and types. */
async function read(
  config: Record<string, unknown>,
  params: Record<string, { type: string }> = {},
  values: Record<string, unknown> = {},
) {
  const { id, document } = pipeline(config, params);
  const { runId, progress } = await h.run(h.plan(document, values));
  const table = `"${stagingSchemaFor(runId, id)}".src`;
  return {
    step: progress!.steps.src!,
    rows: async (orderBy = '1') =>
      (await h.platform.warehousePool.query(`select * from ${table} order by ${orderBy}`)).rows,
    types: async () => {
      const result = await h.platform.warehousePool.query<{ name: string; type: string }>(
        `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
          where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`,
        [table],
      );
      return Object.fromEntries(result.rows.map((r) => [r.name, r.type]));
    },
  };
}

describe('source.table', () => {
  it('reads a whole table with its column types', async () => {
    const run = await read({ table: `${schema}.orders` });
    expect(run.step).toMatchObject({ status: 'succeeded', rowsIn: 0, rowsOut: 4 });
    expect(run.step.bytes).toBeGreaterThan(0);
    expect(await run.types()).toEqual({
      id: 'integer',
      customer: 'text',
      total: 'numeric(10,2)',
      day: 'date',
    });
    expect((await run.rows('id')).map((r) => [r.id, r.customer, r.total])).toEqual([
      [1, 'ann', '20.00'],
      [2, 'bob', '35.50'],
      [3, 'ann', '10.00'],
      [4, 'cy', null],
    ]);
  });

  it('keeps the chosen columns and the rows matching a where with a bound param', async () => {
    const run = await read(
      {
        table: `${schema}.orders`,
        columns: ['customer', 'id'],
        where: "day >= {{ params.since }}::date and customer <> 'cy'",
      },
      { since: { type: 'string' } },
      { since: '2026-03-02' },
    );
    expect(run.step).toMatchObject({ status: 'succeeded', rowsOut: 2 });
    expect(await run.types()).toEqual({ customer: 'text', id: 'integer' });
    expect(await run.rows('id')).toEqual([
      { customer: 'bob', id: 2 },
      { customer: 'ann', id: 3 },
    ]);
  });

  it('refuses a where that is not one expression', async () => {
    const run = await read({ table: `${schema}.orders`, where: 'true) union select 1 where (true' });
    expect(run.step.status).toBe('failed');
    expect(run.step.error).toContain('config.where: must be one boolean expression');
  });

  it('fails naming the table when it does not exist', async () => {
    const run = await read({ table: `${schema}.nope` });
    expect(run.step.status).toBe('failed');
    expect(run.step.error).toContain(`table "${schema}"."nope" does not exist in the warehouse`);
  });

  it('outputs an empty table of the declared columns when the table is missing and ifMissing is empty', async () => {
    const run = await read({
      table: `${schema}.nope`,
      ifMissing: 'empty',
      columnsIfMissing: [
        { name: 'day', type: 'date' },
        { name: 'credits', type: 'numeric(14, 4)' },
      ],
    });
    expect(run.step).toMatchObject({ status: 'succeeded', rowsOut: 0 });
    expect(await run.types()).toEqual({ day: 'date', credits: 'numeric(14,4)' });
    expect(await run.rows()).toEqual([]);
  });

  it("refuses the platform's own schema and staging schemas before running", () => {
    expect(() => h.plan(pipeline({ table: 'tributary.pipelines' }).document)).toThrow(
      /schema \\"tributary\\" belongs to the platform/,
    );
    expect(() => h.plan(pipeline({ table: 'tr_run_abc.src' }).document)).toThrow(
      /schema \\"tr_run_abc\\" belongs to the platform/,
    );
    expect(() => h.plan(pipeline({ table: `${schema}.nope`, ifMissing: 'empty' }).document)).toThrow(
      /ifMissing \\"empty\\" needs columnsIfMissing/,
    );
  });
});
