// Identifier quoting and small SQL helpers shared by connectors: identifiers are always quoted,
// values always bound.
import pg from 'pg';
import type { TableRef } from './node-type.js';

/** Anything that runs a query: the step's warehouse, one of its connections, or a pool. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export const quoteIdent = (name: string): string => pg.escapeIdentifier(name);
export const quoteTable = (ref: TableRef): string => `${quoteIdent(ref.schema)}.${quoteIdent(ref.table)}`;

/** Parses `schema.table` (or `table`, in `defaultSchema`) as written by a user. */
export function parseTableName(name: string, defaultSchema = 'public'): TableRef {
  const parts = name.split('.');
  if (parts.length === 1) return { schema: defaultSchema, table: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, table: parts[1]! };
  throw new Error(`"${name}" is not a table name; write it as schema.table`);
}

export interface ColumnInfo {
  name: string;
  type: string;
}

/** The columns of a table, in order, with their formatted Postgres types. */
export async function tableColumns(db: Queryable, ref: TableRef): Promise<ColumnInfo[]> {
  const result = await db.query<ColumnInfo>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [quoteTable(ref)],
  );
  return result.rows;
}

/**
 * The first `limit` columns of a table, in order, and how many it has: one catalog read, no rows
 * (what a step reports of its output table).
 */
export async function tableColumnsUpTo(
  db: Queryable,
  ref: TableRef,
  limit: number,
): Promise<{ columns: ColumnInfo[]; total: number }> {
  const result = await db.query<ColumnInfo & { total: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, count(*) over () as total
       from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
      order by a.attnum
      limit $2`,
    [quoteTable(ref), limit],
  );
  return {
    columns: result.rows.map(({ name, type }) => ({ name, type })),
    total: Number(result.rows[0]?.total ?? 0),
  };
}

/** On-disk size of a table, for step statistics (without the full count that tableStats makes). */
export async function tableBytes(db: Queryable, table: TableRef): Promise<number> {
  const result = await db.query<{ bytes: string | null }>(
    'select pg_total_relation_size(to_regclass($1)) as bytes',
    [quoteTable(table)],
  );
  return Number(result.rows[0]?.bytes ?? 0);
}

/** Row count and on-disk size of a table, for step statistics. */
export async function tableStats(db: Queryable, ref: TableRef): Promise<{ rows: number; bytes: number }> {
  const result = await db.query<{ rows: string; bytes: string }>(
    `select (select count(*) from ${quoteTable(ref)}) as rows, pg_total_relation_size(to_regclass($1)) as bytes`,
    [quoteTable(ref)],
  );
  return { rows: Number(result.rows[0]!.rows), bytes: Number(result.rows[0]!.bytes) };
}
