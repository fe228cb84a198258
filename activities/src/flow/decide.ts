// What flow.if and flow.switch share: the optional one-row query whose value a condition reads (run
// under the project's role, read only, like an assertion), checking conditions against what is
// upstream, and passing the one input table through to the route taken.
import { inputTable } from '../placeholders.js';
import { z } from 'zod';
import { configError, describePgError, isPgError, StepError } from '../errors.js';
import type { StepContext, StepOutput, TableRef, UpstreamScope } from '../node-type.js';
import { quoteTable, tableStats, type ColumnInfo } from '../sql.js';
import { checkRenderedSql } from '../transform/sql/check-sql.js';
import { formatSqlProblem, renderSql } from '../transform/sql/render-sql.js';
import { inTransaction } from '../transaction.js';
import {
  checkCondition,
  ConditionError,
  conditionReads,
  parseCondition,
  type Expr,
  type Value,
  type ValueType,
} from './condition.js';

export const conditionField = z
  .string()
  .min(1, 'a condition is required')
  .max(2000)
  .describe(
    'A condition over steps.<node>.<fact> (status, rowsIn, rowsOut, error, and facts a node type declares), ' +
      "params.<name> and query; e.g. steps.load.rowsOut > 0 and params.mode == 'full'",
  );

export const QuerySchema = z
  .object({
    sql: z
      .string()
      .max(100_000)
      .regex(/\S/, 'SQL is required')
      .describe('A SELECT returning exactly one row with one column; conditions read its value as "query"')
      .meta({ 'x-widget': 'sql' }),
    type: z.enum(['number', 'string', 'boolean']).describe('The type of the value, as conditions compare it'),
  })
  .strict();
export type DecisionQuery = z.infer<typeof QuerySchema>;

/** The config field of a deciding node's optional query. */
export const queryField = QuerySchema.optional().describe(
  'A one-row query over the inputs; conditions read its value as "query"',
);

/**
 * The parts of a deciding node's declaration that flow.if and flow.switch have alike: a transform
 * of the Flow category over its inputs, whose SQL is its query's and whose output is its one input.
 */
export const decidingNode = {
  kind: 'transform' as const,
  category: 'Flow',
  inputs: { min: 1, max: null },
  sqlFields: (config: unknown) => {
    const sql = (config as { query?: { sql?: unknown } } | null)?.query?.sql;
    return typeof sql === 'string' && /\S/.test(sql) ? [{ path: ['query', 'sql'], sql }] : [];
  },
  describe: (_ctx: unknown, _config: unknown, inputs: Record<string, ColumnInfo[]>) => {
    const all = Object.values(inputs);
    return Promise.resolve(all.length === 1 ? all[0]! : []);
  },
};

/** What a deciding step's conditions read: the upstream steps' facts, the params, its query's value. */
export async function decisionFacts(
  ctx: StepContext,
  query: DecisionQuery | undefined,
  inputs: Record<string, TableRef>,
): Promise<{ steps: Record<string, Record<string, Value>>; params: Record<string, Value>; query?: Value }> {
  return {
    steps: ctx.upstream,
    params: ctx.params as Record<string, Value>,
    ...(query ? { query: await queryValue(ctx, query, inputs) } : {}),
  };
}

/** Parses a condition, or returns the problem as a config problem at `path`. */
export function parsed(text: string): Expr | undefined {
  try {
    return parseCondition(text);
  } catch {
    return undefined;
  }
}

/** Type-checks conditions at their paths, the query's type in scope when there is a query. */
export function checkConditions(
  conditions: { path: (string | number)[]; text: string }[],
  scope: UpstreamScope,
  query: DecisionQuery | undefined,
): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  for (const { path, text } of conditions) {
    let expr: Expr;
    try {
      expr = parseCondition(text);
    } catch (error) {
      problems.push({ path, message: (error as Error).message });
      continue;
    }
    const found = checkCondition(expr, { ...scope, ...(query ? { query: query.type } : {}) });
    for (const problem of found) problems.push({ path, message: problem.message });
  }
  return problems;
}

