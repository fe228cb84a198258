// source.airbyte: any Airbyte source published on PyPI (airbyte-source-*), by package and version,
// run without Docker in the Python sandbox. Its spec decides which config fields are secrets
// (airbyte_secret: they must name project secrets), discover gives the stream's schema and so the
// table's columns (nested values as jsonb), and read streams the RECORDs of the picked stream into
// the step's table with COPY. STATE is kept like our own incremental cursors: per node, per stream
// and per branch, committed only when the whole run succeeds.
import { readdir, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { z } from 'zod';
import { configError, StepError } from '../../errors.js';
import { configString, defineNodeType, type StepContext, type TableRef } from '../../node-type.js';
import type { PythonEnvironment } from '../../python/environment.js';
import { nodeConnectorConfig } from '../../python/connector-probe.js';
import { prepareEnvironment, withAttempt, type Attempt } from '../../python/python-runtime.js';
import { parseRequirements } from '../../python/requirements.js';
import { StreamTableWriter, streamColumns, writeStreamManifest } from '../../python/stream-table.js';
import { streamTableName } from '../../placeholders.js';
import { tableStats } from '../../sql.js';
import { LimitsSchema } from '../../transform/python/python.transform.js';
import { connectorConfig } from '../../python/config-paths.js';
import { requireFitsSpec } from '../../python/spec-check.js';
import {
  parseMessage,
  secretPaths,
  traceError,
  type AirbyteMessage,
  type AirbyteStream,
} from './airbyte-protocol.js';

export const PickedStreamSchema = z.strictObject({
  name: z.string().min(1).describe('The stream (one of those discover lists)'),
  syncMode: z.enum(['full_refresh', 'incremental']).optional(),
  cursorField: z.array(z.string()).optional(),
});

const ConfigSchema = z
  .object({
    package: z
      .string()
      .regex(/^airbyte-source-[a-z0-9-]+\s*==\s*[A-Za-z0-9.+!_-]+$/, 'write airbyte-source-<name>==<version>')
      .describe('The Airbyte source on PyPI, pinned: airbyte-source-faker==6.2.32'),
    requirements: z
      .array(z.string())
      .max(50)
      .default([])
      .describe('Further pinned packages installed beside it (rarely needed)'),
    config: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("The connector's configuration, as its spec describes it, without the secret fields"),
    secrets: z
      .record(z.string(), z.string().min(1))
      .default({})
      .describe('Secret fields of the spec (dotted path) → the name of the project secret that fills it'),
    stream: z
      .string()
      .min(1)
      .optional()
      .describe('The one stream to read into the node\'s table (or pick several in "streams")'),
    streams: z
      .array(PickedStreamSchema)
      .min(1)
      .max(200)
      .optional()
      .describe('Streams to read, each into a table of its own: {{ inputs.<node>.<stream> }} downstream'),
    syncMode: z
      .enum(['full_refresh', 'incremental'])
      .default('full_refresh')
      .describe('incremental: each run reads only what is new since the last successful run'),
    cursorField: z
      .array(z.string())
      .optional()
      .describe('The cursor of an incremental stream, when the source does not define one'),
    network: z
      .boolean()
      .default(false)
      .describe('Let the connector reach its service over HTTP(S), through the egress fence'),
    limits: LimitsSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    if (!config.stream && !config.streams)
      ctx.addIssue({ code: 'custom', path: ['streams'], message: 'pick at least one stream' });
    if (config.stream && config.streams)
      ctx.addIssue({ code: 'custom', path: ['stream'], message: 'give "stream" or "streams", not both' });
    const names = (config.streams ?? []).map((p) => p.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice)
      ctx.addIssue({ code: 'custom', path: ['streams'], message: `stream "${twice}" is picked twice` });
  });

type Config = z.infer<typeof ConfigSchema>;
type Picked = { name: string; syncMode: 'full_refresh' | 'incremental'; cursorField?: string[] | undefined };

/** The streams a config picks, each with its sync mode (the node's when it sets none). */
function pickedStreams(config: Config): Picked[] {
  if (config.streams)
    return config.streams.map((p) => ({
      name: p.name,
      syncMode: p.syncMode ?? config.syncMode,
      cursorField: p.cursorField,
    }));
  return [{ name: config.stream!, syncMode: config.syncMode, cursorField: config.cursorField }];
}

/** The stream names a config as written picks (for lineage and the compiler), if it is readable. */
export function configStreams(config: Record<string, unknown>): string[] {
  if (Array.isArray(config.streams))
    return config.streams.flatMap((p) =>
      typeof (p as { name?: unknown })?.name === 'string' ? [(p as { name: string }).name] : [],
    );
  return typeof config.stream === 'string' ? [config.stream] : [];
}

/** The stored state of a source.airbyte node: each stream's last committed STATE. */
export interface AirbyteNodeState {
  streams: Record<string, unknown>;
}

/** The connector's command in its environment: `airbyte-source-faker` installs `source-faker`. */
export async function connectorCommand(env: PythonEnvironment, pkg: string): Promise<string> {
  const name = pkg
    .split('==')[0]!
    .trim()
    .replace(/^airbyte-/, '');
  const commands = await readdir(path.join(env.dir, 'bin'));
  if (commands.includes(name)) return `/env/bin/${name}`;
  const candidates = commands.filter((c) => c.startsWith('source-'));
  if (candidates.length === 1) return `/env/bin/${candidates[0]}`;
  throw configError(
    'package',
    `${pkg} installs no command ${name} (found: ${candidates.join(', ') || 'none'})`,
  );
}

/** Runs one connector command to its end and returns its messages (spec, check, discover). */
export async function collect(
  attempt: Attempt,
  env: PythonEnvironment,
  argv: string[],
  config: Pick<Config, 'network' | 'limits'>,
  what: string,
): Promise<AirbyteMessage[]> {
  const messages: AirbyteMessage[] = [];
  let error: AirbyteMessage['trace'] | undefined;
  const { process: child, finished } = await attempt.run({
    argv: ['/env/bin/python', '/opt/tributary/launcher.py', ...argv],
    env,
    network: config.network,
    failWhenOffline: true,
    limits: config.limits,
    what,
    explain: () => (error?.error ? traceError(error.error, what) : undefined),
  });
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    const message = parseMessage(line);
    if (!message) continue;
    if (message.type === 'TRACE' && message.trace?.type === 'ERROR') error = message.trace;
    messages.push(message);
  }
  await finished;
  if (error?.error) throw traceError(error.error, what);
  return messages;
}

