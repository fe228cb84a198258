// What the builder asks of a Python connector before it has ever run: its connection
// specification (the node's form, with the fields it marks secret) and, with a config, the streams
// `discover` lists (with their columns and sync modes) for the stream picker. Both run the
// connector's own commands in the Python sandbox of the worker, in the environment a run would use
// (built on first use, with progress). Secrets named by the config are resolved here, inside the
// worker, and written only to the attempt's scratch directory; nothing returned carries them.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StepError } from '../errors.js';
import type { StepContext } from '../node-type.js';
import { collect, connectorCommand } from '../source/airbyte/airbyte.source.js';
import { secretPaths } from '../source/airbyte/airbyte-protocol.js';
import { tapAbout, tapCommand, tapDiscover, type CatalogStream } from '../source/singer/singer.source.js';
import { connectorConfig } from './config-paths.js';
import { prepareEnvironment, withAttempt } from './python-runtime.js';
import { parseRequirements } from './requirements.js';
import { streamColumns } from './stream-table.js';

export type ProbeType = 'source.airbyte' | 'source.singer';

export interface ProbeRequest {
  type: ProbeType;
  action: 'spec' | 'discover';
  /** The project whose secrets a discover may resolve (and whose files a tap may read). */
  project: string;
  /** `airbyte-source-faker==6.2.32`, `tap-jsonl==0.3.1`: pinned. */
  package: string;
  /** An Airbyte node's further requirements. */
  requirements?: string[];
  /** A Singer tap's command, when it is not the package name. */
  command?: string;
  /** discover: the node's plain config, its secret fields → project secret names, its network and files. */
  config?: Record<string, unknown>;
  secrets?: Record<string, string>;
  network?: boolean;
  files?: string;
}

export interface ConnectorSpec {
  /** The connection specification (JSON Schema); null when the connector offers none. */
  schema: Record<string, unknown> | null;
  /** Dotted paths of the fields it marks secret (`airbyte_secret`; a tap's `secret`/`writeOnly`). */
  secretFields: string[];
  /** Why there is no schema, when there is none. */
  note?: string;
}

export interface DiscoveredStream {
  name: string;
  columns: { name: string; type: string }[];
  syncModes: ('full_refresh' | 'incremental')[];
  /** The connector keeps its own cursor (no cursor field to choose). */
  sourceDefinedCursor: boolean;
  defaultCursorField: string[];
}

export type ProbeResult =
  { action: 'spec'; spec: ConnectorSpec } | { action: 'discover'; streams: DiscoveredStream[] };

export type ProbeContext = Pick<
  StepContext,
  'python' | 'heartbeat' | 'log' | 'signal' | 'secrets' | 'resolveDataPath'
>;

/** Spec and discover are quick when they work; a connector that hangs is stopped well before a run would be. */
const PROBE_LIMITS = { cpuSeconds: 300, memoryMb: 2048, wallSeconds: 300 };

export async function probeConnector(ctx: ProbeContext, request: ProbeRequest): Promise<ProbeResult> {
  return request.type === 'source.airbyte' ? probeAirbyte(ctx, request) : probeSinger(ctx, request);
}

