// transform.sql: one read-only Postgres query over the step's inputs, kept as the step's table.
// Placeholders are rewritten (inputs → quoted tables, params → bound values), the statement is
// checked by the real Postgres parser, then run as `create table … as <query>` under a timeout.
import { withTransaction } from '../../transaction.js';
import { inputTable } from '../../placeholders.js';
import { z } from 'zod';
import { configError, isPgError, type PgErrorLike } from '../../errors.js';
import { defineNodeType } from '../../node-type.js';
import { quoteTable, tableStats } from '../../sql.js';
import { readThroughBranch } from '../../warehouse/branch-schemas.js';
import { redirectToBranch } from './branch-sql.js';
import { checkRenderedSql } from './check-sql.js';
import { describeSql } from './describe-sql.js';
import {
  codePointToIndex,
  formatSqlProblem,
  renderSql,
  toSourceIndex,
  type RenderedSql,
} from './render-sql.js';

const ConfigSchema = z.object({
  sql: z
    .string({ error: (issue) => (issue.input === undefined ? 'SQL is required' : 'must be text') })
    .max(1_000_000)
    .regex(/\S/, 'SQL is required')
    .describe(
      'One SELECT, WITH … SELECT or VALUES query. {{ inputs.<node> }} is the table of an input node; ' +
        '{{ params.<name> }} is a run param, passed as a bound value (cast it where the type is ambiguous, ' +
        'e.g. {{ params.day }}::date).',
    )
    .meta({ 'x-widget': 'sql' }),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(900)
    .describe('The query is cancelled after this many seconds (statement_timeout)'),
});

export const sqlTransform = defineNodeType({
  type: 'transform.sql',
  kind: 'transform',
  title: 'SQL',
  description:
    'A Postgres query over the inputs, e.g. select * from {{ inputs.orders }} where total > {{ params.min }}.',
  icon: 'code',
  category: 'SQL',
  lineage: (config) => (typeof config.sql === 'string' ? { columns: { from: 'sql', sql: config.sql } } : {}),
  config: ConfigSchema,
  inputs: { min: 1, max: null },
  sqlFields: (config) => {
    const sql = (config as { sql?: unknown } | null)?.sql;
    return typeof sql === 'string' && /\S/.test(sql) ? [{ path: ['sql'], sql }] : [];
  },
  describe: (ctx, config, inputs) => describeSql(ctx, config.sql, inputs),
  async run(ctx, config, inputs) {
    const written = renderSql(config.sql, {
      input: (name, stream) =>
        Object.hasOwn(inputs, name) ? quoteTable(inputTable(inputs[name]!, stream)) : undefined,
      param: (name) => (Object.hasOwn(ctx.params, name) ? { value: ctx.params[name] } : undefined),
      inputNames: Object.keys(inputs),
    });
    const problems = await checkRenderedSql(written, {
      project: ctx.project,
      owners: ctx.warehouse.owners,
      readable: Object.values(inputs).map((table) => table.schema),
      mayRead: (table) => ctx.warehouse.canRead(table),
    });
    if (problems.length > 0) throw configError('sql', problems.map(formatSqlProblem).join('; '));
    // In a branch, `schema.table` reads the branch's copy when it wrote one (main's otherwise).
    const branch = ctx.warehouse.branch;
    const rendered = branch
      ? await redirectToBranch(written, async (table) => {
          const read = await readThroughBranch(ctx.warehouse, table, branch.name);
          return read.schema === table.schema ? undefined : read.schema;
        })
      : written;

    const prefix = `create table ${quoteTable(ctx.outputTable)} as `;
    const statement = prefix + rendered.text;
    try {
      await withTransaction(ctx.warehouse, async (client) => {
        await client.query(`set local statement_timeout = ${config.timeoutSeconds * 1000}`);
        // A cancelled run stops its query instead of leaving it to run out its timeout.
        let running = true;
        const cancel = () => {
          if (running) void ctx.warehouse.cancel(client);
        };
        ctx.signal.addEventListener('abort', cancel, { once: true });
        try {
          if (ctx.signal.aborted) throw ctx.signal.reason;
          await client.query(statement, rendered.values);
        } finally {
          running = false;
          ctx.signal.removeEventListener('abort', cancel);
        }
      });
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (isPgError(error)) locateInSource(error, rendered, statement, prefix.length);
      throw error;
    }

    const [output, ...ins] = await Promise.all([
      tableStats(ctx.warehouse, ctx.outputTable),
      ...Object.values(inputs).map((table) => tableStats(ctx.warehouse, table)),
    ]);
    return {
      table: ctx.outputTable,
      stats: {
        rowsIn: ins.reduce((sum, s) => sum + s.rows, 0),
        rowsOut: output!.rows,
        bytes: output!.bytes,
      },
    };
  },
});

/**
 * Points a Postgres error at the user's SQL: the step's failure message (describePgError) reads
 * `sql` and a 1-based `position` into it, so both are set to the user's text and the position
 * Postgres gave (in characters of the executed statement) is mapped back through the rewrite.
 */
function locateInSource(
  error: PgErrorLike & { sql?: string },
  rendered: RenderedSql,
  statement: string,
  prefixLength: number,
): void {
  error.sql = rendered.source;
  if (!error.position) return;
  const index = codePointToIndex(statement, Number(error.position) - 1) - prefixLength;
  if (index < 0) {
    error.sql = statement; // in the `create table` we wrote: show that
    error.position = String(index + prefixLength + 1);
    return;
  }
  error.position = String(toSourceIndex(rendered, index) + 1);
}
