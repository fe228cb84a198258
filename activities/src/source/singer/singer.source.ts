// source.singer: a Singer tap from PyPI (tap-*), by package and version, run in the Python sandbox
// with the machinery source.airbyte uses: `--discover` gives the stream's schema, the catalog
// selects the one stream, SCHEMA/RECORD messages fill the step's table with COPY in one transaction
// that commits only when the tap ended well, and STATE is handed back to be stored per node, per
// stream and per branch only when the run succeeds. A tap that reads files sees the project's
// folder named by `files`, read-only, at /data.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { configError, StepError } from '../../errors.js';
import { defineNodeType, type StepContext } from '../../node-type.js';
import { connectorConfig } from '../../python/config-paths.js';
import { requireFitsSpec } from '../../python/spec-check.js';
import type { PythonEnvironment } from '../../python/environment.js';
import { nodeConnectorConfig } from '../../python/connector-probe.js';
import { prepareEnvironment, withAttempt, type Attempt } from '../../python/python-runtime.js';
import { StreamTableWriter, streamColumns } from '../../python/stream-table.js';
import { tableStats } from '../../sql.js';
import {
  connectorFields,
  connectorLineage,
  parseJsonLine,
  runConnector,
  streamReadResult,
} from '../../python/connector.js';

const ConfigSchema = z.object({
  package: z
    .string()
    .regex(/^tap-[a-z0-9-]+\s*==\s*[A-Za-z0-9.+!_-]+$/, 'write tap-<name>==<version>')
    .describe('The Singer tap on PyPI, pinned: tap-jsonl==0.3.1'),
  command: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/)
    .optional()
    .describe('The command the package installs, when it is not the package name'),
  config: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("The tap's configuration, without secret fields"),
  secrets: connectorFields.secrets,
  stream: z.string().min(1).describe('The stream to read (its tap_stream_id)'),
  syncMode: connectorFields.syncMode,
  files: z
    .string()
    .optional()
    .describe("A folder of the project's files the tap may read, mounted read-only at /data"),
  network: connectorFields.network,
  limits: connectorFields.limits,
});

type Config = z.infer<typeof ConfigSchema>;

export interface CatalogStream {
  tap_stream_id: string;
  stream?: string;
  schema: Record<string, unknown>;
  metadata?: { breadcrumb: string[]; metadata: Record<string, unknown> }[];
  replication_method?: string;
}

interface SingerMessage {
  type: string;
  stream?: string;
  schema?: Record<string, unknown>;
  record?: Record<string, unknown>;
  value?: unknown;
}

const parse = (line: string): SingerMessage | undefined => parseJsonLine<SingerMessage>(line);

/** What a tap says of itself with `--about --format json` (Meltano's SDK taps do; older ones print nothing). */
export interface TapAbout {
  /** Its settings as JSON Schema, when it offers one. */
  settings: Record<string, unknown> | undefined;
  /** The settings it marks secret (`secret` or `writeOnly`); undefined when it says nothing. */
  secretFields: Set<string> | undefined;
}

