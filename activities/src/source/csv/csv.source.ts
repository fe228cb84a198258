// source.csv: a CSV file from the data directory or an http(s) URL, loaded into the step's staging
// table. Only the header and a sample of rows are parsed here, for column names and types; the bytes
// themselves stream into COPY ... FROM STDIN, so Postgres parses the file and memory stays flat.
import { inTransaction, withTransaction } from '../../transaction.js';
import { transcode } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { z } from 'zod';
import { configError, dataError, isPgError, StepError, TransientError } from '../../errors.js';
import { fileDataset, columnsOf, defineNodeType, type StepContext } from '../../node-type.js';
import { quoteIdent, quoteTable } from '../../sql.js';
import { DEFAULT_RETRY, displayUrl, fetchWithRetry, templateParams } from '../http/http-client.js';
import { formatCopyError, locateCopyError, VALUE_ERROR_CODES } from './copy-error.js';
import { countLines, splitOnRecords, type ByteRange } from './csv-split.js';
import {
  COLUMN_TYPES,
  csvChar,
  findNameProblem,
  findUnterminatedQuote,
  inferTypes,
  MAX_IDENTIFIER_BYTES,
  parseHead,
  SQL_TYPE,
  truncateIdentifier,
  type CsvDialect,
  type InferredType,
} from './csv-format.js';

/** Rows read to infer column types. */
export const SAMPLE_ROWS = 1_000;
/** The sample stops here even with fewer rows, so a file of huge rows is not held in memory. */
const SAMPLE_MAX_BYTES = 8 << 20;
const READ_CHUNK_BYTES = 1 << 20;
const HEARTBEAT_EVERY_BYTES = 8 << 20;
/** A download that sends nothing for this long (no answer, or a stalled body) is given up, to be retried. */
const IDLE_TIMEOUT_MS = 60_000;

export const ENCODINGS = ['utf8', 'latin1', 'windows-1252', 'utf-16le'] as const;
type Encoding = (typeof ENCODINGS)[number];

const ColumnSchema = z.object({
  name: z.string().min(1).describe('Column name in the output table'),
  type: z.enum(COLUMN_TYPES).describe('Postgres type of the column'),
});

const ConfigSchema = z
  .object({
    path: z
      .string()
      .min(1)
      .optional()
      .describe(
        'File to read, relative to the data directory; may use {{ params.<name> }}. Give either path or url.',
      )
      .meta({ 'x-widget': 'path' }),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .optional()
      .describe(
        'http(s) address to download the file from; may use {{ params.<name> }}. Give either path or url.',
      ),
    delimiter: csvChar.default(',').describe('Character between fields, e.g. "," or ";" or a tab'),
    header: z
      .boolean()
      .default(true)
      .describe(
        'The first line holds the column names; when off, every line is data and columns are named column_1, column_2, …',
      ),
    encoding: z
      .enum(ENCODINGS)
      .default('utf8')
      .describe('Character encoding of the file; latin1 is ISO-8859-1, one byte per character'),
    quote: csvChar
      .default('"')
      .describe('Character around fields that hold delimiters, quotes or line breaks; doubled inside them'),
    nullString: z
      .string()
      .default('')
      .describe(
        'Unquoted text read as NULL; by default an empty unquoted field is NULL and a quoted "" is an empty string',
      ),
    columns: z
      .array(ColumnSchema)
      .min(1)
      .optional()
      .describe(
        `Column names and types in file order. When absent, names come from the header and types are inferred from the first ${SAMPLE_ROWS.toLocaleString('en')} rows.`,
      ),
  })
  .superRefine((config, ctx) => {
    if ((config.path === undefined) === (config.url === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['path'],
        message: 'give either path (a file in the data directory) or url, exactly one of them',
      });
    }
    if (config.quote === config.delimiter) {
      ctx.addIssue({ code: 'custom', path: ['quote'], message: 'must differ from the delimiter' });
    }
    for (const [name, char] of [
      ['delimiter', config.delimiter],
      ['quote', config.quote],
    ] as const) {
      if (config.nullString.includes(char)) {
        ctx.addIssue({ code: 'custom', path: ['nullString'], message: `must not contain the ${name}` });
      }
    }
    if (/[\r\n]/.test(config.nullString)) {
      ctx.addIssue({ code: 'custom', path: ['nullString'], message: 'must not contain a line break' });
    }
    const problem = config.columns && findNameProblem(config.columns.map((c) => c.name));
    if (problem?.kind === 'duplicate') {
      ctx.addIssue({
        code: 'custom',
        path: ['columns', problem.position - 1, 'name'],
        message: `"${problem.name}" is already the name of column ${problem.first} (names are compared on their first ${MAX_IDENTIFIER_BYTES} bytes)`,
      });
    }
  });

