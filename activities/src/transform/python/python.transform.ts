// transform.python: a user's function over the step's input tables (pandas DataFrames or pyarrow
// Tables, their choice) and the run's params, returning one table. It runs in the Python sandbox
// with the node's pinned requirements; its output columns are known after a run (the code is
// opaque), and lineage counts each output column as derived from every input column unless the
// node declares a mapping.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { configError, dataError } from '../../errors.js';
import { defineNodeType, type TableRef } from '../../node-type.js';
import { DEFAULT_LIMITS, prepareEnvironment, withAttempt } from '../../python/python-runtime.js';
import { streamManifest } from '../../python/stream-table.js';
import { exportTable, importTable } from '../../python/table-files.js';
import { tableStats, type ColumnInfo } from '../../sql.js';

/** The pandas a new node pins; any version with wheels for the worker's Python works. */
export const DEFAULT_REQUIREMENTS = ['pandas==2.2.3'];

const OUTPUT_TYPES = new Set([
  'bigint',
  'double precision',
  'boolean',
  'timestamp without time zone',
  'timestamp with time zone',
  'jsonb',
  'text',
]);

export const LimitsSchema = z
  .object({
    cpuSeconds: z.number().int().min(1).max(86_400).default(DEFAULT_LIMITS.cpuSeconds),
    memoryMb: z.number().int().min(64).max(65_536).default(DEFAULT_LIMITS.memoryMb),
    wallSeconds: z.number().int().min(1).max(86_400).default(DEFAULT_LIMITS.wallSeconds),
  })
  .describe('CPU-time, memory and wall-time limits of the Python process');

const ConfigSchema = z.object({
  code: z
    .string({ error: (issue) => (issue.input === undefined ? 'code is required' : 'must be text') })
    .max(1_000_000)
    .regex(/\bdef\s+transform\s*\(/, 'the code must define transform(inputs, params)')
    .describe(
      'Python defining transform(inputs, params): inputs maps each input node to its table, params are the ' +
        "run's params; return the output table.",
    )
    .meta({ 'x-widget': 'python' }),
  api: z
    .enum(['pandas', 'arrow'])
    .default('pandas')
    .describe('Inputs as pandas DataFrames, or as pyarrow Tables (add pyarrow to the requirements)'),
  requirements: z
    .array(z.string())
    .max(100)
    .default(DEFAULT_REQUIREMENTS)
    .describe('Pinned packages of the environment the code runs in, e.g. pandas==2.2.3'),
  network: z
    .boolean()
    .default(false)
    .describe('Let the code open HTTP(S) connections (through the egress fence); off: no network at all'),
  limits: LimitsSchema.prefault({}),
  outputColumns: z
    .array(z.string().min(1).max(63))
    .max(1600)
    .optional()
    .describe('The output columns, for lineage before a run (a run finds them itself)'),
  lineage: z
    .record(z.string(), z.array(z.string().regex(/^[^.]+\..+$/, 'write input.column')))
    .optional()
    .describe(
      'Which input columns each output column comes from ("orders.total"); unset: every input column',
    ),
});

export const pythonTransform = defineNodeType({
  type: 'transform.python',
  kind: 'transform',
  title: 'Python',
  description: 'A Python function over the inputs (pandas or Arrow) and params that returns a table.',
  icon: 'python',
  category: 'Python',
  config: ConfigSchema,
  inputs: { min: 1, max: null },
  // The code is opaque: each output column comes from every input column unless a mapping says.
  lineage: (config) => ({
    columns: {
      from: 'code',
      columns: Array.isArray(config.outputColumns)
        ? config.outputColumns.filter((c): c is string => typeof c === 'string')
        : [],
      ...(config.lineage && typeof config.lineage === 'object'
        ? { mapping: config.lineage as Record<string, string[]> }
        : {}),
    },
  }),
  async run(ctx, config, inputs) {
    if (config.api === 'arrow' && !config.requirements.some((r) => /^pyarrow\b/i.test(r.trim()))) {
      throw configError(
        'requirements',
        'api "arrow" needs pyarrow in the requirements (e.g. pyarrow==18.1.0)',
      );
    }
    const env = await prepareEnvironment(ctx, config.requirements, 'requirements');
    return withAttempt(
      ctx,
      async (attempt) => {
        const scratch = attempt.scratchDir;
        await mkdir(path.join(scratch, 'inputs'));
        const job = {
          code: '/scratch/step.py',
          api: config.api,
          params: ctx.params,
          output: '/scratch/output.csv',
          inputs: {} as Record<string, { path: string; columns: ColumnInfo[] }>,
        };
        let rowsIn = 0;
        // A multi-stream connector upstream: each of its streams is an input too, `<node>.<stream>`.
        const all: [string, TableRef][] = [];
        for (const [name, table] of Object.entries(inputs)) {
          all.push([name, table]);
          for (const s of await streamManifest(ctx.warehouse, table))
            all.push([`${name}.${s.stream}`, s.table]);
        }
        for (const [i, [name, table]] of all.entries()) {
          ctx.heartbeat({ phase: 'input', input: name });
          const file = `inputs/${i}.csv`;
          const columns = await exportTable(ctx.warehouse, table, path.join(scratch, file), ctx.signal);
          job.inputs[name] = { path: `/scratch/${file}`, columns };
          rowsIn += (await tableStats(ctx.warehouse, table)).rows;
        }
        await writeFile(path.join(scratch, 'step.py'), config.code);
        // A cold process reads its job from a file; a warm standby gets it over its stdin.
        if (!attempt.warm) await writeFile(path.join(scratch, 'job.json'), JSON.stringify(job));

        ctx.heartbeat({ phase: 'running' });
        const { process: child, finished } = await attempt.run({
          argv: [
            '/env/bin/python',
            '/opt/tributary/launcher.py',
            '/env/bin/python',
            '/opt/tributary/transform.py',
            '/scratch/job.json',
          ],
          env,
          network: config.network,
          limits: config.limits,
          what: `the Python code of step "${ctx.nodeId}"`,
          userFile: '/scratch/step.py',
          userLabel: 'code',
          job,
        });
        // What the code prints is the step's log, never mixed into its data.
        let printed = 0;
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          for (const line of chunk.split('\n')) {
            if (!line.trim() || printed >= 200) continue;
            printed++;
            ctx.log.info(line.slice(0, 1000), { stream: 'stdout' });
          }
        });
        await finished;

        const meta = JSON.parse(await readFile(path.join(scratch, 'output.csv.json'), 'utf8')) as {
          columns: ColumnInfo[];
        };
        for (const column of meta.columns) {
          if (!OUTPUT_TYPES.has(column.type))
            throw dataError(`output column "${column.name}" has an unknown type`);
          if (column.name.length === 0 || column.name.length > 63) {
            throw dataError(`output column "${column.name}": names must be 1 to 63 characters`);
          }
        }
        if (meta.columns.length === 0) throw dataError('transform() returned a table without columns');
        ctx.heartbeat({ phase: 'output' });
        await importTable(
          ctx.warehouse,
          ctx.outputTable,
          meta.columns,
          path.join(scratch, 'output.csv'),
          ctx.signal,
        );
        const stats = await tableStats(ctx.warehouse, ctx.outputTable);
        return {
          table: ctx.outputTable,
          stats: { rowsIn, rowsOut: stats.rows, bytes: stats.bytes },
          notes: [`output columns: ${meta.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`],
        };
      },
      { env, kind: config.api, network: config.network, limits: config.limits },
    );
  },
});