async function probeAirbyte(ctx: ProbeContext, request: ProbeRequest): Promise<ProbeResult> {
  if (!/^airbyte-source-[a-z0-9-]+\s*==\s*[A-Za-z0-9.+!_-]+$/.test(request.package)) {
    throw new StepError('config.package: write airbyte-source-<name>==<version>', 'config');
  }
  const requirements = [request.package, ...(request.requirements ?? [])];
  parseRequirements(requirements, 'requirements');
  const env = await prepareEnvironment(ctx, requirements, 'package');
  const command = await connectorCommand(env, request.package);
  const what = request.package;
  return withAttempt(ctx, async (attempt) => {
    ctx.heartbeat({ phase: 'spec' });
    const messages = await collect(
      attempt,
      env,
      [command, 'spec'],
      { network: false, limits: PROBE_LIMITS },
      what,
    );
    const schema = messages.find((m) => m.type === 'SPEC')?.spec?.connectionSpecification;
    if (!schema) throw new StepError(`${what} printed no SPEC message`, 'config');
    const secretFields = secretPaths(schema);
    if (request.action === 'spec') return { action: 'spec', spec: { schema, secretFields } };

    const values = await connectorConfig(ctx, {
      pkg: request.package,
      plain: request.config ?? {},
      secrets: request.secrets ?? {},
      secretFields: new Set(secretFields),
    });
    await writeFile(path.join(attempt.scratchDir, 'config.json'), JSON.stringify(values), { mode: 0o600 });
    ctx.heartbeat({ phase: 'discover' });
    const discovered = await collect(
      attempt,
      env,
      [command, 'discover', '--config', '/scratch/config.json'],
      { network: request.network ?? false, limits: PROBE_LIMITS },
      what,
    );
    const catalog = discovered.find((m) => m.type === 'CATALOG')?.catalog;
    if (!catalog) throw new StepError(`${what}: discover printed no CATALOG message`, 'config');
    return {
      action: 'discover',
      streams: catalog.streams.map((s) => ({
        name: s.name,
        columns: streamColumns(s.json_schema).map((c) => ({ name: c.name, type: c.type })),
        syncModes: (s.supported_sync_modes ?? ['full_refresh']).filter(
          (m): m is 'full_refresh' | 'incremental' => m === 'full_refresh' || m === 'incremental',
        ),
        sourceDefinedCursor: !!s.source_defined_cursor,
        defaultCursorField: s.default_cursor_field ?? [],
      })),
    };
  });
}

async function probeSinger(ctx: ProbeContext, request: ProbeRequest): Promise<ProbeResult> {
  if (!/^tap-[a-z0-9-]+\s*==\s*[A-Za-z0-9.+!_-]+$/.test(request.package)) {
    throw new StepError('config.package: write tap-<name>==<version>', 'config');
  }
  if (request.command !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(request.command)) {
    throw new StepError('config.command: a command name (letters, digits, "-", "_")', 'config');
  }
  const env = await prepareEnvironment(ctx, [request.package], 'package');
  const command = tapCommand(request.package, request.command);
  const what = request.package;
  const files = request.files ? await ctx.resolveDataPath(request.files, 'files') : undefined;
  const readOnly = files ? [{ host: files, path: '/data' }] : [];
  return withAttempt(ctx, async (attempt) => {
    ctx.heartbeat({ phase: 'about' });
    const about = await tapAbout(attempt, env, command, { limits: PROBE_LIMITS }, what);
    if (request.action === 'spec') {
      return {
        action: 'spec',
        spec: about.settings
          ? { schema: about.settings, secretFields: [...(about.secretFields ?? [])] }
          : {
              schema: null,
              secretFields: [],
              note: `${request.package} offers no settings schema (it does not answer --about --format json): write its config as JSON, and name in "secrets" the fields that hold secrets`,
            },
      };
    }
    const values = await connectorConfig(ctx, {
      pkg: request.package,
      plain: request.config ?? {},
      secrets: request.secrets ?? {},
      secretFields: about.secretFields,
    });
    await writeFile(path.join(attempt.scratchDir, 'config.json'), JSON.stringify(values), { mode: 0o600 });
    ctx.heartbeat({ phase: 'discover' });
    const catalog = await tapDiscover(
      attempt,
      env,
      command,
      { network: request.network ?? false, limits: PROBE_LIMITS },
      readOnly,
      what,
    );
    return { action: 'discover', streams: catalog.streams.map(singerStream) };
  });
}

function singerStream(s: CatalogStream): DiscoveredStream {
  const root = s.metadata?.find((m) => m.breadcrumb.length === 0)?.metadata ?? {};
  const keys = root['valid-replication-keys'];
  const method = (root['forced-replication-method'] ?? s.replication_method) as string | undefined;
  const incremental = method?.toUpperCase() === 'INCREMENTAL' || (Array.isArray(keys) && keys.length > 0);
  return {
    name: s.tap_stream_id,
    columns: streamColumns(s.schema).map((c) => ({ name: c.name, type: c.type })),
    syncModes: incremental ? ['full_refresh', 'incremental'] : ['full_refresh'],
    // A tap keeps its own bookmark: there is no cursor field to choose.
    sourceDefinedCursor: true,
    defaultCursorField: Array.isArray(keys) ? (keys as string[]).slice(0, 1) : [],
  };
}