export const airbyteSource = defineNodeType({
  type: 'source.airbyte',
  kind: 'source',
  title: 'Airbyte source',
  description:
    'Any Airbyte source from PyPI (airbyte-source-*), run in the Python sandbox: one stream into a table.',
  icon: 'plug',
  category: 'Python connectors',
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  probe: {
    packagePattern: '^airbyte-source-[a-z0-9-]+\\s*==\\s*[A-Za-z0-9.+!_-]+$',
    packageHint: 'write airbyte-source-<name>==<version>',
    packageExample: 'airbyte-source-faker==6.2.32',
    specName: 'spec',
    streams: 'many',
    nodeConfig: nodeConnectorConfig,
    // Loaded when asked: the probe module imports this one.
    run: async (ctx, request) => (await import('./airbyte.probe.js')).probeAirbyte(ctx, request),
  },
  secrets: (config) => Object.values(config.secrets),
  // Each stream it reads, as a dataset of its own: airbyte:<package>/<stream>.
  lineage: (config) => ({
    reads: (configStreams(config).length ? configStreams(config) : ['?']).map((stream) => ({
      kind: 'external' as const,
      name: `airbyte:${(configString(config, 'package') ?? '?').split('==')[0]!.trim()}/${stream}`,
    })),
    columns: { from: 'read' },
  }),
  streams: (config) => (Array.isArray(config.streams) ? configStreams(config) : undefined),
  async run(ctx, config) {
    parseRequirements([config.package, ...config.requirements], 'requirements');
    const env = await prepareEnvironment(ctx, [config.package, ...config.requirements], 'package');
    const command = await connectorCommand(env, config.package);
    const what = `${config.package} (step "${ctx.nodeId}")`;
    return withAttempt(ctx, async (attempt) => {
      const scratch = attempt.scratchDir;
      ctx.heartbeat({ phase: 'spec' });
      const specMessages = await collect(
        attempt,
        env,
        [command, 'spec'],
        { ...config, network: false },
        what,
      );
      const spec = specMessages.find((m) => m.type === 'SPEC')?.spec?.connectionSpecification;
      if (!spec) throw new StepError(`${what} printed no SPEC message`, 'config');
      // Before check/discover/read: a config the spec refuses fails now, naming the field, rather
      // than after a connector's network retries (not retried: it cannot fit on another attempt).
      requireFitsSpec(
        config.package,
        { schema: spec, secretFields: secretPaths(spec) },
        config.config,
        config.secrets,
      );
      const values = await connectorConfig(ctx, {
        pkg: config.package,
        plain: config.config,
        secrets: config.secrets,
        secretFields: new Set(secretPaths(spec)),
      });
      await writeFile(path.join(scratch, 'config.json'), JSON.stringify(values), { mode: 0o600 });

      ctx.heartbeat({ phase: 'discover' });
      const discovered = await collect(
        attempt,
        env,
        [command, 'discover', '--config', '/scratch/config.json'],
        config,
        what,
      );
      const streams = discovered.find((m) => m.type === 'CATALOG')?.catalog?.streams ?? [];
      const picked = pickedStreams(config);
      const chosen = picked.map((p, i) => {
        const field = config.streams ? `streams.${i}` : 'stream';
        const stream = streams.find((s) => s.name === p.name);
        if (!stream) {
          throw configError(
            field,
            `${config.package} has no stream "${p.name}" (it has: ${streams.map((s) => s.name).join(', ')})`,
          );
        }
        const incremental = p.syncMode === 'incremental';
        if (incremental && !stream.supported_sync_modes?.includes('incremental')) {
          throw configError(
            config.streams ? `${field}.syncMode` : 'syncMode',
            `stream "${stream.name}" supports only ${stream.supported_sync_modes?.join(', ')}`,
          );
        }
        const cursor = p.cursorField ?? stream.default_cursor_field;
        if (incremental && !stream.source_defined_cursor && !cursor?.length) {
          throw configError(
            config.streams ? `${field}.cursorField` : 'cursorField',
            `stream "${stream.name}" needs a cursor field for incremental reads`,
          );
        }
        return { picked: p, stream, cursor };
      });
      await writeFile(path.join(scratch, 'catalog.json'), JSON.stringify(configuredCatalog(chosen)));

      const anyIncremental = picked.some((p) => p.syncMode === 'incremental');
      const stored = anyIncremental
        ? ((await ctx.loadState()) as AirbyteNodeState | null | undefined)
        : undefined;
      const previous = new Map<string, unknown>();
      for (const { picked: p } of chosen) {
        const state = p.syncMode === 'incremental' ? stored?.streams?.[p.name] : undefined;
        if (state !== undefined) previous.set(p.name, state);
      }
      const argv = [
        command,
        'read',
        '--config',
        '/scratch/config.json',
        '--catalog',
        '/scratch/catalog.json',
      ];
      if (previous.size > 0) {
        await writeFile(
          path.join(scratch, 'state.json'),
          JSON.stringify(
            [...previous].map(([name, state]) => ({
              type: 'STREAM',
              stream: { stream_descriptor: { name }, stream_state: state },
            })),
          ),
        );
        argv.push('--state', '/scratch/state.json');
      }
      // One stream (`stream`): the node's own table. Several (`streams`): a table each, and the
      // node's table lists them (stream, table_name, rows, sync_mode).
      const tables = new Map(
        chosen.map(({ stream }) => [
          stream.name,
          config.streams
            ? { schema: ctx.outputTable.schema, table: streamTableName(ctx.outputTable.table, stream.name) }
            : ctx.outputTable,
        ]),
      );
      const read = await readStreams(
        ctx,
        attempt,
        env,
        argv,
        config,
        chosen.map((c) => c.stream),
        tables,
        what,
      );
      let rowsOut: number;
      let bytes: number;
      if (config.streams) {
        await writeStreamManifest(
          ctx,
          chosen.map(({ picked: p }) => ({
            stream: p.name,
            table: tables.get(p.name)!.table,
            rows: read.rows.get(p.name) ?? 0,
            syncMode: p.syncMode,
          })),
        );
        rowsOut = [...read.rows.values()].reduce((a, b) => a + b, 0);
        bytes = 0;
        for (const table of tables.values()) bytes += (await tableStats(ctx.warehouse, table)).bytes;
      } else {
        const stats = await tableStats(ctx.warehouse, ctx.outputTable);
        rowsOut = stats.rows;
        bytes = stats.bytes;
      }
      const total = [...read.rows.values()].reduce((a, b) => a + b, 0);
      const notes = chosen.map(
        ({ picked: p }) =>
          `${read.rows.get(p.name) ?? 0} records of stream ${p.name} (${p.syncMode}${previous.has(p.name) ? ', from the stored state' : ''})`,
      );
      const nextStreams: Record<string, unknown> = { ...stored?.streams };
      for (const { picked: p } of chosen) {
        if (p.syncMode !== 'incremental') continue;
        nextStreams[p.name] = read.states.get(p.name) ?? previous.get(p.name);
      }
      return {
        table: ctx.outputTable,
        stats: { rowsIn: total, rowsOut, bytes },
        ...(anyIncremental ? { pendingState: { streams: nextStreams } satisfies AirbyteNodeState } : {}),
        notes,
      };
    });
  },
});

