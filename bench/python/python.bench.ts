// python: three figures, each beside its baseline in the same run.
// - transform.python over 1M rows (pandas group-by) against the same pandas code run directly by the
//   same interpreter and environment, with the same data moves done by psql (\copy out to CSV,
//   pandas read/group/write, \copy back in). Ours is the step from its scheduling to its completion
//   (Temporal history): the COPY out, the sandboxed process, the COPY in and the step's bookkeeping.
// - source.airbyte: airbyte-source-faker's `users` stream (BENCH_AIRBYTE_RECORDS, default 1M) into
//   a warehouse table by a whole Tributary run (source.airbyte -> sink.postgres, trigger to end)
//   against PyAirbyte reading the same stream into its own PostgresCache on the same Postgres. Both
//   run the same connector executable, so the faker's own speed is a floor they share.
// - a warm Python step's overhead: a 1-row pass-through transform.python against a 1-row
//   transform.sql `select *`, each step from its scheduling to its completion (issue 28: at most
//   300 ms above the SQL step).
// The environments are built before the timings. BENCH_PYTHON=transform,airbyte,warm picks figures.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Benchmark } from '../lib/bench.js';
import type { Figure } from '../lib/figures.js';
import { summarise } from '../lib/figures.js';
import { stepMs } from '../lib/history.js';
import { interleaved, timed } from '../lib/measure.js';
import { compiled, runToEnd } from '../lib/pipelines.js';
import { psqlMs } from '../lib/psql.js';
import { REPO_ROOT, type BenchStack } from '../lib/stack.js';
import { ensureEnvironment, type PythonEnvironment } from '../../activities/src/python/environment.js';
import { parseRequirements } from '../../activities/src/python/requirements.js';
import { pythonHost } from '../../activities/src/create-activities.js';

const ROWS = 1_000_000;
const RECORDS = Number(process.env.BENCH_AIRBYTE_RECORDS ?? 1_000_000);
const FAKER = 'airbyte-source-faker==6.2.32';
/** PyAirbyte, in a uv venv of its own (it pins its own SQLAlchemy, DuckDB, pandas…). */
const PYAIRBYTE = 'airbyte==0.71.3';
const PYAIRBYTE_VENV = path.join(REPO_ROOT, '.tributary', 'pyairbyte-venv');
const PYAIRBYTE_SCRIPT = fileURLToPath(new URL('./pyairbyte-load.py', import.meta.url));
const PARTS = (process.env.BENCH_PYTHON ?? 'transform,airbyte,warm').split(',');

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

