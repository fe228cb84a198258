// Loads a stream of JSON records into a warehouse table with COPY (CSV), inferring the columns as it
// goes. Shared by source.json and source.http: anything that can yield plain objects can land rows.
//
// How the schema is found, without ever holding more than a bounded sample in memory:
// 1. The first `sampleSize` records (and at most `sampleBytes` of them) are buffered, and each
//    column's type is the widest type seen in the sample. The table is created from that, so the
//    usual mixes (an int column with a later float, a field missing from the first records) are
//    settled before any row is written and cost nothing.
// 2. Every later record is encoded against the current columns. A key not seen before becomes a
//    new column (`alter table … add column`, no table rewrite); a value the column's type cannot
//    hold widens the column along bigint → numeric → text → jsonb (objects and arrays go straight
//    to jsonb). Before any such change the pending batch is flushed, so every batch is encoded
//    against exactly one table shape. Each change is reported as a note on the step.
// 3. A new key whose first values are null waits for its first non-null value to pick its type
//    (only the key is remembered); one that stays null to the end becomes a text column.
// Rows travel as CSV in batches of at most `batchRows` rows / `batchBytes` bytes, one COPY per
// batch (written while the next batch is encoded), so no connection or transaction waits on a slow
// source and memory stays at two batches plus the sample.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { dataError, isPgError, StepError } from '../../errors.js';
import type { TableRef } from '../../node-type.js';
import { quoteIdent, quoteTable } from '../../sql.js';
import type { ProjectWarehouse } from '../../warehouse/project-warehouse.js';

type WarehouseAccess = Pick<ProjectWarehouse, 'query' | 'connect'>;

export type ColumnType = 'boolean' | 'bigint' | 'numeric' | 'text' | 'jsonb';
type ValueKind = ColumnType | 'null';

export interface LoadedColumn {
  /** The record key (after flattening) the column holds. */
  key: string;
  /** The column's name in Postgres (the key, unless it had to be shortened or made unique). */
  name: string;
  type: ColumnType;
}

export interface RecordsLoaderOptions {
  /** Nested objects become `parent_child` columns instead of one jsonb column. Arrays stay jsonb. */
  flatten?: boolean;
  /** Records buffered to infer the initial column types. */
  sampleSize?: number;
  /** Upper bound on the sample's size as JSON text, so huge records cannot fill memory. */
  sampleBytes?: number;
  /** A COPY batch is sent when it holds this many rows… */
  batchRows?: number;
  /** …or this many bytes of CSV. */
  batchBytes?: number;
  /** Checked between batches; when aborted, loading stops with the signal's reason. */
  signal?: AbortSignal;
  /** Called after each batch is written, with the rows written so far. */
  onProgress?: (rows: number) => void;
}

export interface LoadResult {
  rows: number;
  columns: LoadedColumn[];
  /** Schema changes made after the sample, renamed keys and the like, for the step's notes. */
  notes: string[];
}

/** Postgres refuses more columns than this in one table. */
export const MAX_COLUMNS = 1600;
const MAX_IDENTIFIER_BYTES = 63;
const MAX_NOTES = 20;
const COPY_CHUNK_CHARS = 64 * 1024;

const DEFAULTS = {
  sampleSize: 1000,
  sampleBytes: 16 * 1024 * 1024,
  batchRows: 10_000,
  batchBytes: 8 * 1024 * 1024,
};

/** Writes `records` into `table`, which must not exist yet; returns what was written. */
export async function loadRecords(
  db: WarehouseAccess,
  table: TableRef,
  records: AsyncIterable<unknown>,
  options: RecordsLoaderOptions = {},
): Promise<LoadResult> {
  const loader = new RecordsLoader(db, table, options);
  return loader.load(records);
}

/**
 * The columns `loadRecords` would create the table with, from the same sample, writing nothing
 * (later records may still add or widen columns in a run).
 */
export async function sampleColumns(
  records: AsyncIterable<unknown>,
  options: Pick<RecordsLoaderOptions, 'flatten' | 'sampleSize' | 'sampleBytes'> = {},
): Promise<LoadedColumn[]> {
  // No table is written, so the loader never touches a database.
  const loader = new RecordsLoader(null as unknown as WarehouseAccess, { schema: '', table: '' }, options);
  return loader.describe(records);
}

