// source.singer: a Singer tap from PyPI (tap-*), by package and version, run in the Python sandbox
// with the machinery source.airbyte uses: `--discover` gives the streams' schemas, the catalog
// selects the picked streams (each with its replication method and key), SCHEMA/RECORD messages
// fill one table per stream with COPY, in transactions that commit only when the tap ended well,
// and STATE — one document for all streams, as the tap emits it — is handed back to be stored per
// node and branch only when the run succeeds. A tap that reads files sees the project's folder
// named by `files`, read-only, at /data.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { configError, StepError } from '../../errors.js';
import { defineNodeType, type StepContext, type TableRef } from '../../node-type.js';
import { connectorConfig } from '../../python/config-paths.js';
import { requireFitsSpec } from '../../python/spec-check.js';
import type { PythonEnvironment } from '../../python/environment.js';
import { nodeConnectorConfig } from '../../python/connector-probe.js';
import { prepareEnvironment, withAttempt, type Attempt } from '../../python/python-runtime.js';
import {
  connectorFields,
  connectorLineage,
  declaredStreams,
  parseJsonLine,
  pickedField,
  pickedStreamFields,
  pickedStreams,
  refineStreams,
  runConnector,
  streamsField,
  streamsReadResult,
  streamTables,
  StreamWriters,
  type Picked,
} from '../../python/connector.js';

export const PickedSingerStreamSchema = z.strictObject({
  ...pickedStreamFields,
  replicationKey: z
    .string()
    .min(1)
    .optional()
    .describe("The incremental stream's replication key, one its catalog lists as valid"),
});

const ConfigSchema = z
  .object({
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
    stream: connectorFields.stream,
    streams: streamsField(PickedSingerStreamSchema),
    syncMode: connectorFields.syncMode,
    files: z
      .string()
      .optional()
      .describe("A folder of the project's files the tap may read, mounted read-only at /data"),
    network: connectorFields.network,
    limits: connectorFields.limits,
  })
  .superRefine(refineStreams);

type Config = z.infer<typeof ConfigSchema>;
type PickedSinger = Picked<z.infer<typeof PickedSingerStreamSchema>>;

/**
 * The stored state of a source.singer node. With `streams`: the tap's STATE document as it emitted
 * it (`{ "bookmarks": { "<stream>": … } }` for most taps). With the one `stream` of older configs:
 * that document under the stream's name, as it was always stored.
 */
export interface SingerNodeState {
  state?: unknown;
  streams?: Record<string, unknown>;
}

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

/** What a catalog entry allows: incremental reads (and with which replication keys). */
export function catalogFacts(s: CatalogStream): { incremental: boolean; replicationKeys: string[] } {
  const root = s.metadata?.find((m) => m.breadcrumb.length === 0)?.metadata ?? {};
  const keys = root['valid-replication-keys'];
  const replicationKeys = Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
  const method = (root['forced-replication-method'] ?? s.replication_method) as string | undefined;
  return {
    incremental: method?.toUpperCase() === 'INCREMENTAL' || replicationKeys.length > 0,
    replicationKeys,
  };
}

/**
 * The catalog the tap reads with: the picked streams selected, each with its replication method
 * (INCREMENTAL or FULL_TABLE) and key, both where Meltano SDK taps read them (the entry's fields)
 * and where older taps do (its metadata); every other stream deselected.
 */
function configuredCatalog(streams: CatalogStream[], picked: Map<string, PickedSinger>) {
  return {
    streams: streams.map((s) => {
      const p = picked.get(s.tap_stream_id);
      const method = p && (p.syncMode === 'incremental' ? 'INCREMENTAL' : 'FULL_TABLE');
      const choice = p
        ? {
            'replication-method': method,
            ...(p.replicationKey ? { 'replication-key': p.replicationKey } : {}),
          }
        : {};
      const metadata = [...(s.metadata ?? [])];
      const at = metadata.findIndex((m) => m.breadcrumb.length === 0);
      const root = { ...(at >= 0 ? metadata[at]!.metadata : {}), selected: !!p, ...choice };
      if (at >= 0) metadata[at] = { breadcrumb: [], metadata: root };
      else metadata.push({ breadcrumb: [], metadata: root });
      return {
        ...s,
        metadata,
        ...(method ? { replication_method: method } : {}),
        ...(p?.replicationKey ? { replication_key: p.replicationKey } : {}),
      };
    }),
  };
}

