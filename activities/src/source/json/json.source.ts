// source.json: a JSON array, a document with the records at a nested path, or NDJSON, read from
// the data dir or a URL and streamed into the step's table (never parsed whole into memory).
import { open } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { StringDecoder } from 'node:string_decoder';
import parser from 'stream-json/parser.js';
import pick from 'stream-json/filters/pick.js';
import streamArray from 'stream-json/streamers/stream-array.js';
import verifyFile from 'stream-json/file/verifier.js';
import { z } from 'zod';
import { dataError, StepError } from '../../errors.js';
import { fileDataset, columnsOf, defineNodeType, type StepContext } from '../../node-type.js';
import { DEFAULT_RETRY, displayUrl, fetchWithRetry, getPath, templateParams } from '../http/http-client.js';
import { loadRecords, sampleColumns, tableBytes } from './records-loader.js';

const ConfigSchema = z
  .object({
    path: z
      .string()
      .min(1)
      .optional()
      .describe('File inside the data directory; may use {{ params.x }}. Set this or url.')
      .meta({ 'x-widget': 'path' }),
    url: z
      .string()
      .min(1)
      .optional()
      .describe('http(s) URL to download the file from; may use {{ params.x }}. Set this or path.'),
    format: z
      .enum(['auto', 'array', 'ndjson'])
      .default('auto')
      .describe('auto: "[" starts an array; "{" starts NDJSON, or one document when recordsPath is set'),
    recordsPath: z
      .string()
      .regex(/^([^.]+(\.[^.]+)*)?$/, 'must be a dotted path such as data.items')
      .default('')
      .describe('Dotted path to the array of records inside the document (e.g. data.items)'),
    flatten: z
      .boolean()
      .default(false)
      .describe('Nested objects become parent_child columns instead of one jsonb column'),
  })
  .superRefine((config, issues) => {
    if (!config.path === !config.url) {
      issues.addIssue({ code: 'custom', path: ['path'], message: 'set exactly one of path or url' });
    }
    if (config.url && !config.url.includes('{{') && !/^https?:\/\/[^/]/i.test(config.url)) {
      issues.addIssue({ code: 'custom', path: ['url'], message: 'must be an http:// or https:// URL' });
    }
  });

type Config = z.infer<typeof ConfigSchema>;

/** Longest NDJSON line accepted; a longer one is almost surely not NDJSON at all. */
const MAX_LINE_CHARS = 64 * 1024 * 1024;

interface Input {
  bytes: AsyncIterable<Buffer>;
  /** For messages: the file or URL as the user may see it. */
  label: string;
  /** Set for files: invalid JSON is located exactly by re-reading it. */
  file?: string;
  /** Bytes handed to the parser so far, for the position of an error in a download. */
  consumed: () => number;
}

export const jsonSource = defineNodeType({
  type: 'source.json',
  kind: 'source',
  title: 'JSON file',
  description:
    'Reads a JSON array, a nested array inside a document (recordsPath) or NDJSON, from the data directory or a URL.',
  icon: 'braces',
  category: 'Files',
  lineage: (config, ctx) => ({
    reads: [{ ...fileDataset(config, ctx.project), ...columnsOf(config) }],
    columns: { from: 'read' },
  }),
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  async describe(ctx, config) {
    if (!config.path) {
      throw new StepError(
        'a download is read when the pipeline runs; its columns are known after a run',
        'config',
      );
    }
    const input = await openFile(ctx, config.path, ctx.params, () => 0);
    const { first, bytes } = await peekFirstChar(input.bytes);
    const records =
      decideFormat(config, first) === 'ndjson'
        ? ndjsonRecords(bytes, config, input, config.format === 'auto')
        : arrayRecords(bytes, config, input);
    const columns = await sampleColumns(records, { flatten: config.flatten });
    return columns.map((c) => ({ name: c.name, type: c.type }));
  },
  async run(ctx, config) {
    const input = await openInput(ctx, config);
    const { first, bytes } = await peekFirstChar(input.bytes);
    const format = decideFormat(config, first);
    const records =
      format === 'ndjson'
        ? ndjsonRecords(bytes, config, input, config.format === 'auto')
        : arrayRecords(bytes, config, input);
    const result = await loadRecords(ctx.warehouse, ctx.outputTable, records, {
      flatten: config.flatten,
      signal: ctx.signal,
      onProgress: (rows) => ctx.heartbeat({ rows }),
    });
    return {
      table: ctx.outputTable,
      stats: { rowsIn: 0, rowsOut: result.rows, bytes: await tableBytes(ctx.warehouse, ctx.outputTable) },
      notes: result.notes,
    };
  },
});