/** Runs `--about --format json`; a tap without it yields no settings and no secret fields. */
export async function tapAbout(
  attempt: Attempt,
  env: PythonEnvironment,
  command: string,
  config: Pick<Config, 'limits'>,
  what: string,
): Promise<TapAbout> {
  let text = '';
  const { process: child, finished } = await attempt.run({
    argv: ['/env/bin/python', '/opt/tributary/launcher.py', command, '--about', '--format', 'json'],
    env,
    network: false,
    limits: config.limits,
    what,
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (text += chunk));
  try {
    await finished;
    const about = JSON.parse(text) as {
      settings?: { properties?: Record<string, { secret?: boolean; writeOnly?: boolean }> };
    };
    const properties = about.settings?.properties;
    if (!properties) return { settings: undefined, secretFields: undefined };
    return {
      settings: about.settings as Record<string, unknown>,
      secretFields: new Set(
        Object.entries(properties)
          .filter(([, p]) => p.secret || p.writeOnly)
          .map(([name]) => name),
      ),
    };
  } catch {
    return { settings: undefined, secretFields: undefined }; // a tap without --about
  }
}

/** Runs `--discover` with the config already in /scratch/config.json; returns the catalog. */
export async function tapDiscover(
  attempt: Attempt,
  env: PythonEnvironment,
  command: string,
  config: Pick<Config, 'network' | 'limits'>,
  readOnly: { host: string; path: string }[],
  what: string,
): Promise<{ streams: CatalogStream[] }> {
  let catalogText = '';
  const discover = await attempt.run({
    argv: [
      '/env/bin/python',
      '/opt/tributary/launcher.py',
      command,
      '--config',
      '/scratch/config.json',
      '--discover',
    ],
    env,
    network: config.network,
    failWhenOffline: true,
    limits: config.limits,
    readOnly,
    what,
  });
  discover.process.stdout.setEncoding('utf8');
  discover.process.stdout.on('data', (chunk: string) => (catalogText += chunk));
  await discover.finished;
  try {
    const catalog = JSON.parse(catalogText) as { streams?: CatalogStream[] };
    if (!Array.isArray(catalog.streams)) throw new Error('no streams');
    return { streams: catalog.streams };
  } catch {
    throw new StepError(`${what}: --discover printed no catalog`, 'config');
  }
}

/** The command a tap package installs: its name, unless the node says otherwise. */
export const tapCommand = (pkg: string, command?: string) =>
  `/env/bin/${command ?? pkg.split('==')[0]!.trim()}`;

export const singerSource = defineNodeType({
  type: 'source.singer',
  kind: 'source',
  title: 'Singer tap',
  description: 'Any Singer tap from PyPI (tap-*), run in the Python sandbox: one stream into a table.',
  icon: 'plug',
  category: 'Python connectors',
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  probe: {
    packagePattern: '^tap-[a-z0-9-]+\\s*==\\s*[A-Za-z0-9.+!_-]+$',
    packageHint: 'write tap-<name>==<version>',
    packageExample: 'tap-jsonl==0.3.1',
    specName: 'about',
    streams: 'one',
    nodeConfig: nodeConnectorConfig,
    // Loaded when asked: the probe module imports this one.
    run: async (ctx, request) => (await import('./singer.probe.js')).probeSinger(ctx, request),
  },
  secrets: (config) => Object.values(config.secrets),
  lineage: connectorLineage('singer'),
  async run(ctx, config) {
    const env = await prepareEnvironment(ctx, [config.package], 'package');
    const command = tapCommand(config.package, config.command);
    const what = `${config.package} (step "${ctx.nodeId}")`;
    const files = config.files ? await ctx.resolveDataPath(config.files, 'files') : undefined;
    const readOnly = files ? [{ host: files, path: '/data' }] : [];
    return withAttempt(ctx, async (attempt) => {
      const scratch = attempt.scratchDir;
      ctx.heartbeat({ phase: 'about' });
      const { settings, secretFields } = await tapAbout(attempt, env, command, config, what);
      if (settings)
        requireFitsSpec(
          config.package,
          { schema: settings, secretFields: [...(secretFields ?? [])] },
          config.config,
          config.secrets,
        );
      const values = await connectorConfig(ctx, {
        pkg: config.package,
        plain: config.config,
        secrets: config.secrets,
        secretFields,
      });
      await writeFile(path.join(scratch, 'config.json'), JSON.stringify(values), { mode: 0o600 });

      ctx.heartbeat({ phase: 'discover' });
      const catalog = await tapDiscover(attempt, env, command, config, readOnly, what);
      const stream = catalog.streams.find((s) => s.tap_stream_id === config.stream);
      if (!stream) {
        throw configError(
          'stream',
          `${config.package} has no stream "${config.stream}" (it has: ${catalog.streams.map((s) => s.tap_stream_id).join(', ')})`,
        );
      }
      // Select the one stream (and all its fields); deselect the others.
      for (const s of catalog.streams) {
        const selected = s === stream;
        s.metadata = s.metadata ?? [];
        const root = s.metadata.find((m) => m.breadcrumb.length === 0);
        if (root) root.metadata = { ...root.metadata, selected };
        else s.metadata.push({ breadcrumb: [], metadata: { selected } });
      }
      await writeFile(path.join(scratch, 'catalog.json'), JSON.stringify(catalog));

      const incremental = config.syncMode === 'incremental';
      const stored = incremental
        ? ((await ctx.loadState()) as { streams?: Record<string, unknown> } | null)
        : null;
      const previous = stored?.streams?.[stream.tap_stream_id];
      const argv = [command, '--config', '/scratch/config.json', '--catalog', '/scratch/catalog.json'];
      if (previous !== undefined) {
        await writeFile(path.join(scratch, 'state.json'), JSON.stringify(previous));
        argv.push('--state', '/scratch/state.json');
      }
      const read = await readTap(ctx, attempt, env, argv, config, stream, readOnly, what);
      return streamReadResult(ctx, read, {
        stream: stream.tap_stream_id,
        syncMode: config.syncMode,
        stored,
        previous,
        stats: await tableStats(ctx.warehouse, ctx.outputTable),
      });
    });
  },
});

async function readTap(
  ctx: StepContext,
  attempt: Attempt,
  env: PythonEnvironment,
  argv: string[],
  config: Config,
  stream: CatalogStream,
  readOnly: { host: string; path: string }[],
  what: string,
): Promise<{ rows: number; state: unknown }> {
  let writer: StreamTableWriter | undefined;
  let state: unknown;
  let lastBeat = 0;
  const name = stream.stream ?? stream.tap_stream_id;
  try {
    const open = async (schema: Record<string, unknown>) => {
      writer = new StreamTableWriter(ctx.warehouse, ctx.outputTable, streamColumns(schema));
      await writer.open();
    };
    const onLine = async (line: string) => {
      const message = parse(line);
      if (!message) return;
      if (message.type === 'SCHEMA' && message.stream === name && !writer) await open(message.schema ?? {});
      else if (message.type === 'RECORD' && message.stream === name) {
        if (!writer) await open(stream.schema);
        const pending = writer!.write(message.record ?? {});
        if (pending) await pending;
      } else if (message.type === 'STATE') state = message.value;
      if (Date.now() - lastBeat > 1000) {
        lastBeat = Date.now();
        ctx.heartbeat({ phase: 'read', stream: name, records: writer?.rows ?? 0 });
      }
    };
    await runConnector(
      attempt,
      { command: argv, env, network: config.network, limits: config.limits, readOnly, what },
      onLine,
    );
    if (!writer) await open(stream.schema);
    const rows = await writer!.commit();
    return { rows, state };
  } catch (failure) {
    writer?.abort();
    throw failure;
  }
}