type Config = z.infer<typeof ConfigSchema>;

/** Where the bytes come from; `reopen` reads a file again to explain an error. */
interface Input {
  chunks: AsyncIterable<Uint8Array>;
  size?: number;
  reopen?: () => AsyncIterable<Uint8Array>;
  /** The file's absolute path, when it is a local file (which can be read in ranges). */
  file?: string;
}

interface PlannedColumn {
  name: string;
  sqlType: string;
  inferred?: InferredType;
}

interface TablePlan {
  columns: PlannedColumn[];
  sampleRows: number;
  notes: string[];
}

export const csvSource = defineNodeType({
  type: 'source.csv',
  kind: 'source',
  title: 'CSV file',
  description:
    'Loads a CSV file from the data directory or an http(s) URL; column types are declared or inferred.',
  icon: 'file-text',
  category: 'Files',
  lineage: (config, ctx) => ({
    reads: [{ ...fileDataset(config, ctx.project), ...columnsOf(config) }],
    columns: { from: 'read' },
  }),
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  async describe(ctx, config) {
    if (config.url !== undefined) {
      throw new StepError(
        'a download is read when the pipeline runs; its columns are known after a run',
        'config',
      );
    }
    const stop = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stop.signal]);
    let chunks: AsyncIterator<Buffer> | undefined;
    try {
      const input = await openFile(ctx, templateParams(config.path!, ctx.params, 'path'), signal);
      chunks = decode(
        countBytes(input.chunks, () => {}),
        config.encoding,
      )[Symbol.asyncIterator]();
      const plan = planTable(config, await readHead(chunks, config));
      return plan.columns.map((c) => ({ name: c.name, type: c.sqlType }));
    } finally {
      stop.abort();
      chunks?.return?.()?.catch(() => {});
    }
  },
  async run(ctx, config) {
    // Aborting `stop` ends the step's reads, whether it succeeded, failed or was cancelled.
    const stop = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stop.signal]);
    let input: Input | undefined;
    let chunks: AsyncIterator<Buffer> | undefined;
    let plan: TablePlan | undefined;
    let bytesRead = 0;
    let nextHeartbeat = HEARTBEAT_EVERY_BYTES;
    try {
      input =
        config.url !== undefined
          ? await openUrl(ctx, templateParams(config.url, ctx.params, 'url', encodeURIComponent), signal)
          : await openFile(ctx, templateParams(config.path!, ctx.params, 'path'), signal);
      const totalBytes = input.size;
      const counted = countBytes(input.chunks, (n) => {
        bytesRead += n;
        if (bytesRead >= nextHeartbeat) {
          nextHeartbeat = bytesRead + HEARTBEAT_EVERY_BYTES;
          ctx.heartbeat({ bytesRead, ...(totalBytes !== undefined ? { totalBytes } : {}) });
        }
      });
      const decoded = decode(counted, config.encoding)[Symbol.asyncIterator]();
      chunks = decoded;
      const head = await readHead(decoded, config);
      plan = planTable(config, head);
      const spares = head.ended ? [] : await borrowStreams(ctx, config, input);
      let rows: number;
      if (spares.length > 0) {
        // Parallel streams read the file in ranges of their own: the sequential read stops here.
        chunks = undefined;
        await decoded.return?.().catch(() => {});
        bytesRead = 0;
        nextHeartbeat = HEARTBEAT_EVERY_BYTES;
        rows = await loadRanges(ctx, plan, config, input.file!, totalBytes!, spares, signal, (n) => {
          bytesRead += n;
          if (bytesRead >= nextHeartbeat) {
            nextHeartbeat = bytesRead + HEARTBEAT_EVERY_BYTES;
            ctx.heartbeat({ bytesRead, totalBytes, streams: spares.length + 1 });
          }
        });
        // The ranges leave out a byte order mark; the step read the whole file.
        bytesRead = totalBytes!;
      } else {
        const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => decoded };
        rows = await load(ctx, plan, config, head.bytes, rest, signal);
      }
      return {
        table: ctx.outputTable,
        stats: { rowsIn: 0, rowsOut: rows, bytes: bytesRead },
        notes: plan.notes,
        // COPY's own count: a sink that consumes the table need not scan it to count again.
        tableRows: rows,
      };
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
      throw plan && input ? await explainLoadError(error, plan, config, input) : error;
    } finally {
      stop.abort();
      chunks?.return?.()?.catch(() => {});
    }
  },
});