/** A STATE document without the bookmarks of the given streams (those read in full refresh). */
function withoutBookmarks(doc: unknown, streams: string[]): unknown {
  const bookmarks = (doc as { bookmarks?: unknown } | undefined)?.bookmarks;
  if (!streams.length || !bookmarks || typeof bookmarks !== 'object') return doc;
  const kept = { ...(bookmarks as Record<string, unknown>) };
  for (const stream of streams) delete kept[stream];
  return { ...(doc as Record<string, unknown>), bookmarks: kept };
}

/** Whether a STATE document holds a bookmark of this stream (any document without `bookmarks` may). */
function hasBookmark(doc: unknown, stream: string): boolean {
  if (doc === undefined || doc === null) return false;
  const bookmarks = (doc as { bookmarks?: unknown }).bookmarks;
  if (!bookmarks || typeof bookmarks !== 'object') return true;
  return (bookmarks as Record<string, unknown>)[stream] !== undefined;
}

export const singerSource = defineNodeType({
  type: 'source.singer',
  kind: 'source',
  title: 'Singer tap',
  description: 'Any Singer tap from PyPI (tap-*), run in the Python sandbox: its streams, each into a table.',
  icon: 'plug',
  category: 'Python connectors',
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  probe: {
    packagePattern: '^tap-[a-z0-9-]+\\s*==\\s*[A-Za-z0-9.+!_-]+$',
    packageHint: 'write tap-<name>==<version>',
    packageExample: 'tap-jsonl==0.3.1',
    specName: 'about',
    streams: 'many',
    nodeConfig: nodeConnectorConfig,
    // Loaded when asked: the probe module imports this one.
    run: async (ctx, request) => (await import('./singer.probe.js')).probeSinger(ctx, request),
  },
  secrets: (config) => Object.values(config.secrets),
  // Each stream it reads, as a dataset of its own: singer:<package>/<stream>.
  lineage: connectorLineage('singer'),
  streams: declaredStreams,
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
      const picked = pickedStreams<z.infer<typeof PickedSingerStreamSchema>>(config, {});
      const chosen = picked.map((p) => {
        const stream = catalog.streams.find((s) => s.tap_stream_id === p.name);
        if (!stream) {
          throw configError(
            p.field || 'stream',
            `${config.package} has no stream "${p.name}" (it has: ${catalog.streams.map((s) => s.tap_stream_id).join(', ')})`,
          );
        }
        const facts = catalogFacts(stream);
        if (p.syncMode === 'incremental' && !facts.incremental) {
          throw configError(
            pickedField(p, 'syncMode'),
            `stream "${p.name}" cannot be read incrementally: its catalog names no replication key`,
          );
        }
        if (p.replicationKey && !facts.replicationKeys.includes(p.replicationKey)) {
          throw configError(
            pickedField(p, 'replicationKey'),
            `stream "${p.name}" has no replication key "${p.replicationKey}" (valid: ${facts.replicationKeys.join(', ') || 'none'})`,
          );
        }
        return stream;
      });
      await writeFile(
        path.join(scratch, 'catalog.json'),
        JSON.stringify(configuredCatalog(catalog.streams, new Map(picked.map((p) => [p.name, p])))),
      );

      // Singer state is one document for all streams. A node with `streams` keeps it whole, as the
      // tap emitted it, less the bookmarks of the streams it reads in full; a node with the one
      // `stream` of older configs keeps it under that stream's name, as it always has.
      const several = !!config.streams;
      const anyIncremental = picked.some((p) => p.syncMode === 'incremental');
      const fullRefresh = picked.filter((p) => p.syncMode !== 'incremental').map((p) => p.name);
      const stored = anyIncremental ? ((await ctx.loadState()) as SingerNodeState | null) : null;
      const legacy = picked.map((p) => stored?.streams?.[p.name]).find((s) => s !== undefined);
      const previous = several
        ? withoutBookmarks(stored?.state ?? legacy, fullRefresh)
        : anyIncremental
          ? legacy
          : undefined;
      const argv = [command, '--config', '/scratch/config.json', '--catalog', '/scratch/catalog.json'];
      if (previous !== undefined) {
        await writeFile(path.join(scratch, 'state.json'), JSON.stringify(previous));
        argv.push('--state', '/scratch/state.json');
      }
      const tables = streamTables(
        ctx.outputTable,
        picked.map((p) => p.name),
        several,
      );
      const read = await readTap(ctx, attempt, env, argv, config, chosen, tables, readOnly, what);
      const last = read.state ?? previous;
      return streamsReadResult(ctx, {
        picked: picked.map((p) => ({
          ...p,
          fromState: p.syncMode === 'incremental' && hasBookmark(previous, p.name),
        })),
        tables,
        rows: read.rows,
        several,
        pendingState: !anyIncremental
          ? undefined
          : several
            ? ({ state: withoutBookmarks(last, fullRefresh) } satisfies SingerNodeState)
            : ({ streams: { ...stored?.streams, [picked[0]!.name]: last } } satisfies SingerNodeState),
      });
    });
  },
});

