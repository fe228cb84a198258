// One connector stream into one warehouse table: the columns come from the stream's JSON Schema
// (as Airbyte catalogs and Singer SCHEMA messages give it), records are encoded as CSV and streamed
// into the step's table with COPY inside one transaction, which commits only when the connector
// process ended well. So a killed or failed read leaves no rows behind, and a retry starts clean.
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Writable } from 'node:stream';
import { dataError } from '../errors.js';
import type { TableRef } from '../node-type.js';
import { quoteIdent, quoteTable, type ColumnInfo } from '../sql.js';
import type { ProjectWarehouse } from '../warehouse/project-warehouse.js';

type JsonSchema = {
  type?: string | string[];
  format?: string;
  airbyte_type?: string;
  properties?: Record<string, JsonSchema>;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

export interface StreamColumn extends ColumnInfo {
  /** How a value is written: scalars as text, objects and arrays as JSON. */
  encode: 'scalar' | 'json';
}

/** The Postgres type of one property of a stream schema; nested values become jsonb. */
export function columnType(schema: JsonSchema | undefined): { type: string; encode: 'scalar' | 'json' } {
  const variants = schema?.anyOf ?? schema?.oneOf;
  if (variants) {
    const nonNull = variants.filter((v) => v.type !== 'null');
    if (nonNull.length === 1) return columnType(nonNull[0]);
    return { type: 'jsonb', encode: 'json' };
  }
  const types = (Array.isArray(schema?.type) ? schema.type : schema?.type ? [schema.type] : []).filter(
    (t) => t !== 'null',
  );
  if (types.length !== 1) return { type: 'jsonb', encode: 'json' };
  switch (types[0]) {
    case 'integer':
      return { type: 'bigint', encode: 'scalar' };
    case 'number':
      return schema?.airbyte_type === 'integer'
        ? { type: 'bigint', encode: 'scalar' }
        : { type: 'double precision', encode: 'scalar' };
    case 'boolean':
      return { type: 'boolean', encode: 'scalar' };
    case 'string':
      if (schema?.format === 'date-time') {
        return schema.airbyte_type === 'timestamp_without_timezone'
          ? { type: 'timestamp without time zone', encode: 'scalar' }
          : { type: 'timestamp with time zone', encode: 'scalar' };
      }
      if (schema?.format === 'date') return { type: 'date', encode: 'scalar' };
      return { type: 'text', encode: 'scalar' };
    default:
      return { type: 'jsonb', encode: 'json' };
  }
}

/** The columns of a stream, one per top-level property, in the schema's order. */
export function streamColumns(schema: unknown): StreamColumn[] {
  const properties = (schema as JsonSchema | undefined)?.properties ?? {};
  return Object.entries(properties).map(([name, property]) => ({ name, ...columnType(property) }));
}

/** CSV field for COPY: NULL is an unquoted \N; anything else is quoted. */
function field(value: unknown, encode: 'scalar' | 'json'): string {
  if (value === null || value === undefined) return '\\N';
  const text =
    encode === 'json' || typeof value === 'object'
      ? JSON.stringify(value)
      : typeof value === 'string'
        ? value
        : String(value);
  // Postgres text cannot hold NUL; JSON escapes it, plain text drops it.
  const clean = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  return `"${clean.replaceAll('"', '""')}"`;
}

export class StreamTableWriter {
  private client: pg.PoolClient | undefined;
  private copy: (Writable & { rowCount?: number }) | undefined;
  private copyDone: Promise<void> | undefined;
  private buffer = '';
  rows = 0;

  constructor(
    private readonly warehouse: ProjectWarehouse,
    private readonly table: TableRef,
    readonly columns: StreamColumn[],
  ) {}

  async open(): Promise<void> {
    if (this.columns.length === 0) throw dataError(`the stream's schema has no properties, so no columns`);
    this.client = await this.warehouse.connect();
    await this.client.query('begin');
    // A retried attempt starts clean: a stream's table of an earlier attempt is replaced.
    await this.client.query(`drop table if exists ${quoteTable(this.table)}`);
    await this.client.query(
      `create table ${quoteTable(this.table)} (${this.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`,
    );
    const copy = this.client.query(
      copyFrom(`copy ${quoteTable(this.table)} from stdin with (format csv, null '\\N')`),
    ) as unknown as Writable;
    this.copy = copy;
    this.copyDone = new Promise<void>((resolve, reject) => {
      copy.on('finish', () => resolve());
      copy.on('error', reject);
    });
    this.copyDone.catch(() => {});
  }

  /** Adds a record; resolves at once, or once the COPY stream drained when it is full. */
  write(record: Record<string, unknown>): Promise<void> | undefined {
    let line = '';
    for (let i = 0; i < this.columns.length; i++) {
      const column = this.columns[i]!;
      if (i > 0) line += ',';
      line += field(record[column.name], column.encode);
    }
    this.buffer += line + '\n';
    this.rows++;
    if (this.buffer.length < 256 * 1024) return undefined;
    return this.flush();
  }

  private flush(): Promise<void> | undefined {
    if (!this.buffer) return undefined;
    const ok = this.copy!.write(this.buffer);
    this.buffer = '';
    if (ok) return undefined;
    return new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.copy!.once('error', onError);
      this.copy!.once('drain', () => {
        this.copy!.off('error', onError);
        resolve();
      });
    });
  }

  /** Ends the COPY and commits: the rows exist from here on. */
  async commit(): Promise<number> {
    await this.flush();
    this.copy!.end();
    await this.copyDone;
    await this.client!.query('commit');
    this.release();
    return this.rows;
  }

  /** Abandons the COPY: the connection is closed, so the server rolls the whole read back. */
  abort(): void {
    const client = this.client;
    this.client = undefined;
    client?.release(true);
  }

  private release(): void {
    this.client?.release();
    this.client = undefined;
  }
}