async function openFile(
  ctx: Pick<StepContext, 'resolveDataPath'>,
  relative: string,
  signal: AbortSignal,
): Promise<Input> {
  const file = await ctx.resolveDataPath(relative, 'path');
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new StepError(`config.path: "${relative}" does not exist in the data directory`, 'not_found');
    if (error.code === 'EACCES') throw configError('path', `"${relative}" cannot be read: permission denied`);
    throw error;
  });
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw configError('path', `"${relative}" is not a file`);
  }
  return {
    chunks: handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES, signal }),
    size: stat.size,
    file,
    reopen: async function* () {
      const again = await open(file, 'r');
      yield* again.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
    },
  };
}

/** Downloads with the HTTP connectors' client: 5xx, 429 and network faults are retried in the step. */
async function openUrl(ctx: StepContext, url: string, signal: AbortSignal): Promise<Input> {
  const response = await fetchWithRetry(
    { url, method: 'GET', headers: { accept: 'text/csv, text/plain;q=0.9, */*;q=0.5' } },
    {
      fetch: ctx.fetch,
      signal,
      retry: DEFAULT_RETRY,
      timeoutMs: IDLE_TIMEOUT_MS,
      redact: (text) => text,
      onRetry: ({ reason, delayMs }) => ctx.log.warn('retrying download', { reason, delayMs }),
    },
    async (r) => r,
  );
  const length = Number(response.headers.get('content-length'));
  // A body-less answer (204) reads as an empty file.
  const body = (response.body as AsyncIterable<Uint8Array> | null) ?? (async function* () {})();
  return {
    chunks: idleLimited(
      body,
      IDLE_TIMEOUT_MS,
      `${displayUrl(url)} sent no data for ${IDLE_TIMEOUT_MS / 1000} s`,
    ),
    ...(length > 0 && !response.headers.get('content-encoding') ? { size: length } : {}),
  };
}

/** Fails with a TransientError when the next chunk takes longer than `ms` (a stalled download). */
export async function* idleLimited<T>(
  source: AsyncIterable<T>,
  ms: number,
  message: string,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TransientError(message)), ms);
      });
      try {
        const next = await Promise.race([iterator.next(), idle]);
        if (next.done) return;
        yield next.value;
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    // Not awaited: after a timeout a read is still pending, and it ends when the request is aborted.
    iterator.return?.()?.catch(() => {});
  }
}

async function* countBytes(
  chunks: AsyncIterable<Uint8Array>,
  onBytes: (n: number) => void,
): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    onBytes(chunk.byteLength);
    yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/** UTF-8 passes through untouched; other encodings are converted to UTF-8 chunk by chunk. */
function decode(chunks: AsyncIterable<Buffer>, encoding: Encoding): AsyncIterable<Buffer> {
  if (encoding === 'utf8') return chunks;
  return (async function* () {
    if (encoding === 'latin1') {
      // ISO-8859-1 maps each byte to the code point of the same number (TextDecoder would read it
      // as windows-1252, as browsers do); a single-byte encoding never splits a character.
      for await (const chunk of chunks) yield transcode(chunk, 'latin1', 'utf8');
      return;
    }
    // TextDecoder in streaming mode keeps a character split across two chunks, and drops a BOM.
    const decoder = new TextDecoder(encoding);
    for await (const chunk of chunks) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield Buffer.from(text, 'utf8');
    }
    const tail = decoder.decode();
    if (tail) yield Buffer.from(tail, 'utf8');
  })();
}

interface Head {
  /** The (UTF-8) bytes read so far, without a byte order mark; COPY gets them first. */
  bytes: Buffer;
  /** True when `bytes` is the whole file. */
  ended: boolean;
}