/**
 * Streams the tap's RECORDs into each picked stream's table (typed from the stream's SCHEMA message,
 * or its catalog schema when the tap sends none), all committed only once the tap ended well; the
 * last STATE is returned, not stored.
 */
async function readTap(
  ctx: StepContext,
  attempt: Attempt,
  env: PythonEnvironment,
  argv: string[],
  config: Config,
  streams: CatalogStream[],
  tables: Map<string, TableRef>,
  readOnly: { host: string; path: string }[],
  what: string,
): Promise<{ rows: Map<string, number>; state: unknown }> {
  const writers = new StreamWriters(ctx.warehouse, tables);
  const schemas = new Map(streams.map((s) => [s.tap_stream_id, s.schema as unknown]));
  // Messages name a stream by its tap_stream_id, or (some older taps) by its `stream` name.
  const ids = new Map(streams.map((s) => [s.stream ?? s.tap_stream_id, s.tap_stream_id]));
  for (const s of streams) ids.set(s.tap_stream_id, s.tap_stream_id);
  let state: unknown;
  let lastBeat = 0;
  try {
    const onLine = async (line: string) => {
      const message = parse(line);
      if (!message) return;
      const id = message.stream === undefined ? undefined : ids.get(message.stream);
      if (message.type === 'SCHEMA' && id) {
        if (!writers.isOpen(id)) await writers.open(id, message.schema ?? schemas.get(id));
      } else if (message.type === 'RECORD' && id) {
        if (!writers.isOpen(id)) await writers.open(id, schemas.get(id));
        const pending = writers.write(id, message.record ?? {});
        if (pending) await pending;
      } else if (message.type === 'STATE') state = message.value;
      if (Date.now() - lastBeat > 1000) {
        lastBeat = Date.now();
        const records = writers.records();
        ctx.heartbeat(
          streams.length === 1
            ? {
                phase: 'read',
                stream: streams[0]!.tap_stream_id,
                records: records[streams[0]!.tap_stream_id],
              }
            : { phase: 'read', records },
        );
      }
    };
    await runConnector(
      attempt,
      { command: argv, env, network: config.network, limits: config.limits, readOnly, what },
      onLine,
    );
    return { rows: await writers.commit(schemas), state };
  } catch (failure) {
    writers.abort();
    throw failure;
  }
}