/** The comment that marks a multi-stream node's own table as the list of its stream tables. */
export const STREAM_MANIFEST = 'tributary streams';

/**
 * A multi-stream node's own table: one row per stream it read (stream, table_name, rows,
 * sync_mode), so a preview shows what it read, and steps downstream (a Python transform's
 * `inputs["<node>.<stream>"]`) find each stream's table.
 */
export async function writeStreamManifest(
  ctx: { warehouse: ProjectWarehouse; outputTable: TableRef },
  streams: { stream: string; table: string; rows: number; syncMode: string }[],
): Promise<void> {
  const table = quoteTable(ctx.outputTable);
  await ctx.warehouse.query(`drop table if exists ${table}`);
  await ctx.warehouse.query(
    `create table ${table} (stream text not null, table_name text not null, rows bigint not null, sync_mode text not null)`,
  );
  await ctx.warehouse.query(
    `insert into ${table} select * from unnest($1::text[], $2::text[], $3::bigint[], $4::text[])`,
    [
      streams.map((s) => s.stream),
      streams.map((s) => s.table),
      streams.map((s) => s.rows),
      streams.map((s) => s.syncMode),
    ],
  );
  await ctx.warehouse.query(`comment on table ${table} is '${STREAM_MANIFEST}'`);
}

/** The stream tables a multi-stream node's table lists; empty for any other table. */
export async function streamManifest(
  warehouse: ProjectWarehouse,
  table: TableRef,
): Promise<{ stream: string; table: TableRef }[]> {
  const marked = await warehouse.query<{ comment: string | null }>(
    "select obj_description(to_regclass($1), 'pg_class') as comment",
    [quoteTable(table)],
  );
  if (marked.rows[0]?.comment !== STREAM_MANIFEST) return [];
  const rows = await warehouse.query<{ stream: string; table_name: string }>(
    `select stream, table_name from ${quoteTable(table)} order by stream`,
  );
  return rows.rows.map((r) => ({ stream: r.stream, table: { schema: table.schema, table: r.table_name } }));
}
