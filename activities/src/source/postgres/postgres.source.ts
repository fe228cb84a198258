// source.postgres: copies a table or the result of one SELECT from a Postgres database (named by a
// secret holding its URL) into the run's staging table, with the source's column types. With a
// cursor column it reads incrementally: only rows past the cursor of the last successful run.
import { parse as parseSql } from 'libpg-query';
import type pg from 'pg';
import { z } from 'zod';
import { configError, StepError } from '../../errors.js';
import { configString, columnsOf, defineNodeType } from '../../node-type.js';
import { findPlaceholders } from '../../placeholders.js';
import {
  cancelOnAbort,
  connectBySecret,
  pipeRows,
  setPortableTextFormat,
} from '../../postgres-connection.js';
import { parseTableName, quoteIdent, quoteTable, tableStats } from '../../sql.js';

const ConfigSchema = z
  .object({
    connection: z
      .string()
      .min(1)
      .describe('Name of the secret holding the source database URL (postgres://user:password@host/db)')
      .meta({ 'x-widget': 'secret' }),
    query: z
      .string()
      .min(1)
      .optional()
      .describe('One SELECT whose rows are copied (instead of table)')
      .meta({ 'x-widget': 'sql' }),
    table: z.string().min(1).optional().describe('A table to copy, as schema.table (instead of query)'),
    cursorColumn: z
      .string()
      .min(1)
      .optional()
      .describe(
        'For incremental reads: a column that grows with each new or changed row (updated_at, id); each run reads the rows past the last successful run',
      ),
  })
  .superRefine((config, issues) => {
    if ((config.query === undefined) === (config.table === undefined)) {
      const message = 'give exactly one of "query" and "table"';
      issues.addIssue({ code: 'custom', path: [config.query === undefined ? 'query' : 'table'], message });
    }
    if (config.table !== undefined) {
      try {
        parseTableName(config.table);
      } catch (error) {
        issues.addIssue({ code: 'custom', path: ['table'], message: (error as Error).message });
      }
    }
  });

type Config = z.infer<typeof ConfigSchema>;

/** The incremental state this source returns, committed by the engine only when the run succeeds. */
export interface CursorState {
  cursor: string;
  column: string;
}

/** A column of the result as the source describes it, and the type it gets in the warehouse. */
interface SourceColumn {
  name: string;
  /** The type as the source names it. */
  sourceType: string;
  /** The type of the staging column: the same for built-in types, text for the source's own types. */
  stagingType: string;
}

// Types with OIDs below this are built into every Postgres, so the warehouse has them too.
const FIRST_NORMAL_OID = 16384;

export const postgresSource = defineNodeType({
  type: 'source.postgres',
  kind: 'source',
  title: 'Postgres',
  description:
    'Reads a table or a SELECT from a Postgres database, in full or incrementally by a cursor column.',
  icon: 'database',
  category: 'Databases',
  lineage: (config) => ({
    reads: [
      {
        kind: 'external',
        name: `postgres:${configString(config, 'connection') ?? '?'}/${configString(config, 'table') ?? 'query'}`,
        ...columnsOf(config),
      },
    ],
    columns: { from: 'read' },
  }),
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  secrets: (config) => [config.connection],
  async run(ctx, config) {
    const select = await selectOf(config);
    const previous = config.cursorColumn ? cursorState(await ctx.loadState(), config.cursorColumn) : {};
    const notes: string[] = [];
    if (previous.ignored) notes.push(previous.ignored);

    const source = await connectBySecret(ctx, config.connection, 'connection');
    const warehouse = await ctx.warehouse.connect().catch(async (error: unknown) => {
      await source.close();
      throw error;
    });
    const stopCancelling = cancelOnAbort(source.client, source.pool, ctx.signal);
    let failed = true;
    try {
      // One snapshot for describing, copying and (when needed) taking the cursor's maximum; read
      // only, so a source is never changed whatever the query says.
      await source.client.query('begin transaction isolation level repeatable read read only');
      await setPortableTextFormat(source.client);
      const columns = await describe(source.client, select);
      notes.push(...stagedAsText(columns));

      let where = '';
      let cursor: SourceColumn | undefined;
      if (config.cursorColumn) {
        cursor = columns.find((c) => c.name === config.cursorColumn);
        if (!cursor) {
          throw configError(
            'cursorColumn',
            `column "${config.cursorColumn}" is not in the result (its columns: ${columns.map((c) => c.name).join(', ')})`,
          );
        }
        if (previous.state) {
          // COPY takes no bind parameters, so the cursor value travels as one: into a setting of
          // this transaction, which the query reads back and casts to the column's own type. No
          // value is ever spliced into SQL text.
          await source.client.query("select set_config('tributary.cursor', $1, true)", [
            previous.state.cursor,
          ]);
          where = ` where q.${quoteIdent(cursor.name)} > current_setting('tributary.cursor')::${cursor.sourceType}`;
        }
      }
      const order = cursor ? ` order by q.${quoteIdent(cursor.name)}` : '';
      const readSql = `select * from (\n${select}\n) as q${where}${order}`;

      await warehouse.query('begin');
      await setPortableTextFormat(warehouse);
      await warehouse.query(
        `create table ${quoteTable(ctx.outputTable)} (${columns.map((c) => `${quoteIdent(c.name)} ${c.stagingType}`).join(', ')})`,
      );
      const rowsIn = await pipeRows(
        source.client,
        readSql,
        warehouse,
        `copy ${quoteTable(ctx.outputTable)} from stdin`,
        ctx.signal,
      );

      let pendingState: CursorState | undefined = previous.state;
      if (cursor && rowsIn > 0) {
        // Built-in types keep their meaning in the warehouse, so the maximum is taken there, off the
        // source. A value taken from the rows never lies past the source's own maximum, so even a
        // collation that orders text differently can make a later run re-read rows, never skip any.
        const max =
          cursor.stagingType === cursor.sourceType
            ? await warehouse.query<{ max: string | null }>(
                `select max(${quoteIdent(cursor.name)})::text as max from ${quoteTable(ctx.outputTable)}`,
              )
            : await source.client.query<{ max: string | null }>(
                `select max(q.${quoteIdent(cursor.name)})::text as max from (\n${select}\n) as q${where}`,
              );
        const value = max.rows[0]?.max;
        if (value !== null && value !== undefined) pendingState = { cursor: value, column: cursor.name };
      }
      await warehouse.query('commit');
      await source.client.query('commit');
      failed = false;

      if (config.cursorColumn) {
        notes.push(
          previous.state
            ? `read ${rowsIn} rows with ${config.cursorColumn} > ${previous.state.cursor}`
            : `first incremental read: all ${rowsIn} rows`,
        );
      }
      ctx.log.info('read rows', { rows: rowsIn, ...(pendingState ? { cursor: pendingState.cursor } : {}) });
      const stats = await tableStats(ctx.warehouse, ctx.outputTable);
      return {
        table: ctx.outputTable,
        stats: { rowsIn, rowsOut: stats.rows, bytes: stats.bytes },
        ...(pendingState ? { pendingState } : {}),
        notes,
      };
    } finally {
      stopCancelling();
      if (failed) {
        await warehouse.query('rollback').catch(() => {});
        await source.client.query('rollback').catch(() => {});
      }
      // A COPY cut short can leave a connection mid-protocol: never hand it back to the pool.
      warehouse.release(failed);
      await source.close();
    }
  },
});