class RecordsLoader {
  private readonly flatten: boolean;
  private readonly settings: typeof DEFAULTS;
  private readonly columns: LoadedColumn[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly usedNames = new Set<string>();
  /** Keys seen after the sample with only null values so far: no column yet. */
  private readonly nullKeys = new Set<string>();
  private readonly notes: string[] = [];
  private droppedNotes = 0;
  private strippedNul = false;
  private created = false;

  private inflight: Promise<void> | undefined;
  private batch: string[] = [];
  private chunk = '';
  private batchRows = 0;
  private batchBytes = 0;
  private written = 0;
  /** 1-based number of the record being encoded, for messages. */
  private recordNumber = 0;

  constructor(
    private readonly db: WarehouseAccess,
    private readonly table: TableRef,
    private readonly options: RecordsLoaderOptions,
  ) {
    this.flatten = options.flatten ?? false;
    this.settings = {
      sampleSize: options.sampleSize ?? DEFAULTS.sampleSize,
      sampleBytes: options.sampleBytes ?? DEFAULTS.sampleBytes,
      batchRows: options.batchRows ?? DEFAULTS.batchRows,
      batchBytes: options.batchBytes ?? DEFAULTS.batchBytes,
    };
  }

  async load(records: AsyncIterable<unknown>): Promise<LoadResult> {
    const iterator = records[Symbol.asyncIterator]();
    try {
      return await this.consume(iterator);
    } catch (error) {
      // No COPY outlives the load, and the source closes its file or connection; their own
      // failures must not hide the first one.
      await this.settle().catch(() => {});
      await iterator.return?.().catch(() => {});
      throw error;
    }
  }

  /** The columns of the sample: what the table is created with, before any record widens it. */
  async describe(records: AsyncIterable<unknown>): Promise<LoadedColumn[]> {
    const iterator = records[Symbol.asyncIterator]();
    try {
      this.defineSampleColumns((await this.readSample(iterator)).sample);
      return this.columns.map((c) => ({ ...c }));
    } finally {
      await iterator.return?.().catch(() => {});
    }
  }

  /** Phase 1: a bounded sample decides the initial types. */
  private async readSample(
    iterator: AsyncIterator<unknown>,
  ): Promise<{ sample: [string, unknown][][]; exhausted: boolean }> {
    const sample: [string, unknown][][] = [];
    let sampleBytes = 0;
    let exhausted = false;
    while (sample.length < this.settings.sampleSize && sampleBytes < this.settings.sampleBytes) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const fields = this.fieldsOf(next.value, sample.length + 1);
      sampleBytes += approximateSize(fields);
      sample.push(fields);
    }
    return { sample, exhausted };
  }

  private async consume(iterator: AsyncIterator<unknown>): Promise<LoadResult> {
    const { sample, exhausted } = await this.readSample(iterator);
    await this.createTable(sample);
    for (const fields of sample) await this.add(fields);
    sample.length = 0;
    // Phase 2: the rest streams through, widening the table when a record needs it.
    if (!exhausted) {
      for (;;) {
        const next = await iterator.next();
        if (next.done) break;
        await this.add(this.fieldsOf(next.value, this.recordNumber + 1));
      }
    }
    await this.flush();
    await this.settle();
    // Keys that never had a value still become columns, so downstream SQL can name them.
    if (this.nullKeys.size > 0) {
      const keys = [...this.nullKeys];
      this.nullKeys.clear();
      await this.alter(
        keys.map((key) => ({ kind: 'add' as const, key, type: 'text' as const })),
        false,
      );
    }
    if (this.strippedNul) this.note('NUL characters (\\u0000), which Postgres cannot store, were removed');
    if (this.droppedNotes > 0) this.notes.push(`… and ${this.droppedNotes} more schema changes`);
    return { rows: this.written, columns: this.columns.map((c) => ({ ...c })), notes: this.notes };
  }

  /** A record's columns as [key, value] pairs; non-objects become a single `value` column. */
  private fieldsOf(record: unknown, number: number): [string, unknown][] {
    const out: [string, unknown][] = [];
    if (isPlainObject(record)) {
      this.flattenInto(out, '', record, 0);
    } else if (record !== undefined) {
      out.push(['value', record]);
    } else {
      throw dataError(`record ${number} is undefined`);
    }
    return out;
  }

  private flattenInto(
    out: [string, unknown][],
    prefix: string,
    object: Record<string, unknown>,
    depth: number,
  ) {
    for (const key of Object.keys(object)) {
      const value = object[key];
      const name = prefix ? `${prefix}_${key}` : key;
      if (this.flatten && depth < 64 && isPlainObject(value)) this.flattenInto(out, name, value, depth + 1);
      else out.push([name, value]);
    }
  }

  private defineSampleColumns(sample: [string, unknown][][]): void {
    const types = new Map<string, ValueKind>();
    for (const fields of sample) {
      for (const [key, value] of fields) types.set(key, widen(types.get(key) ?? 'null', kindOf(value)));
    }
    if (types.size > MAX_COLUMNS) throw tooManyColumns(types.size);
    for (const [key, kind] of types) this.defineColumn(key, kind === 'null' ? 'text' : kind);
  }