/** The upstream steps the conditions read (those that parse). */
export function readsOf(texts: string[]): string[] {
  const steps = new Set<string>();
  for (const text of texts) {
    const expr = parsed(text);
    if (expr) for (const s of conditionReads(expr).steps) steps.add(s);
  }
  return [...steps].sort();
}

/** Parses at run time; the compiler checked it, so a failure here is a config error. */
export function parseAt(text: string, field: string): Expr {
  try {
    return parseCondition(text);
  } catch (error) {
    if (error instanceof ConditionError) throw configError(field, error.message);
    throw error;
  }
}

/** Runs the one-row query under the project's role in a read-only transaction and types its value. */
export async function queryValue(
  ctx: StepContext,
  query: DecisionQuery,
  inputs: Record<string, TableRef>,
): Promise<Value> {
  const rendered = renderSql(query.sql, {
    input: (name, stream) =>
      Object.hasOwn(inputs, name) ? quoteTable(inputTable(inputs[name]!, stream)) : undefined,
    param: (name) => (Object.hasOwn(ctx.params, name) ? { value: ctx.params[name] } : undefined),
    inputNames: Object.keys(inputs),
  });
  const problems = [
    ...rendered.problems,
    ...(rendered.problems.length
      ? []
      : await checkRenderedSql(rendered, {
          project: ctx.project,
          owners: ctx.warehouse.owners,
          readable: Object.values(inputs).map((table) => table.schema),
          mayRead: (table) => ctx.warehouse.canRead(table),
        })),
  ];
  if (problems.length > 0) throw configError('query.sql', problems.map(formatSqlProblem).join('; '));
  const client = await ctx.warehouse.connect();
  const cancel = () => void ctx.warehouse.cancel(client);
  ctx.signal.addEventListener('abort', cancel, { once: true });
  try {
    // Two rows are enough to tell that there is more than one.
    const result = await inTransaction(
      client,
      (c) =>
        c.query<Record<string, unknown>>(
          `select * from (\n${rendered.text}\n) as q limit 2`,
          rendered.values,
        ),
      { readOnly: true },
    );
    if (result.rows.length !== 1 || result.fields.length !== 1) {
      throw configError(
        'query.sql',
        `must return exactly one row with one column; it returned ${result.rows.length === 2 ? 'more than one row' : `${result.rows.length} rows`} with ${result.fields.length} column(s)`,
      );
    }
    return typed(Object.values(result.rows[0]!)[0], query.type);
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (isPgError(error)) {
      throw Object.assign(new Error(`query.sql: ${describePgError(error, query.sql)}`), { code: error.code });
    }
    throw error;
  } finally {
    ctx.signal.removeEventListener('abort', cancel);
    client.release();
  }
}

function typed(raw: unknown, type: ValueType): Value {
  if (raw === null || raw === undefined) return null;
  if (type === 'number') {
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isFinite(n))
      throw new StepError(`config.query.sql: its value "${String(raw)}" is not a number`, 'data');
    return n;
  }
  if (type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    throw new StepError(`config.query.sql: its value "${String(raw)}" is not true or false`, 'data');
  }
  return typeof raw === 'string' ? raw : String(raw);
}

/** A deciding step's output: its one input, passed through (no copy), or nothing. */
export async function passThrough(
  ctx: StepContext,
  inputs: Record<string, TableRef>,
): Promise<Omit<StepOutput, 'decision'>> {
  const tables = Object.values(inputs);
  if (tables.length !== 1) return { stats: { rowsIn: 0, rowsOut: 0, bytes: 0 } };
  const stats = await tableStats(ctx.warehouse, tables[0]!);
  return { table: tables[0]!, stats: { rowsIn: stats.rows, rowsOut: stats.rows, bytes: 0 } };
}