function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...(env ? { env } : {}) });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} failed: ${stderr}`)),
    );
  });
}

/** An environment the steps use (the worker's default home), built now, outside timing. */
function environment(requirements: string[]): Promise<PythonEnvironment> {
  const host = pythonHost({ egress: { hosts: [], ranges: [] } });
  return ensureEnvironment(
    host.options,
    parseRequirements(requirements, 'requirements'),
    'requirements',
    () => {},
  );
}

const seconds = (values: number[]) => (summarise(values)!.median / 1000).toFixed(2);

async function pandasFigure(stack: BenchStack, pool: pg.Pool): Promise<Figure> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-python-'));
  try {
    await pool.query('drop table if exists bench.python_orders');
    await pool.query(
      `create table bench.python_orders as
         select i as id, 'customer-' || (i % 9973) as customer, (array['new','paid','shipped','cancelled'])[i % 4 + 1] as status,
                ((i::bigint * 7919) % 100000) / 100.0 as amount
         from generate_series(1, ${ROWS}) i`,
    );
    await stack.shareBenchSchema();
    const env = await environment(['pandas==2.2.3']);
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
      bench: 'python',
      name: `transform.python pandas group-by, ${ROWS / 1_000_000}M rows`,
      unit: 'ms',
      ours,
      baselineName: 'same pandas code, psql \\copy out and in',
      baseline,
      goal: { kind: 'at-most-ratio', ratio: 1.3, slack: 200 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PyAirbyte's venv, installed with uv on first use; or why there is none. */
function pyairbytePython(): { python: string } | { reason: string } {
  const python = path.join(PYAIRBYTE_VENV, 'bin', 'python');
  const importable = () => spawnSync(python, ['-c', 'import airbyte'], { encoding: 'utf8' }).status === 0;
  if (existsSync(python) && importable()) return { python };
  const venv = spawnSync('uv', ['venv', '-q', '--python', 'python3', PYAIRBYTE_VENV], { encoding: 'utf8' });
  if (venv.error || venv.status !== 0)
    return { reason: `no uv venv (${venv.error?.message ?? venv.stderr.trim()})` };
  const pip = spawnSync('uv', ['pip', 'install', '-q', '--python', python, PYAIRBYTE], { encoding: 'utf8' });
  if (pip.status !== 0)
    return { reason: `uv pip install ${PYAIRBYTE} failed: ${pip.stderr.trim().slice(-300)}` };
  return importable() ? { python } : { reason: `${PYAIRBYTE} installed but does not import` };
}

async function airbyteFigure(stack: BenchStack, pool: pg.Pool, notes: string[]): Promise<Figure | undefined> {
  const pyairbyte = pyairbytePython();
  if ('reason' in pyairbyte) {
    notes.push(`python: the PyAirbyte figure is skipped: ${pyairbyte.reason}`);
    return undefined;
  }
  const env = await environment([FAKER]);
  // The same configuration for both; a fixed seed, so both read the same records.
  const config = { count: RECORDS, seed: 1 };
  const plan = compiled(stack, {
    apiVersion: 'tributary/v1',
    id: 'bench-airbyte',
    name: 'bench airbyte',
    nodes: [
      { id: 'users', type: 'source.airbyte', config: { package: FAKER, config, stream: 'users' } },
      { id: 'publish', type: 'sink.postgres', config: { table: 'bench.faker_users', mode: 'replace' } },
    ],
    edges: [{ from: 'users', to: 'publish' }],
  });
  const runIds: string[] = [];
  const ours = () => timed(async () => runIds.push(await runToEnd(stack, plan)));
  const baseline = async () => {
    await pool.query('drop schema if exists bench_pyairbyte cascade');
    return timed(() =>
      run(
        pyairbyte.python,
        [
          PYAIRBYTE_SCRIPT,
          path.join(env.dir, 'bin', 'source-faker'),
          JSON.stringify(config),
          'users',
          stack.warehouseUrl,
          'bench_pyairbyte',
        ],
        // No telemetry and no registry look-ups: this machine reaches no such service.
        { ...process.env, DO_NOT_TRACK: '1', AIRBYTE_OFFLINE_MODE: '1' },
      ),
    );
  };
  // A round of 1M faker records takes minutes: one round each by default, no warm-up beyond the
  // environments (BENCH_REPEAT applies when set).
  const times = await interleaved(ours, baseline, {
    warmUp: false,
    ...(process.env.BENCH_REPEAT ? {} : { repeat: 1 }),
  });
  for (const [table, what] of [
    ['bench.faker_users', 'Tributary'],
    ['bench_pyairbyte.users', 'PyAirbyte'],
  ] as const) {
    const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    if (rows[0]!.n !== RECORDS) throw new Error(`${what} loaded ${rows[0]!.n} of ${RECORDS} records`);
  }
  const steps = await Promise.all(
    runIds.map(async (runId) => ({
      source: await stepMs(stack, runId, 'users'),
      sink: await stepMs(stack, runId, 'publish'),
    })),
  );
  notes.push(
    `python airbyte: a run (median ${seconds(times.ours)} s) is source.airbyte ${seconds(steps.map((s) => s.source))} s + ` +
      `sink.postgres ${seconds(steps.map((s) => s.sink))} s + the rest; PyAirbyte ${seconds(times.baseline)} s`,
  );
  const rate = (ms: number) => RECORDS / (ms / 1000);
  return {
    bench: 'python',
    name: `source.airbyte faker users, ${RECORDS >= 1_000_000 ? `${RECORDS / 1_000_000}M` : `${RECORDS / 1000}k`} records, whole run`,
    unit: 'records/s',
    ours: times.ours.map(rate),
    baselineName: `PyAirbyte ${PYAIRBYTE.split('==')[1]} PostgresCache`,
    baseline: times.baseline.map(rate),
    goal: { kind: 'at-least-ratio', ratio: 1 },
  };
}

async function warmFigure(stack: BenchStack, pool: pg.Pool): Promise<Figure> {
  await pool.query('drop table if exists bench.python_one');
  await pool.query(`create table bench.python_one as select 1 as id, 'one'::text as name`);
  await stack.shareBenchSchema();
  await environment(['pandas==2.2.3']);
  const pipeline = (id: string, step: { type: string; config: Record<string, unknown> }) =>
    compiled(stack, {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      nodes: [
        { id: 'one', type: 'source.table', config: { table: 'bench.python_one' } },
        { id: 'step', ...step },
      ],
      edges: [{ from: 'one', to: 'step' }],
    });
  const python = pipeline('bench-python-warm', {
    type: 'transform.python',
    config: { code: 'def transform(inputs, params):\n    return inputs["one"]\n' },
  });
  const sql = pipeline('bench-sql-warm', {
    type: 'transform.sql',
    config: { sql: 'select * from {{ inputs.one }}' },
  });
  // Five of each a round: a single short step is noisy on a shared machine.
  const steps = (plan: typeof python) => async () => {
    const values: number[] = [];
    for (let i = 0; i < 5; i++) values.push(await stepMs(stack, await runToEnd(stack, plan), 'step'));
    return summarise(values)!.median;
  };
  const { ours, baseline } = await interleaved(steps(python), steps(sql));
  return {
    bench: 'python',
    name: 'warm Python step, 1-row pass-through',
    unit: 'ms',
    ours,
    baselineName: '1-row transform.sql step',
    baseline,
    goal: { kind: 'at-most-ratio', ratio: 1, slack: 300 },
  };
}

export const pythonBench: Benchmark = {
  name: 'python',
  async run(getStack) {
    const stack = await getStack();
    const pool = new pg.Pool({ connectionString: stack.warehouseUrl, max: 1 });
    const figures: Figure[] = [];
    const notes: string[] = [];
    try {
      await pool.query('create schema if not exists bench');
      if (PARTS.includes('warm')) figures.push(await warmFigure(stack, pool));
      if (PARTS.includes('transform')) figures.push(await pandasFigure(stack, pool));
      if (PARTS.includes('airbyte')) {
        const figure = await airbyteFigure(stack, pool, notes);
        if (figure) figures.push(figure);
      }
      return { figures, notes };
    } finally {
      await pool.end();
    }
  },
};