  private async createTable(sample: [string, unknown][][]): Promise<void> {
    this.defineSampleColumns(sample);
    const definitions = this.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
    await this.db.query(`create table ${quoteTable(this.table)} (${definitions})`);
    this.created = true;
  }

  private defineColumn(key: string, type: ColumnType): LoadedColumn {
    const name = this.columnName(key);
    const column = { key, name, type };
    this.byKey.set(key, this.columns.length);
    this.columns.push(column);
    return column;
  }

  /** A valid, unique Postgres identifier for a key: NULs removed, at most 63 bytes. */
  private columnName(key: string): string {
    let base = key.split('\u0000').join('');
    if (base === '') base = 'column';
    base = truncateUtf8(base, MAX_IDENTIFIER_BYTES);
    let name = base;
    for (let n = 2; this.usedNames.has(name); n++) {
      const suffix = `_${n}`;
      name = truncateUtf8(base, MAX_IDENTIFIER_BYTES - suffix.length) + suffix;
    }
    this.usedNames.add(name);
    if (name !== key) this.note(`key ${JSON.stringify(key)} is stored as column "${name}"`);
    return name;
  }

  /** Encodes one record into the batch, changing the table first if the record needs it. */
  private async add(fields: [string, unknown][]): Promise<void> {
    this.recordNumber += 1;
    let changes: SchemaChange[] | undefined;
    for (const [key, value] of fields) {
      const index = this.byKey.get(key);
      const kind = kindOf(value);
      if (index === undefined) {
        if (kind === 'null') {
          if (!this.nullKeys.has(key)) {
            if (this.columns.length + this.nullKeys.size >= MAX_COLUMNS)
              throw tooManyColumns(MAX_COLUMNS + 1);
            this.nullKeys.add(key);
          }
          continue;
        }
        changes ??= [];
        const pending = changes.find((c) => c.key === key);
        if (pending) pending.type = widen(pending.type, kind) as ColumnType;
        else changes.push({ kind: 'add', key, type: kind });
      } else if (kind !== 'null') {
        const column = this.columns[index]!;
        const wider = widen(column.type, kind) as ColumnType;
        if (wider !== column.type) {
          changes ??= [];
          const pending = changes.find((c) => c.key === key);
          if (pending) pending.type = widen(pending.type, kind) as ColumnType;
          else changes.push({ kind: 'widen', key, type: wider });
        }
      }
    }
    if (changes) {
      await this.flush();
      await this.alter(changes, true);
    }
    this.encode(fields);
    if (this.batchRows >= this.settings.batchRows || this.batchBytes >= this.settings.batchBytes) {
      await this.flush();
    }
  }

  private async alter(changes: SchemaChange[], mention: boolean): Promise<void> {
    await this.settle();
    const actions: string[] = [];
    const added = changes.filter((c) => c.kind === 'add').length;
    if (this.columns.length + added > MAX_COLUMNS) throw tooManyColumns(this.columns.length + added);
    for (const change of changes) {
      if (change.kind === 'add') {
        this.nullKeys.delete(change.key);
        const column = this.defineColumn(change.key, change.type);
        actions.push(`add column ${quoteIdent(column.name)} ${column.type}`);
        if (mention)
          this.note(`column "${column.name}" (${column.type}) added at record ${this.recordNumber}`);
      } else {
        const column = this.columns[this.byKey.get(change.key)!]!;
        const name = quoteIdent(column.name);
        const using = change.type === 'jsonb' ? `to_jsonb(${name})` : `${name}::${change.type}`;
        actions.push(`alter column ${name} type ${change.type} using ${using}`);
        if (mention)
          this.note(
            `column "${column.name}" widened from ${column.type} to ${change.type} at record ${this.recordNumber}`,
          );
        column.type = change.type;
      }
    }
    await this.db.query(`alter table ${quoteTable(this.table)} ${actions.join(', ')}`);
  }

  private encode(fields: [string, unknown][]): void {
    const cells = new Array<string>(this.columns.length).fill('');
    for (const [key, value] of fields) {
      const index = this.byKey.get(key);
      if (index === undefined) continue; // a null for a key without a column yet
      cells[index] = this.cell(value, this.columns[index]!.type);
    }
    const line = `${cells.join(',')}\n`;
    this.chunk += line;
    this.batchRows += 1;
    this.batchBytes += line.length;
    if (this.chunk.length >= COPY_CHUNK_CHARS) {
      this.batch.push(this.chunk);
      this.chunk = '';
    }
  }