async function openInput(ctx: StepContext, config: Config): Promise<Input> {
  let consumed = 0;
  const counted = async function* (source: AsyncIterable<Buffer | Uint8Array>) {
    for await (const chunk of source) {
      consumed += chunk.length;
      yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  };
  if (config.path) {
    const input = await openFile(ctx, config.path, ctx.params, () => consumed);
    return { ...input, bytes: counted(input.bytes) };
  }
  const url = templateParams(config.url!, ctx.params, 'url', encodeURIComponent);
  const response = await fetchWithRetry(
    { url, method: 'GET', headers: { accept: 'application/json, application/x-ndjson, */*;q=0.5' } },
    {
      fetch: ctx.fetch,
      signal: ctx.signal,
      retry: DEFAULT_RETRY,
      timeoutMs: 60_000,
      redact: (text) => text,
      onRetry: ({ reason, delayMs }) => ctx.log.warn('retrying download', { reason, delayMs }),
    },
    async (r) => r,
  );
  if (!response.body)
    return { bytes: counted(Readable.from([])), label: displayUrl(url), consumed: () => consumed };
  const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  return { bytes: counted(body), label: displayUrl(url), consumed: () => consumed };
}

async function openFile(
  ctx: Pick<StepContext, 'resolveDataPath'>,
  path: string,
  params: Record<string, unknown>,
  consumed: () => number,
): Promise<Input> {
  const relative = templateParams(path, params, 'path');
  const file = await ctx.resolveDataPath(relative, 'path');
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new StepError(`config.path: "${relative}" does not exist in the data directory`, 'not_found');
    }
    if (error.code === 'EISDIR') throw new StepError(`config.path: "${relative}" is a directory`, 'config');
    throw error;
  });
  const stream = handle.createReadStream({ highWaterMark: 256 * 1024 });
  return { bytes: stream, label: relative, file, consumed };
}

/** The first non-whitespace character (after a BOM), and the bytes, none of them lost. */
async function peekFirstChar(
  source: AsyncIterable<Buffer>,
): Promise<{ first: string | undefined; bytes: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  const peeked: Buffer[] = [];
  let first: string | undefined;
  while (first === undefined) {
    const next = await iterator.next();
    if (next.done) break;
    peeked.push(next.value);
    const text = next.value.toString('latin1').replace(/^\u00ef\u00bb\u00bf/, '');
    const match = /[^\s]/.exec(text);
    if (match) first = match[0];
  }
  async function* replay() {
    try {
      yield* peeked;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  return { first, bytes: replay() };
}

function decideFormat(config: Config, first: string | undefined): 'array' | 'ndjson' {
  if (config.format !== 'auto') return config.format;
  if (first === '[') return 'array';
  if (first === '{' && config.recordsPath) return 'array';
  return 'ndjson';
}

/** One document: the top-level array, or the array at recordsPath, one element at a time. */
async function* arrayRecords(bytes: AsyncIterable<Buffer>, config: Config, input: Input) {
  const picker = config.recordsPath ? pick.asStream({ filter: config.recordsPath, once: true }) : undefined;
  let found = !picker;
  picker?.once('data', () => {
    found = true;
  });
  const stages = [
    Readable.from(bytes),
    parser.asStream(),
    ...(picker ? [picker] : []),
    streamArray.asStream(),
  ];
  // node:stream's typings cannot express a variable-length pipeline; the stages are all streams.
  const items = (pipeline as unknown as (...args: unknown[]) => Readable)(...stages, () => {});
  const where = config.recordsPath ? `at recordsPath "${config.recordsPath}"` : 'at the top level';
  try {
    for await (const item of items as AsyncIterable<{ value: unknown }>) yield item.value;
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    if (/should be an array/i.test(message)) {
      throw dataError(
        `${input.label}: expected an array ${where}, but found another kind of value` +
          (config.recordsPath ? '' : '; for one object per line set format to "ndjson"'),
      );
    }
    if (/^(Parser|Verifier)/.test(message)) throw await invalidJson(input, message);
    throw error;
  }
  if (!found) {
    throw dataError(`${input.label}: recordsPath "${config.recordsPath}" matches nothing in the document`);
  }
}

/** Names where a document stops being JSON: exactly for a file, approximately for a download. */
async function invalidJson(input: Input, parserMessage: string): Promise<StepError> {
  const reason = parserMessage.replace(/^Parser (cannot parse input|has expected)[: ]*/, '');
  if (input.file) {
    try {
      await verifyFile(input.file);
    } catch (error) {
      const e = error as { line?: number; pos?: number; offset?: number; message?: string };
      if (typeof e.line === 'number') {
        const why = (e.message ?? '').replace(/^.*Verifier (cannot parse input|has expected)[: ]*/, '');
        return dataError(
          `${input.label}: invalid JSON at line ${e.line}, column ${e.pos} (byte ${e.offset}): ${why || reason}`,
        );
      }
    }
  }
  return dataError(`${input.label}: invalid JSON within the first ${input.consumed()} bytes: ${reason}`);
}

/** NDJSON: one value per line, blank lines skipped; an error names its line. */
async function* ndjsonRecords(bytes: AsyncIterable<Buffer>, config: Config, input: Input, guessed: boolean) {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let line = 0;
  const parseLine = (text: string): unknown[] => {
    line += 1;
    const trimmed = (line === 1 ? text.replace(/^\uFEFF/, '') : text).trim();
    if (!trimmed) return [];
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw dataError(
        `${input.label}: invalid JSON on line ${line}: ${(error as Error).message}` +
          (guessed && line === 1
            ? ' (format "auto" read this as NDJSON, one value per line; if it is one JSON document, set recordsPath to the array in it)'
            : ''),
      );
    }
    if (!config.recordsPath) return [value];
    const picked = getPath(value, config.recordsPath);
    if (picked === undefined || picked === null) return [];
    return Array.isArray(picked) ? picked : [picked];
  };
  for await (const chunk of bytes) {
    pending += decoder.write(chunk);
    let start = 0;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
      yield* parseLine(pending.slice(start, nl));
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      throw dataError(
        `${input.label}: line ${line + 1} is longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB; NDJSON has one record per line` +
          (guessed ? ' (format "auto" read this as NDJSON because it starts with "{")' : ''),
      );
    }
  }
  pending += decoder.end();
  if (pending.trim()) yield* parseLine(pending);
}
