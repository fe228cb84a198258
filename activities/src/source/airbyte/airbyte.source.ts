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
import { configString, defineNodeType, type StepContext } from '../../node-type.js';
import type { PythonEnvironment } from '../../python/environment.js';
import { prepareEnvironment, withAttempt, type Attempt } from '../../python/python-runtime.js';
import { parseRequirements } from '../../python/requirements.js';
import { StreamTableWriter, streamColumns } from '../../python/stream-table.js';
import { tableStats } from '../../sql.js';
import { LimitsSchema } from '../../transform/python/python.transform.js';
import { connectorConfig } from '../../python/config-paths.js';
import {
  parseMessage,
  secretPaths,
  traceError,
  type AirbyteMessage,
  type AirbyteStream,
} from './airbyte-protocol.js';

const ConfigSchema = z.object({
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
  stream: z.string().min(1).describe('The stream to read (one of those discover lists)'),
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
});

type Config = z.infer<typeof ConfigSchema>;

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
  secrets: (config) => Object.values(config.secrets),
  // The stream it reads, as a dataset of its own: airbyte:<package>/<stream>.
  lineage: (config) => ({
    reads: [
      {
        kind: 'external',
        name: `airbyte:${(configString(config, 'package') ?? '?').split('==')[0]!.trim()}/${configString(config, 'stream') ?? '?'}`,
      },
    ],
    columns: { from: 'read' },
  }),
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
      const stream = streams.find((s) => s.name === config.stream);
      if (!stream) {
        throw configError(
          'stream',
          `${config.package} has no stream "${config.stream}" (it has: ${streams.map((s) => s.name).join(', ')})`,
        );
      }
      const incremental = config.syncMode === 'incremental';
      if (incremental && !stream.supported_sync_modes?.includes('incremental')) {
        throw configError(
          'syncMode',
          `stream "${stream.name}" supports only ${stream.supported_sync_modes?.join(', ')}`,
        );
      }
      const cursor = config.cursorField ?? stream.default_cursor_field;
      if (incremental && !stream.source_defined_cursor && !cursor?.length) {
        throw configError(
          'cursorField',
          `stream "${stream.name}" needs a cursor field for incremental reads`,
        );
      }
      await writeFile(
        path.join(scratch, 'catalog.json'),
        JSON.stringify(configuredCatalog(stream, config, cursor)),
      );

      const stored = incremental
        ? ((await ctx.loadState()) as AirbyteNodeState | null | undefined)
        : undefined;
      const previous = stored?.streams?.[stream.name];
      const argv = [
        command,
        'read',
        '--config',
        '/scratch/config.json',
        '--catalog',
        '/scratch/catalog.json',
      ];
      if (previous !== undefined) {
        await writeFile(
          path.join(scratch, 'state.json'),
          JSON.stringify([
            { type: 'STREAM', stream: { stream_descriptor: { name: stream.name }, stream_state: previous } },
          ]),
        );
        argv.push('--state', '/scratch/state.json');
      }
      const read = await readStream(ctx, attempt, env, argv, config, stream, what);
      const stats = await tableStats(ctx.warehouse, ctx.outputTable);
      const notes = [
        `${read.rows} records of stream ${stream.name} (${config.syncMode}${previous !== undefined ? ', from the stored state' : ''})`,
      ];
      return {
        table: ctx.outputTable,
        stats: { rowsIn: read.rows, rowsOut: stats.rows, bytes: stats.bytes },
        ...(incremental
          ? {
              pendingState: {
                streams: { ...stored?.streams, [stream.name]: read.state ?? previous },
              } satisfies AirbyteNodeState,
            }
          : {}),
        notes,
      };
    });
  },
});

function configuredCatalog(stream: AirbyteStream, config: Config, cursor: string[] | undefined) {
  return {
    streams: [
      {
        stream,
        sync_mode: config.syncMode,
        destination_sync_mode: config.syncMode === 'incremental' ? 'append' : 'overwrite',
        ...(config.syncMode === 'incremental' && cursor?.length ? { cursor_field: cursor } : {}),
        ...(stream.source_defined_primary_key ? { primary_key: stream.source_defined_primary_key } : {}),
      },
    ],
  };
}

/** Streams the connector's RECORDs into the step's table; the last STATE is returned, not stored. */
async function readStream(
  ctx: StepContext,
  attempt: Attempt,
  env: PythonEnvironment,
  argv: string[],
  config: Config,
  stream: AirbyteStream,
  what: string,
): Promise<{ rows: number; state: unknown }> {
  const writer = new StreamTableWriter(ctx.warehouse, ctx.outputTable, streamColumns(stream.json_schema));
  await writer.open();
  let error: AirbyteMessage['trace'] | undefined;
  let state: unknown;
  let estimate: number | undefined;
  let lastBeat = 0;
  try {
    const { process: child, finished } = await attempt.run({
      argv: ['/env/bin/python', '/opt/tributary/launcher.py', ...argv],
      env,
      network: config.network,
      limits: config.limits,
      what,
      explain: () => (error?.error ? traceError(error.error, what) : undefined),
    });
    child.onStderrLine((line) => {
      if (line.trim()) ctx.log.info(line.slice(0, 500), { stream: 'stderr' });
    });
    const beat = (extra: Record<string, unknown> = {}) => {
      lastBeat = Date.now();
      ctx.heartbeat({
        phase: 'read',
        stream: stream.name,
        records: writer.rows,
        ...(estimate ? { estimate } : {}),
        ...extra,
      });
    };
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      const message = parseMessage(line);
      if (!message) continue;
      switch (message.type) {
        case 'RECORD':
          if (message.record?.stream === stream.name) {
            const pending = writer.write(message.record.data ?? {});
            if (pending) await pending;
          }
          break;
        case 'STATE': {
          // A checkpoint counts only for records before it; they are all in this transaction, which
          // commits before the state is handed back (and the run stores it only if it succeeds).
          const s = message.state;
          if (s?.type === 'STREAM' && s.stream?.stream_descriptor.name === stream.name)
            state = s.stream.stream_state;
          else if (!s?.type || s.type === 'LEGACY') state = s?.data ?? state;
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
          if (message.trace?.type === 'ESTIMATE' && message.trace.estimate?.name === stream.name) {
            estimate = message.trace.estimate.row_estimate;
          }
          break;
      }
      if (Date.now() - lastBeat > 1000) beat();
    }
    await finished;
    if (error?.error) throw traceError(error.error, what);
    const rows = await writer.commit();
    return { rows, state };
  } catch (failure) {
    writer.abort();
    throw failure;
  }
}
