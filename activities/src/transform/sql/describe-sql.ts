// The columns a query would return, found without running it over data: each input becomes an
// empty common table expression of its known columns (`select null::bigint as id … where false`),
// and the query runs as `select * from (<query>) limit 0` under the project's role. Postgres itself
// then resolves every table, column, function and type, so a typo is found the way a run would
// find it, and located in the user's SQL. It needs no rights beyond reading and writes nothing
// (the warehouse revokes TEMPORARY; no temporary table is needed).
import { isPgError, type PgErrorLike } from '../../errors.js';
import type { DescribeContext } from '../../node-type.js';
import { quoteIdent, type ColumnInfo } from '../../sql.js';
import { checkRenderedSql } from './check-sql.js';
import { codePointToIndex, problemAt, renderSql, toSourceIndex, type SqlProblem } from './render-sql.js';

/** What describing a query found wrong, located in the user's SQL. */
export class SqlDescribeError extends Error {
  constructor(
    readonly problem: SqlProblem,
    /** unknown_column and unknown_table name what is available; invalid_sql is anything else. */
    readonly code: 'invalid_sql' | 'unknown_column' | 'unknown_table',
  ) {
    super(problem.message);
    this.name = 'SqlDescribeError';
  }
}

const PREFIX = 'select * from (\n';
const SUFFIX = '\n) as described limit 0';

/**
 * The output columns of `sql` (as the user wrote it) over inputs of these columns. Params without
 * a value are bound as null, which Postgres types from where they are used.
 */
export async function describeSql(
  ctx: DescribeContext,
  sql: string,
  inputs: Record<string, ColumnInfo[]>,
): Promise<ColumnInfo[]> {
  const rendered = renderSql(sql, {
    input: (name, stream) => {
      // A stream's columns are known by `<node>.<stream>` once the describer has them (after a run).
      const key = stream === undefined ? name : `${name}.${stream}`;
      return Object.hasOwn(inputs, key) ? standIn(key) : undefined;
    },
    param: (name) => ({ value: Object.hasOwn(ctx.params, name) ? ctx.params[name] : null }),
    inputNames: Object.keys(inputs),
  });
  const problems = await checkRenderedSql(rendered, {
    project: ctx.project,
    owners: ctx.warehouse.owners,
    readable: [],
    mayRead: (table) => ctx.warehouse.canRead(table),
  });
  if (problems.length > 0) throw new SqlDescribeError(problems[0]!, 'invalid_sql');

  const prefix = inputsPrefix(inputs);
  const statement = prefix + rendered.text + SUFFIX;
  let fields: { name: string; dataTypeID: number; dataTypeModifier: number }[];
  try {
    fields = (await ctx.warehouse.query(statement, rendered.values)).fields;
  } catch (error) {
    if (isPgError(error)) throw explain(error, rendered, statement, prefix.length, inputs);
    throw error;
  }
  if (fields.length === 0) return [];
  const types = await ctx.warehouse.query<{ type: string }>(
    'select format_type(t.oid, t.mod) as type from unnest($1::oid[], $2::int[]) with ordinality as t(oid, mod, n) order by n',
    [fields.map((f) => f.dataTypeID), fields.map((f) => f.dataTypeModifier)],
  );
  return fields.map((f, i) => ({ name: f.name, type: types.rows[i]!.type }));
}

/** The name an input's stand-in has: no table of the warehouse can be called this by accident. */
const standIn = (input: string) => quoteIdent(`{{ inputs.${input} }}`);

/** `with <input> as (select null::<type> as <column>, … where false), … select * from (` */
function inputsPrefix(inputs: Record<string, ColumnInfo[]>): string {
  const ctes = Object.entries(inputs).map(([name, columns]) => {
    const list = columns.map((c) => `null::${c.type} as ${quoteIdent(c.name)}`).join(', ');
    return `${standIn(name)} as (select ${list} where false)`;
  });
  return `${ctes.length ? `with ${ctes.join(',\n')}\n` : ''}${PREFIX}`;
}

/** A Postgres error as a problem in the user's SQL; an unknown name says what there is. */
function explain(
  error: PgErrorLike,
  rendered: ReturnType<typeof renderSql>,
  statement: string,
  prefixLength: number,
  inputs: Record<string, ColumnInfo[]>,
): SqlDescribeError {
  const code =
    error.code === '42703' ? 'unknown_column' : error.code === '42P01' ? 'unknown_table' : 'invalid_sql';
  let message = error.message;
  const column = /^column (.+) does not exist$/.exec(error.message)?.[1];
  const table = /^relation "(.+)" does not exist$/.exec(error.message)?.[1];
  const names = Object.keys(inputs);
  if (column !== undefined) {
    const listed = names.map((n) => `${n}; it has: ${inputs[n]!.map((c) => c.name).join(', ')}`);
    message =
      names.length === 1
        ? `Unknown column ${column} in ${listed[0]}`
        : `Unknown column ${column}${listed.length ? ` (${listed.join('. ')})` : ''}`;
  } else if (table !== undefined) {
    message =
      `Unknown table "${table}"` +
      (names.length ? `; the step's inputs are ${names.map((n) => `{{ inputs.${n} }}`).join(', ')}` : '');
  }
  const hint = (error as { hint?: string }).hint;
  // Postgres suggests a near name by its table, which for an input is the stand-in's name.
  const suggested = hint && /^Perhaps you meant to reference the column "(?:.*\.)?([^."]+)"/.exec(hint)?.[1];
  if (suggested) message += `; did you mean "${suggested}"?`;
  else if (hint) message += ` (${hint.replace(/\.$/, '')})`;
  const position = Number(error.position);
  if (!position) return new SqlDescribeError({ message }, code);
  const index = codePointToIndex(statement, position - 1) - prefixLength;
  const inSource = toSourceIndex(rendered, Math.max(0, Math.min(index, rendered.text.length)));
  return new SqlDescribeError(problemAt(rendered.source, inSource, message), code);
}