  /** One CSV field: unquoted empty is NULL, anything else is quoted. */
  private cell(value: unknown, type: ColumnType): string {
    if (value === null || value === undefined) return '';
    let text: string;
    if (type === 'jsonb') {
      text = JSON.stringify(value) ?? 'null';
      if (text.includes('\\u0000')) {
        // jsonb rejects the escaped NUL too; drop it where it is an escape, not an escaped backslash.
        text = text.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1');
        this.strippedNul = true;
      }
    } else if (typeof value === 'string') {
      text = value;
      if (text.includes('\u0000')) {
        text = text.split('\u0000').join('');
        this.strippedNul = true;
      }
    } else {
      text = String(value);
    }
    return `"${text.includes('"') ? text.replace(/"/g, '""') : text}"`;
  }

  private async flush(): Promise<void> {
    if (this.batchRows === 0) return;
    if (this.options.signal?.aborted) throw this.options.signal.reason;
    if (this.chunk) this.batch.push(this.chunk);
    const chunks = this.batch;
    const firstRecord = this.recordNumber - this.batchRows + 1;
    const rows = this.batchRows;
    this.batch = [];
    this.chunk = '';
    this.batchRows = 0;
    this.batchBytes = 0;
    if (!this.created) throw new Error('records loader: the table was not created');
    const columns = this.columns.map((c) => quoteIdent(c.name)).join(', ');
    const sql =
      this.columns.length > 0
        ? `copy ${quoteTable(this.table)} (${columns}) from stdin with (format csv)`
        : `copy ${quoteTable(this.table)} from stdin with (format csv)`;
    // One batch is written while the next is encoded; never more than one in flight.
    await this.settle();
    const copy = this.copy(sql, chunks, rows, firstRecord);
    copy.catch(() => {}); // awaited by settle(); this only keeps it from counting as unhandled meanwhile
    this.inflight = copy;
  }

  /** Waits for the batch in flight, if any, and surfaces its failure. */
  private async settle(): Promise<void> {
    const inflight = this.inflight;
    this.inflight = undefined;
    if (inflight) await inflight;
  }

  private async copy(sql: string, chunks: string[], rows: number, firstRecord: number): Promise<void> {
    const client = await this.db.connect();
    try {
      await pipeline(Readable.from(chunks), client.query(copyFrom(sql)));
    } catch (error) {
      client.release(true);
      throw this.describeCopyError(error, firstRecord);
    }
    client.release();
    this.written += rows;
    this.options.onProgress?.(this.written);
  }

  /** COPY names the line within its batch; turn that into the record number in the whole input. */
  private describeCopyError(error: unknown, firstRecord: number): unknown {
    if (!isPgError(error)) return error;
    const line = /line (\d+)/.exec(error.where ?? '')?.[1];
    if (!line) return error;
    const record = firstRecord + Number(line) - 1;
    const column = /column ([^:]+)/.exec(error.where ?? '')?.[1];
    return new StepError(
      `record ${record}${column ? `, column ${column}` : ''}: ${error.message}${error.detail ? ` (${error.detail})` : ''}`,
      'data',
    );
  }

  private note(text: string): void {
    if (this.notes.length < MAX_NOTES) this.notes.push(text);
    else this.droppedNotes += 1;
  }
}

interface SchemaChange {
  kind: 'add' | 'widen';
  key: string;
  type: ColumnType;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The narrowest column type that holds a value. */
export function kindOf(value: unknown): ValueKind {
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isSafeInteger(value) ? 'bigint' : 'numeric';
    case 'bigint':
      return value >= -(2n ** 63n) && value < 2n ** 63n ? 'bigint' : 'numeric';
    case 'string':
      return 'text';
    case 'undefined':
      return 'null';
    case 'object':
      return value === null ? 'null' : 'jsonb';
    default:
      return 'text';
  }
}

/** The narrowest type that holds both: bigint ⊂ numeric; other scalar mixes are text; jsonb holds all. */
export function widen(a: ValueKind, b: ValueKind): ValueKind {
  if (a === b || b === 'null') return a;
  if (a === 'null') return b;
  if (a === 'jsonb' || b === 'jsonb') return 'jsonb';
  if ((a === 'bigint' && b === 'numeric') || (a === 'numeric' && b === 'bigint')) return 'numeric';
  return 'text';
}

function approximateSize(fields: [string, unknown][]): number {
  let size = 0;
  for (const [key, value] of fields) {
    size += key.length + 4;
    if (typeof value === 'string') size += value.length;
    else if (value !== null && typeof value === 'object') size += JSON.stringify(value)?.length ?? 0;
    else size += 8;
  }
  return size;
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}

function tooManyColumns(count: number): StepError {
  return dataError(
    `the records have ${count > MAX_COLUMNS ? `more than ${MAX_COLUMNS}` : count} distinct keys, more columns than ` +
      `Postgres allows in a table (${MAX_COLUMNS}); if the keys are ids (a map rather than records), turn off ` +
      `flatten or point recordsPath at the records`,
  );
}