/** The SELECT to read: the configured query, checked to be exactly one SELECT, or the table. */
async function selectOf(config: Config): Promise<string> {
  if (config.table !== undefined) return `select * from ${quoteTable(parseTableName(config.table))}`;
  const query = config.query!;
  if (findPlaceholders(query).length > 0) {
    throw configError('query', 'placeholders such as {{ params.x }} are not supported in a source query');
  }
  let parsed: {
    stmts: { stmt: Record<string, { intoClause?: unknown }>; stmt_location?: number; stmt_len?: number }[];
  };
  try {
    parsed = await parseSql(query);
  } catch (error) {
    throw configError('query', `not valid SQL: ${(error as Error).message}`);
  }
  if (parsed.stmts.length !== 1) {
    throw configError('query', `must be one SELECT statement, but it has ${parsed.stmts.length} statements`);
  }
  const [statement] = parsed.stmts;
  const kind = Object.keys(statement!.stmt)[0]!;
  if (kind !== 'SelectStmt' || statement!.stmt[kind]!.intoClause) {
    throw configError(
      'query',
      `must be a SELECT (without INTO), not ${kind.replace(/Stmt$/, '').toUpperCase()}`,
    );
  }
  // Only the statement itself, without a trailing semicolon, so it can be used as a subquery.
  const bytes = Buffer.from(query);
  const start = statement!.stmt_location ?? 0;
  return statement!.stmt_len ? bytes.subarray(start, start + statement!.stmt_len).toString() : query;
}

function cursorState(stored: unknown, column: string): { state?: CursorState; ignored?: string } {
  if (stored === undefined || stored === null) return {};
  const state = stored as Partial<CursorState>;
  if (typeof state.cursor !== 'string' || typeof state.column !== 'string') {
    return { ignored: 'the stored cursor state is not readable; reading all rows' };
  }
  if (state.column !== column) {
    return {
      ignored: `the stored cursor is for column "${state.column}", not "${column}"; reading all rows`,
    };
  }
  return { state: { cursor: state.cursor, column: state.column } };
}

/** The result's columns and types, learned by running the query for no rows. */
async function describe(db: pg.PoolClient, select: string): Promise<SourceColumn[]> {
  const result = await db.query(`select * from (\n${select}\n) as q limit 0`);
  const seen = new Set<string>();
  for (const field of result.fields) {
    if (seen.has(field.name)) {
      throw configError(
        'query',
        `the result has two columns named "${field.name}"; give them distinct aliases`,
      );
    }
    seen.add(field.name);
  }
  if (result.fields.length === 0) throw configError('query', 'the result has no columns');
  const types = await db.query<{ i: number; formatted: string; portable: string }>(
    `select f.i::int as i,
            format_type(f.oid, f.typmod) as formatted,
            case
              when t.typtype = 'd' and t.typbasetype < ${FIRST_NORMAL_OID} then format_type(t.typbasetype, t.typtypmod)
              when f.oid >= ${FIRST_NORMAL_OID} or t.typtype in ('p', 'c')
                or (t.typelem <> 0 and t.typelem >= ${FIRST_NORMAL_OID}) then 'text'
              else format_type(f.oid, f.typmod)
            end as portable
       from unnest($1::oid[], $2::int[]) with ordinality as f(oid, typmod, i)
       join pg_type t on t.oid = f.oid
      order by f.i`,
    [result.fields.map((f) => f.dataTypeID), result.fields.map((f) => f.dataTypeModifier)],
  );
  return result.fields.map((field, i) => {
    const type = types.rows[i];
    if (!type) throw new StepError(`the source did not describe the type of column "${field.name}"`, 'sql');
    return { name: field.name, sourceType: type.formatted, stagingType: type.portable };
  });
}

function stagedAsText(columns: SourceColumn[]): string[] {
  return columns
    .filter((c) => c.stagingType !== c.sourceType && c.stagingType === 'text')
    .map((c) => `column "${c.name}" has the source's own type ${c.sourceType}; staged as text`);
}