/** Reads until the header and SAMPLE_ROWS rows are in (or the file or SAMPLE_MAX_BYTES ends). */
async function readHead(chunks: AsyncIterator<Buffer>, config: Config): Promise<Head> {
  const parts: Buffer[] = [];
  let size = 0;
  let lines = 0;
  const wanted = SAMPLE_ROWS + (config.header ? 1 : 0);
  let ended = false;
  while (lines <= wanted && size < SAMPLE_MAX_BYTES) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    parts.push(next.value);
    size += next.value.length;
    for (let at = next.value.indexOf(10); at !== -1 && lines <= wanted; at = next.value.indexOf(10, at + 1))
      lines++;
  }
  let bytes = Buffer.concat(parts);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  else if (config.encoding === 'utf8' && bytes[0] === 0xff && bytes[1] === 0xfe) {
    throw dataError('the file starts with a UTF-16LE byte order mark; set "encoding" to utf-16le');
  }
  return { bytes, ended };
}

/** Column names and types, from the declaration or from the header and sample. */
function planTable(config: Config, head: Head): TablePlan {
  const dialect: CsvDialect = {
    delimiter: config.delimiter,
    quote: config.quote,
    nullString: config.nullString,
  };
  const parsed = parseHead(head.bytes.toString('utf8'), dialect, {
    final: head.ended,
    maxRecords: SAMPLE_ROWS + (config.header ? 1 : 0),
  });
  if (parsed.unterminatedQuoteLine !== undefined) {
    throw dataError(
      `line ${parsed.unterminatedQuoteLine}: unterminated CSV quoted field (the quote opened on this line is never closed)`,
    );
  }
  const header = config.header ? parsed.records[0] : undefined;
  const rows = parsed.records.slice(config.header ? 1 : 0).map((r) => r.fields);
  if (config.header && !header && !config.columns) {
    throw dataError(
      head.ended
        ? 'the file is empty: there is no header line to take column names from'
        : `line 1: the header line does not end within the first ${SAMPLE_MAX_BYTES >> 20} MiB; check the quote character`,
    );
  }
  const width = header?.fields.length ?? rows[0]?.length;

  if (config.columns) {
    if (width !== undefined && width !== config.columns.length) {
      throw configError(
        'columns',
        `${config.columns.length} column${config.columns.length === 1 ? ' is' : 's are'} declared, but ${config.header ? 'the header (line 1)' : 'line 1'} has ${width} field${width === 1 ? '' : 's'}`,
      );
    }
    return {
      columns: config.columns.map((c) => ({ name: truncateIdentifier(c.name), sqlType: SQL_TYPE[c.type] })),
      sampleRows: 0,
      notes: [],
    };
  }

  if (width === undefined) {
    throw dataError('the file is empty: there are no columns to infer; declare "columns" to load it');
  }
  let names: string[];
  if (header) {
    const problem = findNameProblem(header.fields);
    if (problem?.kind === 'empty') {
      throw dataError(
        `line 1: column ${problem.position} of the header has no name; name it in the file, or declare "columns"`,
      );
    }
    if (problem?.kind === 'duplicate') {
      throw dataError(
        `line 1: columns ${problem.first} and ${problem.position} of the header are both named "${problem.name}"; rename one in the file, or declare "columns"`,
      );
    }
    names = header.fields as string[];
  } else {
    names = Array.from({ length: width }, (_, i) => `column_${i + 1}`);
  }
  const notes: string[] = [];
  const truncated = names.filter((n) => truncateIdentifier(n) !== n);
  if (truncated.length > 0) {
    notes.push(
      `${truncated.length} column name${truncated.length === 1 ? ' was' : 's were'} cut to Postgres's ${MAX_IDENTIFIER_BYTES}-byte limit`,
    );
  }
  const types = inferTypes(rows, width);
  const columns = names.map((name, i) => ({
    name: truncateIdentifier(name),
    sqlType: SQL_TYPE[types[i]!],
    inferred: types[i]!,
  }));
  const listed = columns.slice(0, 50).map((c) => `${c.name} ${c.sqlType}`);
  if (columns.length > listed.length) listed.push(`and ${columns.length - listed.length} more`);
  notes.push(
    `column types inferred from ${rows.length} row${rows.length === 1 ? '' : 's'}: ${listed.join(', ')}`,
  );
  return { columns, sampleRows: rows.length, notes };
}

