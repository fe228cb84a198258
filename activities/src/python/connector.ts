// What source.airbyte and source.singer share: a connector is a process in the Python sandbox that
// speaks JSON lines on stdout. Here: the config fields both declare alike (the picked streams
// among them), the datasets a connector node reads (for lineage), one JSON message a line, running
// a connector command line by line, one table per picked stream, and the step result of a read
// (its STATE handed back to be stored only when the run succeeds).
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { configString, type NodeLineage, type StepContext, type TableRef } from '../node-type.js';
import { streamTableName } from '../placeholders.js';
import { tableStats } from '../sql.js';
import { LimitsSchema } from '../transform/python/python.transform.js';
import type { Attempt, RunOptions } from './python-runtime.js';
import { StreamTableWriter, streamColumns, writeStreamManifest } from './stream-table.js';

type SyncMode = 'full_refresh' | 'incremental';

/** Config fields every Python connector node has, with the same meaning. */
export const connectorFields = {
  secrets: z
    .record(z.string(), z.string().min(1))
    .default({})
    .describe('Secret fields of the config (dotted path) → the name of the project secret that fills it'),
  stream: z
    .string()
    .min(1)
    .optional()
    .describe('The one stream to read into the node\'s table (or pick several in "streams")'),
  syncMode: z
    .enum(['full_refresh', 'incremental'])
    .default('full_refresh')
    .describe('incremental: each run reads only what is new since the last successful run'),
  network: z
    .boolean()
    .default(false)
    .describe('Let the connector reach its service over HTTP(S), through the egress fence'),
  limits: LimitsSchema.prefault({}),
};

/** What every picked stream says: its name and, when it differs from the node's, its sync mode. */
export const pickedStreamFields = {
  name: z.string().min(1).describe('The stream (one of those discover lists)'),
  syncMode: z.enum(['full_refresh', 'incremental']).optional(),
};

/** `streams` of a connector node: the picked streams, each into a table of its own. */
export const streamsField = <T extends z.ZodType>(picked: T) =>
  z
    .array(picked)
    .min(1)
    .max(200)
    .optional()
    .describe('Streams to read, each into a table of its own: {{ inputs.<node>.<stream> }} downstream');

/** One of `stream` and `streams`, and no stream picked twice. */
export function refineStreams(
  config: { stream?: string | undefined; streams?: { name: string }[] | undefined },
  ctx: z.RefinementCtx,
): void {
  if (!config.stream && !config.streams)
    ctx.addIssue({ code: 'custom', path: ['streams'], message: 'pick at least one stream' });
  if (config.stream && config.streams)
    ctx.addIssue({ code: 'custom', path: ['stream'], message: 'give "stream" or "streams", not both' });
  const names = (config.streams ?? []).map((p) => p.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice)
    ctx.addIssue({ code: 'custom', path: ['streams'], message: `stream "${twice}" is picked twice` });
}

/** A picked stream with its sync mode settled, and the config path its errors name. */
export type Picked<P> = P & { name: string; syncMode: SyncMode; field: string };

/**
 * The streams a config picks, each with its sync mode (the node's when it sets none) and the path of
 * its fields in the config (`streams.<i>`, or the node's own fields for the one-stream `stream`).
 */
export function pickedStreams<P extends { name: string; syncMode?: SyncMode | undefined }>(
  config: { stream?: string | undefined; streams?: P[] | undefined; syncMode: SyncMode },
  single: Omit<P, 'name' | 'syncMode'>,
): Picked<P>[] {
  if (config.streams)
    return config.streams.map((p, i) => ({
      ...p,
      syncMode: p.syncMode ?? config.syncMode,
      field: `streams.${i}`,
    }));
  return [{ ...single, name: config.stream!, syncMode: config.syncMode, field: '' } as Picked<P>];
}

/** The config path of a picked stream's own field: `streams.0.syncMode`, or the node's `syncMode`. */
export const pickedField = (p: { field: string }, name: string) => (p.field ? `${p.field}.${name}` : name);

/** The stream names a config as written picks (for lineage and the compiler), if it is readable. */
export function configStreams(config: Record<string, unknown>): string[] {
  if (Array.isArray(config.streams))
    return config.streams.flatMap((p) =>
      typeof (p as { name?: unknown })?.name === 'string' ? [(p as { name: string }).name] : [],
    );
  return typeof config.stream === 'string' ? [config.stream] : [];
}

/** The streams a node reads into tables of their own (its declaration's `streams`): only with `streams`. */
export const declaredStreams = (config: Record<string, unknown>) =>
  Array.isArray(config.streams) ? configStreams(config) : undefined;

/** Each stream a connector node reads, as a dataset of its own: `<ecosystem>:<package>/<stream>`. */
export function connectorLineage(
  ecosystem: 'airbyte' | 'singer',
): (config: Record<string, unknown>) => NodeLineage {
  return (config) => {
    const pkg = (configString(config, 'package') ?? '?').split('==')[0]!.trim();
    const streams = configStreams(config);
    return {
      reads: (streams.length ? streams : ['?']).map((stream) => ({
        kind: 'external' as const,
        name: `${ecosystem}:${pkg}/${stream}`,
      })),
      columns: { from: 'read' },
    };
  };
}

