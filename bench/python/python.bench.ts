// python: a transform.python over 1M rows (pandas group-by) against the same pandas code run
// directly by the same interpreter and environment, with the same data moves done by psql (\copy
// out to CSV, pandas read/group/write, \copy back in). Ours is the step from its scheduling to its
// completion (Temporal history): the COPY out, the sandboxed process, the COPY in and the step's
// bookkeeping. The environment is built before the timings (the warm-up run builds it).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Benchmark } from '../lib/bench.js';
import { stepMs } from '../lib/history.js';
import { interleaved, timed } from '../lib/measure.js';
import { compiled, runToEnd } from '../lib/pipelines.js';
import { psqlMs } from '../lib/psql.js';
import { ensureEnvironment } from '../../activities/src/python/environment.js';
import { parseRequirements } from '../../activities/src/python/requirements.js';
import { pythonHost } from '../../activities/src/create-activities.js';

const ROWS = 1_000_000;
const CODE = `import pandas as pd

def transform(inputs, params):
    orders = inputs["orders"]
    return orders.groupby(["customer", "status"], as_index=False).agg(orders=("id", "count"), total=("amount", "sum"))
`;
const DIRECT = `import sys
import pandas as pd
${CODE}
orders = pd.read_csv(sys.argv[1])
transform({"orders": orders}, {}).to_csv(sys.argv[2], index=False)
`;

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} failed: ${stderr}`)),
    );
  });
}

export const pythonBench: Benchmark = {
  name: 'python',
  async run(getStack) {
    const stack = await getStack();
    const pool = new pg.Pool({ connectionString: stack.warehouseUrl, max: 1 });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-python-'));
    try {
      await pool.query('create schema if not exists bench');
      await pool.query('drop table if exists bench.python_orders');
      await pool.query(
        `create table bench.python_orders as
           select i as id, 'customer-' || (i % 9973) as customer, (array['new','paid','shipped','cancelled'])[i % 4 + 1] as status,
                  ((i::bigint * 7919) % 100000) / 100.0 as amount
           from generate_series(1, ${ROWS}) i`,
      );
      await stack.shareBenchSchema();
      // The same environment the step uses (the worker's default home), built now, outside timing.
      const host = pythonHost({ egress: { hosts: [], ranges: [] } });
      const env = await ensureEnvironment(
        host.options,
        parseRequirements(['pandas==2.2.3'], 'requirements'),
        'requirements',
        () => {},
      );
      const script = path.join(dir, 'direct.py');
      writeFileSync(script, DIRECT);
      const plan = compiled(stack, {
        apiVersion: 'tributary/v1',
        id: 'bench-python',
        name: 'bench python',
        nodes: [
          { id: 'orders', type: 'source.table', config: { table: 'bench.python_orders' } },
          { id: 'summary', type: 'transform.python', config: { code: CODE } },
        ],
        edges: [{ from: 'orders', to: 'summary' }],
      });
      const { ours, baseline } = await interleaved(
        async () => stepMs(stack, await runToEnd(stack, plan), 'summary'),
        async () => {
          await pool.query('drop table if exists bench.python_summary');
          await pool.query(
            'create table bench.python_summary (customer text, status text, orders bigint, total double precision)',
          );
          const input = path.join(dir, 'orders.csv');
          const output = path.join(dir, 'summary.csv');
          return timed(async () => {
            await psqlMs(
              stack.warehouseUrl,
              `\\copy bench.python_orders to '${input}' with (format csv, header)`,
            );
            await run(path.join(env.dir, 'bin', 'python'), [script, input, output]);
            await psqlMs(
              stack.warehouseUrl,
              `\\copy bench.python_summary from '${output}' with (format csv, header)`,
            );
          });
        },
      );
      return {
        figures: [
          {
            bench: 'python',
            name: `transform.python pandas group-by, ${ROWS / 1_000_000}M rows`,
            unit: 'ms',
            ours,
            baselineName: 'same pandas code, psql \\copy out and in',
            baseline,
            goal: { kind: 'at-most-ratio', ratio: 1.3, slack: 200 },
          },
        ],
        notes: [],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await pool.end();
    }
  },
};
