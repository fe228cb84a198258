// transform: a transform.sql group-by over 1M rows against the same SQL run by psql as
// `create table … as`. Ours is the step from its scheduling to its completion (Temporal history),
// so dispatch and the step's own bookkeeping count; the source step that stages the rows does not.
// Both read a freshly written copy of the same table (the baseline's is made outside its timing),
// since the first scan of new rows also sets their hint bits.
import pg from 'pg';
import type { Benchmark } from '../lib/bench.js';
import { stepMs } from '../lib/history.js';
import { interleaved } from '../lib/measure.js';
import { compiled, runToEnd } from '../lib/pipelines.js';
import { psqlMs } from '../lib/psql.js';

const ROWS = 1_000_000;
const GROUP_BY = (table: string) =>
  `select customer, status, count(*) as orders, sum(amount) as total from ${table} group by customer, status`;

export const transformBench: Benchmark = {
  name: 'transform',
  async run(getStack) {
    const stack = await getStack();
    const pool = new pg.Pool({ connectionString: stack.warehouseUrl, max: 1 });
    try {
      await pool.query('create schema if not exists bench');
      await pool.query('drop table if exists bench.transform_orders');
      await pool.query(
        `create table bench.transform_orders as
           select i as id, 'customer-' || (i % 9973) as customer, (array['new','paid','shipped','cancelled'])[i % 4 + 1] as status,
                  ((i::bigint * 7919) % 100000) / 100.0 as amount
           from generate_series(1, ${ROWS}) i`,
      );
      await stack.shareBenchSchema();
      const plan = compiled(stack, {
        apiVersion: 'tributary/v1',
        id: 'bench-transform',
        name: 'bench transform',
        nodes: [
          { id: 'orders', type: 'source.table', config: { table: 'bench.transform_orders' } },
          { id: 'summary', type: 'transform.sql', config: { sql: GROUP_BY('{{ inputs.orders }}') } },
        ],
        edges: [{ from: 'orders', to: 'summary' }],
      });
      const { ours, baseline } = await interleaved(
        async () => stepMs(stack, await runToEnd(stack, plan), 'summary'),
        async () => {
          await pool.query('drop table if exists bench.transform_copy, bench.transform_summary');
          await pool.query('create table bench.transform_copy as select * from bench.transform_orders');
          return psqlMs(
            stack.warehouseUrl,
            `create table bench.transform_summary as ${GROUP_BY('bench.transform_copy')}`,
          );
        },
      );
      return {
        figures: [
          {
            bench: 'transform',
            name: `transform.sql group-by, ${ROWS / 1_000_000}M rows`,
            unit: 'ms',
            ours,
            baselineName: 'psql create table as',
            baseline,
            goal: { kind: 'at-most-ratio', ratio: 1.1, slack: 50 },
          },
        ],
        notes: [],
      };
    } finally {
      await pool.end();
    }
  },
};