/** A line of stdout as a message (`{"type": …}`); connectors also print plain text, which is not one. */
export function parseJsonLine<T extends { type: string }>(line: string): T | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const message = JSON.parse(line) as T;
    return typeof message?.type === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a connector command in the attempt's sandbox and hands each line of its stdout to
 * `onLine` (awaited, so a full COPY stream slows the reading); resolves when the process ended
 * well, and throws its classified error otherwise.
 */
export async function runConnector(
  attempt: Attempt,
  options: Omit<RunOptions, 'argv'> & { command: string[] },
  onLine: (line: string) => Promise<void> | void,
  onStderrLine?: (line: string) => void,
): Promise<void> {
  const { command, ...rest } = options;
  const { process: child, finished } = await attempt.run({
    failWhenOffline: true,
    ...rest,
    argv: ['/env/bin/python', '/opt/tributary/launcher.py', ...command],
  });
  if (onStderrLine) child.onStderrLine(onStderrLine);
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    const pending = onLine(line);
    if (pending) await pending;
  }
  await finished;
}

/**
 * The table of each picked stream: the node's own one when it reads one `stream`; with `streams`, a
 * table each beside it (`<node>__<stream>`), which `{{ inputs.<node>.<stream> }}` names downstream.
 */
export function streamTables(
  outputTable: TableRef,
  names: string[],
  several: boolean,
): Map<string, TableRef> {
  return new Map(
    names.map((name) => [
      name,
      several ? { schema: outputTable.schema, table: streamTableName(outputTable.table, name) } : outputTable,
    ]),
  );
}

/**
 * The picked streams' tables being written, one COPY transaction each, all committed only once the
 * connector ended well (`commit`), all rolled back otherwise (`abort`). A stream's table opens with
 * the schema it is given first (Singer's SCHEMA message, Airbyte's catalog); one that never got a
 * record opens at commit with its catalog schema, so each picked stream has its (maybe empty) table.
 */
export class StreamWriters {
  private readonly writers = new Map<string, StreamTableWriter>();

  constructor(
    private readonly warehouse: StepContext['warehouse'],
    private readonly tables: Map<string, TableRef>,
  ) {}

  /** Whether the node reads this stream. */
  reads(stream: string): boolean {
    return this.tables.has(stream);
  }

  isOpen(stream: string): boolean {
    return this.writers.has(stream);
  }

  async open(stream: string, schema: unknown): Promise<void> {
    if (this.writers.has(stream)) return;
    const writer = new StreamTableWriter(this.warehouse, this.tables.get(stream)!, streamColumns(schema));
    this.writers.set(stream, writer);
    await writer.open();
  }

  /** Adds a record of an open stream; resolves at once, or once its COPY drained when full. */
  write(stream: string, record: Record<string, unknown>): Promise<void> | undefined {
    return this.writers.get(stream)!.write(record);
  }

  /** Records so far, per stream (for heartbeats). */
  records(): Record<string, number> {
    return Object.fromEntries([...this.tables.keys()].map((s) => [s, this.writers.get(s)?.rows ?? 0]));
  }

  /** Opens what never opened (with its catalog schema), then commits each stream's table. */
  async commit(schemas: Map<string, unknown>): Promise<Map<string, number>> {
    for (const stream of this.tables.keys())
      if (!this.writers.has(stream)) await this.open(stream, schemas.get(stream));
    const rows = new Map<string, number>();
    for (const [stream, writer] of this.writers) rows.set(stream, await writer.commit());
    return rows;
  }

  /** Abandons every COPY: the server rolls each back. */
  abort(): void {
    for (const writer of this.writers.values()) writer.abort();
  }
}

/**
 * A read's step result: with several streams the node's own table lists them (stream, table_name,
 * rows, sync_mode); the rows, notes, and (when any stream is incremental) the state to store, which
 * the run stores only if it succeeds.
 */
export async function streamsReadResult(
  ctx: Pick<StepContext, 'outputTable' | 'warehouse'>,
  read: {
    picked: { name: string; syncMode: SyncMode; fromState: boolean }[];
    tables: Map<string, TableRef>;
    rows: Map<string, number>;
    several: boolean;
    pendingState: unknown;
  },
) {
  const { picked, tables, rows, several } = read;
  const total = [...rows.values()].reduce((a, b) => a + b, 0);
  let rowsOut: number;
  let bytes = 0;
  if (several) {
    await writeStreamManifest(
      ctx,
      picked.map((p) => ({
        stream: p.name,
        table: tables.get(p.name)!.table,
        rows: rows.get(p.name) ?? 0,
        syncMode: p.syncMode,
      })),
    );
    rowsOut = total;
    for (const table of tables.values()) bytes += (await tableStats(ctx.warehouse, table)).bytes;
  } else {
    const stats = await tableStats(ctx.warehouse, ctx.outputTable);
    rowsOut = stats.rows;
    bytes = stats.bytes;
  }
  return {
    table: ctx.outputTable,
    stats: { rowsIn: total, rowsOut, bytes },
    ...(read.pendingState !== undefined ? { pendingState: read.pendingState } : {}),
    notes: picked.map(
      (p) =>
        `${rows.get(p.name) ?? 0} records of stream ${p.name} (${p.syncMode}${p.fromState ? ', from the stored state' : ''})`,
    ),
  };
}
