// transform.assert on real runs: a gate that holds passes its input to the sink; one that does not fails
// the run with its report, and the sink's target keeps its rows.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../../../engine/test/harness.js';

let h: Harness;
const schema = `assert_it_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  h = await startHarness();
  await h.giveSchema(schema);
});
afterAll(async () => {
  await h?.platform.warehousePool.query(`drop schema if exists ${schema} cascade`);
  await h?.stop();
});

// Ten orders: ids 1..10, status cycling through three values, amounts 10..100.
const orders = {
  id: 'orders',
  type: 'transform.sql',
  config: {
    sql: `select i as id, (array['placed','shipped','lost'])[1 + i % 3] as status, i * 10 as amount
            from generate_series(1, 10) i, {{ inputs.seed }}`,
  },
};
const seed = {
  id: 'seed',
  type: 'source.generate',
  config: { rows: 1, columns: [{ name: 'x', generator: 'sequence' }] },
};

let runs = 0;
async function runGate(
  assertions: Record<string, unknown>[],
  options: { params?: Record<string, unknown>; table?: string } = {},
) {
  const id = `assert-it-${++runs}`;
  const plan = h.plan(
    {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      params: { max_amount: { type: 'integer', default: 1000 } },
      nodes: [
        seed,
        orders,
        { id: 'gate', type: 'transform.assert', config: { assertions }, retry: { maxAttempts: 1 } },
        {
          id: 'publish',
          type: 'sink.postgres',
          config: { table: `${schema}.${options.table ?? 'orders'}`, mode: 'replace' },
        },
      ],
      edges: [
        { from: 'seed', to: 'orders' },
        { from: 'orders', to: 'gate' },
        { from: 'gate', to: 'publish' },
      ],
    },
    options.params,
  );
  return h.run(plan);
}

const count = async (table: string) =>
  Number(
    (await h.platform.warehousePool.query(`select count(*) as n from ${schema}.${table}`)).rows[0]
      .n as string,
  );

describe('transform.assert', () => {
  it('passes the input through unchanged when every assertion holds', async () => {
    const { status, progress } = await runGate([
      { name: 'id_not_null', sql: 'select * from {{ inputs.orders }} where id is null' },
      {
        name: 'amount_in_range',
        sql: 'select * from {{ inputs.orders }} where amount > {{ params.max_amount }}',
      },
    ]);
    expect(status).toBe('succeeded');
    expect(progress?.steps.gate).toMatchObject({ status: 'succeeded', rowsIn: 10, rowsOut: 10 });
    expect(await count('orders')).toBe(10);
  });

  it('fails the run with a report of each violated assertion, and the sink keeps its old rows', async () => {
    const { status, progress } = await runGate(
      [
        { name: 'id_not_null', sql: 'select * from {{ inputs.orders }} where id is null' },
        {
          name: 'status_accepted',
          description: 'only placed or shipped',
          sql: "select id, status from {{ inputs.orders }} where status not in ('placed', 'shipped') order by id",
        },
        {
          name: 'amount_in_range',
          sql: 'select id, amount from {{ inputs.orders }} where amount > {{ params.max_amount }} order by id',
        },
      ],
      { params: { max_amount: 80 } },
    );
    expect(status).toBe('failed');
    const error = progress!.steps.gate!.error!;
    expect(error).toContain('data quality check failed: 2 of 3 assertions did not hold');
    expect(error).toContain(
      '- status_accepted (only placed or shipped): 3 violating rows: {"id": 2, "status": "lost"}, {"id": 5, "status": "lost"}, {"id": 8, "status": "lost"}',
    );
    expect(error).toContain(
      '- amount_in_range: 2 violating rows: {"id": 9, "amount": 90}, {"id": 10, "amount": 100}',
    );
    expect(error).not.toContain('id_not_null:');
    expect(progress!.steps.publish!.status).toBe('skipped');
    // The first test published 10 rows into the same table; the failed gate left them alone.
    expect(await count('orders')).toBe(10);
  });

  it('only notes violations of warn-level assertions and lets the run publish', async () => {
    const { status } = await runGate(
      [
        {
          name: 'few_lost',
          severity: 'warn',
          sql: "select * from {{ inputs.orders }} where status = 'lost'",
        },
      ],
      { table: 'warned' },
    );
    expect(status).toBe('succeeded');
    expect(await count('warned')).toBe(10);
  });

  it('names the assertion and the position in its SQL when the query itself is wrong', async () => {
    const { status, progress } = await runGate([
      { name: 'ok', sql: 'select * from {{ inputs.orders }} where false' },
      { name: 'typo', sql: 'select * from {{ inputs.orders }}\nwhere stauts is null' },
    ]);
    expect(status).toBe('failed');
    expect(progress!.steps.gate!.error).toMatch(
      /assertions\.1 \(typo\): column "stauts" does not exist.*at line 2, column 7/,
    );
  });

  it('refuses a statement that is not one read-only query before running anything', async () => {
    const { status, progress } = await runGate([
      { name: 'sneaky', sql: 'delete from {{ inputs.orders }} returning *' },
    ]);
    expect(status).toBe('failed');
    expect(progress!.steps.gate!.error).toContain(
      'config.assertions.0.sql: (sneaky) this is a DELETE statement',
    );
  });
});