/**
 * Creates the output table and COPYs the whole file into it, in one transaction. FREEZE (allowed
 * because the table is created in the same transaction) writes the rows already frozen, with their
 * hint bits set: the first reader (a count, the sink's move, a vacuum) does not dirty every page again.
 */
async function load(
  ctx: StepContext,
  plan: TablePlan,
  config: Config,
  head: Buffer,
  rest: AsyncIterable<Buffer>,
  signal: AbortSignal,
): Promise<number> {
  const table = quoteTable(ctx.outputTable);
  const options = copyOptions(config, { header: config.header, freeze: true });
  // A connection that failed mid-COPY is closed rather than reused; the server rolls back.
  return withTransaction(
    ctx.warehouse,
    async (client) => {
      // Timestamps without an offset in a timestamptz column are read as UTC, whatever the server's zone.
      await client.query(`set local timezone to 'UTC'`);
      await client.query(createTable(ctx, plan));
      const copy = client.query(copyFrom(`copy ${table} from stdin with (${options})`));
      copy.on('error', () => {}); // the pipeline reports it; this only keeps a late one from crashing
      await pipeline(
        async function* () {
          if (head.length > 0) yield head;
          yield* rest;
        },
        copy,
        { signal },
      );
      return copy.rowCount;
    },
    { discardOnError: true },
  );
}

function copyOptions(config: Config, { header, freeze }: { header: boolean; freeze: boolean }): string {
  return [
    'format csv',
    `header ${header}`,
    `delimiter ${pg.escapeLiteral(config.delimiter)}`,
    `quote ${pg.escapeLiteral(config.quote)}`,
    `null ${pg.escapeLiteral(config.nullString)}`,
    ...(freeze ? ['freeze true'] : []),
  ].join(', ');
}

