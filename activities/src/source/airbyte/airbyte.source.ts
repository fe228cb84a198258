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
import { defineNodeType, type StepContext, type TableRef } from '../../node-type.js';
import type { PythonEnvironment } from '../../python/environment.js';
import { nodeConnectorConfig } from '../../python/connector-probe.js';
import { prepareEnvironment, withAttempt, type Attempt } from '../../python/python-runtime.js';
import { parseRequirements } from '../../python/requirements.js';
import {
  connectorFields,
  connectorLineage,
  declaredStreams,
  pickedField,
  pickedStreamFields,
  pickedStreams,
  refineStreams,
  streamsField,
  streamsReadResult,
  streamTables,
  StreamWriters,
} from '../../python/connector.js';
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
  ...pickedStreamFields,
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
    stream: connectorFields.stream,
    streams: streamsField(PickedStreamSchema),
    syncMode: connectorFields.syncMode,
    cursorField: z
      .array(z.string())
      .optional()
      .describe('The cursor of an incremental stream, when the source does not define one'),
    network: connectorFields.network,
    limits: connectorFields.limits,
  })
  .superRefine(refineStreams);

type Config = z.infer<typeof ConfigSchema>;
type PickedStream = z.infer<typeof PickedStreamSchema>;

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
    // `spec` never needs the network: a package that tries it on import (google-drive's nltk data)
    // and copes without is let be there.
    failWhenOffline: argv[1] !== 'spec',
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
    'Any Airbyte source from PyPI (airbyte-source-*), run in the Python sandbox: its streams, each into a table.',
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
  lineage: connectorLineage('airbyte'),
  streams: declaredStreams,
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
      const picked = pickedStreams<PickedStream>(config, { cursorField: config.cursorField });
      const chosen = picked.map((p) => {
        const stream = streams.find((s) => s.name === p.name);
        if (!stream) {
          throw configError(
            p.field || 'stream',
            `${config.package} has no stream "${p.name}" (it has: ${streams.map((s) => s.name).join(', ')})`,
          );
        }
        const incremental = p.syncMode === 'incremental';
        if (incremental && !stream.supported_sync_modes?.includes('incremental')) {
          throw configError(
            pickedField(p, 'syncMode'),
            `stream "${stream.name}" supports only ${stream.supported_sync_modes?.join(', ')}`,
          );
        }
        const cursor = p.cursorField ?? stream.default_cursor_field;
        if (incremental && !stream.source_defined_cursor && !cursor?.length) {
          throw configError(
            pickedField(p, 'cursorField'),
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
      const several = !!config.streams;
      const tables = streamTables(
        ctx.outputTable,
        picked.map((p) => p.name),
        several,
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
      const nextStreams: Record<string, unknown> = { ...stored?.streams };
      for (const { picked: p } of chosen) {
        if (p.syncMode !== 'incremental') continue;
        nextStreams[p.name] = read.states.get(p.name) ?? previous.get(p.name);
      }
      return streamsReadResult(ctx, {
        picked: picked.map((p) => ({ ...p, fromState: previous.has(p.name) })),
        tables,
        rows: read.rows,
        several,
        pendingState: anyIncremental ? ({ streams: nextStreams } satisfies AirbyteNodeState) : undefined,
      });
    });
  },
});

function configuredCatalog(
  chosen: {
    picked: PickedStream & { syncMode: 'full_refresh' | 'incremental' };
    stream: AirbyteStream;
    cursor: string[] | undefined;
  }[],
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
  const writers = new StreamWriters(ctx.warehouse, tables);
  const schemas = new Map(streams.map((s) => [s.name, s.json_schema as unknown]));
  let error: AirbyteMessage['trace'] | undefined;
  const states = new Map<string, unknown>();
  const estimates = new Map<string, number>();
  let lastBeat = 0;
  try {
    for (const stream of streams) await writers.open(stream.name, stream.json_schema);
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
      const records = writers.records();
      ctx.heartbeat({
        phase: 'read',
        ...(streams.length === 1
          ? { stream: streams[0]!.name, records: records[streams[0]!.name] }
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
          if (message.record && writers.reads(message.record.stream)) {
            const pending = writers.write(message.record.stream, message.record.data ?? {});
            if (pending) await pending;
          }
          break;
        }
        case 'STATE': {
          // A checkpoint counts only for records before it; they are all in these transactions,
          // which commit before the state is handed back (and the run stores it only if it succeeds).
          const s = message.state;
          if (s?.type === 'STREAM' && s.stream && writers.reads(s.stream.stream_descriptor.name))
            states.set(s.stream.stream_descriptor.name, s.stream.stream_state);
          else if (!s?.type || s.type === 'LEGACY')
            for (const { name } of streams) states.set(name, s?.data ?? states.get(name));
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
            if (writers.reads(name) && row_estimate !== undefined) estimates.set(name, row_estimate);
          }
          break;
      }
      if (Date.now() - lastBeat > 1000) beat();
    }
    await finished;
    if (error?.error) throw traceError(error.error, what);
    return { rows: await writers.commit(schemas), states };
  } catch (failure) {
    writers.abort();
    throw failure;
  }
}
