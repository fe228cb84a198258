// source.generate: synthetic rows made inside Postgres (generate_series), for demos, tests and
// benchmarks. Deterministic for a given seed, so golden tests can compare exact rows.
import { z } from 'zod';
import { configColumns, defineNodeType } from '../../node-type.js';
import { configError } from '../../errors.js';
import { quoteIdent, quoteTable, tableStats } from '../../sql.js';

const ColumnSchema = z.discriminatedUnion('generator', [
  z.object({ name: z.string().min(1), generator: z.literal('sequence'), start: z.number().int().default(1) }),
  z.object({
    name: z.string().min(1),
    generator: z.literal('integer'),
    min: z.number().int().default(0),
    max: z.number().int().default(1000),
  }),
  z.object({
    name: z.string().min(1),
    generator: z.literal('number'),
    min: z.number().default(0),
    max: z.number().default(1000),
    decimals: z.number().int().min(0).max(10).default(2),
  }),
  z.object({ name: z.string().min(1), generator: z.literal('choice'), values: z.array(z.string()).min(1) }),
  z.object({
    name: z.string().min(1),
    generator: z.literal('date'),
    start: z.iso.date().default('2026-01-01'),
    days: z.number().int().min(1).default(365),
  }),
  z.object({ name: z.string().min(1), generator: z.literal('text'), prefix: z.string().default('item-') }),
]);

const ConfigSchema = z.object({
  rows: z.number().int().min(0).max(100_000_000).describe('How many rows to generate'),
  columns: z.array(ColumnSchema).min(1).describe('The columns and how each is generated'),
  seed: z
    .number()
    .min(-1)
    .max(1)
    .default(0.42)
    .describe('Seed in [-1, 1]: the same seed gives the same rows'),
});

type Column = z.infer<typeof ColumnSchema>;

// Each column is an expression over `i` (1..rows) and a seeded random(). Values are literals made
// from validated numbers or bound parameters, never user text spliced into SQL.
function expression(column: Column, bind: (value: unknown) => string): string {
  switch (column.generator) {
    case 'sequence':
      return `(i + ${bind(column.start)}::bigint - 1)`;
    case 'integer':
      return `(${bind(column.min)}::bigint + floor(random() * (${bind(column.max)}::bigint - ${bind(column.min)}::bigint + 1)))::bigint`;
    case 'number':
      return `round((${bind(column.min)}::numeric + random()::numeric * (${bind(column.max)}::numeric - ${bind(column.min)}::numeric)), ${bind(column.decimals)}::int)`;
    case 'choice':
      return `(${bind(column.values)}::text[])[1 + floor(random() * ${bind(column.values.length)}::int)::int]`;
    case 'date':
      return `(${bind(column.start)}::date + floor(random() * ${bind(column.days)}::int)::int)`;
    case 'text':
      return `${bind(column.prefix)}::text || i`;
  }
}

/** The type of each generator's column, as the expressions above make it. */
const GENERATED_TYPES: Record<Column['generator'], string> = {
  sequence: 'bigint',
  integer: 'bigint',
  number: 'numeric',
  choice: 'text',
  date: 'date',
  text: 'text',
};

/** Each column's type by its generator, for a config as written (maybe malformed). */
function generatedTypes(config: Record<string, unknown>): Record<string, string> {
  const columns = Array.isArray(config.columns)
    ? (config.columns as { name?: unknown; generator?: unknown }[])
    : [];
  return Object.fromEntries(
    columns.flatMap((c) =>
      typeof c?.name === 'string' && typeof c.generator === 'string' && c.generator in GENERATED_TYPES
        ? [[c.name, GENERATED_TYPES[c.generator as Column['generator']]]]
        : [],
    ),
  );
}

export const generateSource = defineNodeType({
  type: 'source.generate',
  kind: 'source',
  title: 'Generate rows',
  description:
    'Synthetic rows for demos, tests and benchmarks: sequences, random numbers, choices and dates.',
  icon: 'sparkles',
  category: 'Generate',
  lineage: (config) => ({
    columns: { from: 'made', columns: configColumns(config) ?? [], columnTypes: generatedTypes(config) },
  }),
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  describe: (_ctx, config) =>
    Promise.resolve(config.columns.map((c) => ({ name: c.name, type: GENERATED_TYPES[c.generator] }))),
  async run(ctx, config) {
    const names = new Set<string>();
    for (const column of config.columns) {
      if (names.has(column.name)) throw configError('columns', `column "${column.name}" appears twice`);
      names.add(column.name);
    }
    const values: unknown[] = [];
    const bind = (value: unknown) => {
      values.push(value);
      return `$${values.length}`;
    };
    const select = config.columns.map((c) => `${expression(c, bind)} as ${quoteIdent(c.name)}`).join(', ');
    const client = await ctx.warehouse.connect();
    try {
      await client.query('begin');
      await client.query('select setseed($1)', [config.seed]);
      await client.query(
        `create table ${quoteTable(ctx.outputTable)} as select ${select} from generate_series(1, ${bind(config.rows)}::bigint) as g(i)`,
        values,
      );
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    const stats = await tableStats(ctx.warehouse, ctx.outputTable);
    return { table: ctx.outputTable, stats: { rowsIn: 0, rowsOut: stats.rows, bytes: stats.bytes } };
  },
});