function configuredCatalog(
  chosen: { picked: Picked; stream: AirbyteStream; cursor: string[] | undefined }[],
) {
  return {
    streams: chosen.map(({ picked, stream, cursor }) => ({
      stream,
      sync_mode: picked.syncMode,
      destination_sync_mode: picked.syncMode === 'incremental' ? 'append' : 'overwrite',
      ...(picked.syncMode === 'incremental' && cursor?.length ? { cursor_field: cursor } : {}),
      ...(stream.source_defined_primary_key ? { primary_key: stream.source_defined_primary_key } : {}),
    })),
  };
}

/**
 * Streams the connector's RECORDs into each picked stream's table (all in transactions that commit
 * only once the connector ended well); each stream's last STATE is returned, not stored.
 */
async function readStreams(
  ctx: StepContext,
  attempt: Attempt,
  env: PythonEnvironment,
  argv: string[],
  config: Config,
  streams: AirbyteStream[],
  tables: Map<string, TableRef>,
  what: string,
): Promise<{ rows: Map<string, number>; states: Map<string, unknown> }> {
  const writers = new Map(
    streams.map((stream) => [
      stream.name,
      new StreamTableWriter(ctx.warehouse, tables.get(stream.name)!, streamColumns(stream.json_schema)),
    ]),
  );
  let error: AirbyteMessage['trace'] | undefined;
  const states = new Map<string, unknown>();
  const estimates = new Map<string, number>();
  let lastBeat = 0;
  try {
    for (const writer of writers.values()) await writer.open();
    const { process: child, finished } = await attempt.run({
      argv: ['/env/bin/python', '/opt/tributary/launcher.py', ...argv],
      env,
      network: config.network,
      failWhenOffline: true,
      limits: config.limits,
      what,
      explain: () => (error?.error ? traceError(error.error, what) : undefined),
    });
    child.onStderrLine((line) => {
      if (line.trim()) ctx.log.info(line.slice(0, 500), { stream: 'stderr' });
    });
    const beat = (extra: Record<string, unknown> = {}) => {
      lastBeat = Date.now();
      const records = Object.fromEntries([...writers].map(([name, w]) => [name, w.rows]));
      ctx.heartbeat({
        phase: 'read',
        ...(writers.size === 1
          ? { stream: streams[0]!.name, records: writers.get(streams[0]!.name)!.rows }
          : { records }),
        ...(estimates.size === 1 ? { estimate: [...estimates.values()][0] } : {}),
        ...extra,
      });
    };
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      const message = parseMessage(line);
      if (!message) continue;
      switch (message.type) {
        case 'RECORD': {
          const writer = message.record ? writers.get(message.record.stream) : undefined;
          if (writer) {
            const pending = writer.write(message.record!.data ?? {});
            if (pending) await pending;
          }
          break;
        }
        case 'STATE': {
          // A checkpoint counts only for records before it; they are all in these transactions,
          // which commit before the state is handed back (and the run stores it only if it succeeds).
          const s = message.state;
          if (s?.type === 'STREAM' && s.stream && writers.has(s.stream.stream_descriptor.name))
            states.set(s.stream.stream_descriptor.name, s.stream.stream_state);
          else if (!s?.type || s.type === 'LEGACY')
            for (const name of writers.keys()) states.set(name, s?.data ?? states.get(name));
          break;
        }
        case 'LOG':
          if (message.log && /^(WARN|ERROR|FATAL)/.test(message.log.level)) {
            ctx.log.warn(message.log.message.slice(0, 1000), { level: message.log.level });
          }
          if (Date.now() - lastBeat > 1000) beat({ log: message.log?.message.slice(0, 200) });
          break;
        case 'TRACE':
          if (message.trace?.type === 'ERROR') error = message.trace;
          if (message.trace?.type === 'ESTIMATE' && message.trace.estimate) {
            const { name, row_estimate } = message.trace.estimate;
            if (writers.has(name) && row_estimate !== undefined) estimates.set(name, row_estimate);
          }
          break;
      }
      if (Date.now() - lastBeat > 1000) beat();
    }
    await finished;
    if (error?.error) throw traceError(error.error, what);
    const rows = new Map<string, number>();
    for (const [name, writer] of writers) rows.set(name, await writer.commit());
    return { rows, states };
  } catch (failure) {
    for (const writer of writers.values()) writer.abort();
    throw failure;
  }
}