function createTable(ctx: StepContext, plan: TablePlan): string {
  const definitions = plan.columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}`).join(', ');
  return `create table ${quoteTable(ctx.outputTable)} (${definitions})`;
}

/** Encodings in which a line break and the quote are always their own byte, never part of a character. */
const SPLITTABLE_ENCODINGS: readonly Encoding[] = ['utf8', 'latin1', 'windows-1252'];

/**
 * The extra connections of a parallel load (TRIBUTARY_COPY_STREAMS), or none: only for a local file
 * of at least the operator's size in an encoding that can be split by bytes, and only the spare
 * connections free right now (a step never waits for one; with none, it loads in one stream).
 */
async function borrowStreams(ctx: StepContext, config: Config, input: Input): Promise<pg.PoolClient[]> {
  const setting = ctx.copyStreams;
  if (!setting || setting.streams < 2 || input.file === undefined || input.size === undefined) return [];
  if (input.size < setting.minBytes || !SPLITTABLE_ENCODINGS.includes(config.encoding)) return [];
  const spares: pg.PoolClient[] = [];
  while (spares.length < setting.streams - 1) {
    const client = await ctx.warehouse.trySpare();
    if (!client) break;
    spares.push(client);
  }
  return spares;
}

/**
 * A parallel load: the table is created and committed empty, then each stream COPYs one range of the
 * file (cut on record boundaries) in its own transaction on its own connection. The streams' rows
 * cannot be frozen (FREEZE needs the table created in the same transaction, and the streams need it
 * committed to see it), and a failed load cannot be rolled back as one: so on any failure the
 * table is dropped here, and a retried attempt drops whatever a killed worker left (the executor).
 */
async function loadRanges(
  ctx: StepContext,
  plan: TablePlan,
  config: Config,
  file: string,
  size: number,
  spares: pg.PoolClient[],
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<number> {
  const table = quoteTable(ctx.outputTable);
  const clients = [...spares];
  let handle: FileHandle | undefined;
  let created = false;
  let loaded = false;
  try {
    handle = await open(file, 'r');
    const bom = Buffer.alloc(3);
    await handle.read(bom, 0, 3, 0);
    const start = config.encoding === 'utf8' && bom.equals(Buffer.from([0xef, 0xbb, 0xbf])) ? 3 : 0;
    const ranges = await splitOnRecords(handle, {
      start,
      size,
      parts: spares.length + 1,
      quote: config.quote,
    });
    clients.unshift(await ctx.warehouse.connect());
    // A file with fewer record boundaries than streams gives its spare connections back at once.
    for (const client of clients.splice(ranges.length)) client.release();
    await inTransaction(clients[0]!, (client) => client.query(createTable(ctx, plan)));
    created = true;
    const stop = new AbortController();
    const streamSignal = AbortSignal.any([signal, stop.signal]);
    const results = await Promise.allSettled(
      ranges.map((range, i) =>
        copyRange(clients[i]!, table, config, file, range, i === 0, streamSignal, onBytes).catch(
          (error: unknown) => {
            stop.abort();
            throw error;
          },
        ),
      ),
    );
    const failed = results.findIndex((r) => r.status === 'rejected' && !isAbort(r.reason));
    const first = failed !== -1 ? failed : results.findIndex((r) => r.status === 'rejected');
    if (first !== -1) {
      const reason: unknown = (results[first] as PromiseRejectedResult).reason;
      throw await inFileLines(reason, handle, ranges[first]!);
    }
    loaded = true;
    return results.reduce((sum, r) => sum + (r as PromiseFulfilledResult<number>).value, 0);
  } finally {
    // A connection that failed mid-COPY is closed (the server rolls its transaction back).
    for (const client of clients) client.release(!loaded);
    await handle?.close().catch(() => {});
    if (created && !loaded) {
      await ctx.warehouse.query(`drop table if exists ${table}`).catch((error: unknown) => {
        ctx.log.warn('could not drop the table of a failed parallel load', { error: String(error) });
      });
    }
  }
}

async function copyRange(
  client: pg.PoolClient,
  table: string,
  config: Config,
  file: string,
  range: ByteRange,
  first: boolean,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<number> {
  // The header is the first range's first line; the other ranges start on a record.
  const options = copyOptions(config, { header: first && config.header, freeze: false });
  await client.query('begin');
  // Timestamps without an offset in a timestamptz column are read as UTC, whatever the server's zone.
  await client.query(`set local timezone to 'UTC'`);
  const copy = client.query(copyFrom(`copy ${table} from stdin with (${options})`));
  copy.on('error', () => {}); // the pipeline reports it; this only keeps a late one from crashing
  const bytes = createReadStream(file, {
    start: range.start,
    end: range.end - 1,
    highWaterMark: READ_CHUNK_BYTES,
  });
  await pipeline(decode(countBytes(bytes, onBytes), config.encoding), copy, { signal });
  await client.query('commit');
  return copy.rowCount;
}

const isAbort = (error: unknown) => error instanceof Error && error.name === 'AbortError';

/** COPY numbers a stream's lines from its first; the file's line is that plus the lines before the range. */
async function inFileLines(error: unknown, handle: FileHandle, range: ByteRange): Promise<unknown> {
  if (!isPgError(error) || !error.where || range.start === 0) return error;
  const before = await countLines(handle, range.start);
  error.where = error.where.replace(
    /^(COPY [^,\n]+, line )(\d+)/,
    (_, prefix: string, line: string) => `${prefix}${Number(line) + before}`,
  );
  return error;
}

/** Names the file line (and column) of an error Postgres raised while reading the file. */
async function explainLoadError(
  error: unknown,
  plan: TablePlan,
  config: Config,
  input: Input,
): Promise<unknown> {
  const location = locateCopyError(
    error,
    plan.columns.map((c) => c.name),
  );
  if (!location) return error;
  let message = formatCopyError(location);
  if (location.code === '22P04' && location.message.startsWith('unterminated CSV quoted field')) {
    // Postgres reports it at the end of the file; the line to look at is where the quote opened.
    const opened = input.reopen
      ? await findUnterminatedQuote(
          decode(
            countBytes(input.reopen(), () => {}),
            config.encoding,
          ),
          config.quote,
        ).catch(() => undefined)
      : undefined;
    message = opened
      ? `line ${opened}: unterminated CSV quoted field (the quote opened on this line is never closed)`
      : `${message} (a quoted field runs to the end of the file)`;
  }
  const column = plan.columns.find((c) => c.name === location.column);
  if (column?.inferred && VALUE_ERROR_CODES.has(location.code)) {
    message += ` (the type ${column.sqlType} was inferred from the first ${plan.sampleRows} rows; declare "columns" to choose another)`;
  }
  if (location.code === '22021' && config.encoding === 'utf8') {
    message +=
      ' (the file is not UTF-8; set "encoding" to the one it was written in, e.g. latin1 or windows-1252)';
  }
  return dataError(message);
}
