// What the builder asks of a Python connector before it has ever run: its connection
// specification (the node's form, with the fields it marks secret) and, with a config, the streams
// `discover` lists (with their columns and sync modes) for the stream picker. Both run the
// connector's own commands in the Python sandbox of the worker, in the environment a run would use
// (built on first use, with progress). Secrets named by the config are resolved here, inside the
// worker, and written only to the attempt's scratch directory; nothing returned carries them.
// A connector that can be probed says so in its declaration (`probe`), with the probe itself in its
// own folder; this module holds only what every probe shares.
import type { StepContext } from '../node-type.js';

export interface ProbeRequest {
  /** The node type; its declaration's `probe` answers. */
  type: string;
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
  /** A Singer stream's valid replication keys, when its catalog lists more than one to choose from. */
  replicationKeys?: string[];
}

export type ProbeResult =
  { action: 'spec'; spec: ConnectorSpec } | { action: 'discover'; streams: DiscoveredStream[] };

export type ProbeContext = Pick<
  StepContext,
  'python' | 'heartbeat' | 'log' | 'signal' | 'secrets' | 'resolveDataPath'
>;

/** Spec and discover are quick when they work; a connector that hangs is stopped well before a run would be. */
export const PROBE_LIMITS = { cpuSeconds: 300, memoryMb: 2048, wallSeconds: 300 };

/** What a connector's declaration tells about probing it: how its package is written, and the probe. */
export interface ConnectorProbe {
  /** A pinned package of this connector, as a RegExp source: ^airbyte-source-[a-z0-9-]+==…$ */
  packagePattern: string;
  /** What a mistyped package is told: "write airbyte-source-<name>==<version>". */
  packageHint: string;
  /** A package the form shows as an example. */
  packageExample: string;
  /** What its spec is called in progress and errors ("spec", "about"). */
  specName: string;
  /** Whether a node picks several streams (each into a table of its own) or one. */
  streams: 'many' | 'one';
  run(ctx: ProbeContext, request: ProbeRequest): Promise<ProbeResult>;
  /**
   * Where a node's config (as written, unparsed) holds what decides the spec (package, command),
   * the connector's own config and its secrets: saving and validating check it against the cached
   * spec. undefined when the node's config has no package yet.
   */
  nodeConfig(config: Record<string, unknown>): NodeConnectorConfig | undefined;
}

export interface NodeConnectorConfig {
  package: string;
  command?: string;
  /** The connector's own config, and the field of the node's config that holds it. */
  config: Record<string, unknown>;
  field: string;
  secrets: Record<string, string>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The node config both Python connector types write: package, command, config, secrets. */
export function nodeConnectorConfig(config: Record<string, unknown>): NodeConnectorConfig | undefined {
  if (typeof config.package !== 'string' || !config.package) return undefined;
  const secrets = isRecord(config.secrets)
    ? Object.fromEntries(
        Object.entries(config.secrets).filter((e): e is [string, string] => typeof e[1] === 'string'),
      )
    : {};
  return {
    package: config.package,
    ...(typeof config.command === 'string' ? { command: config.command } : {}),
    config: isRecord(config.config) ? config.config : {},
    field: 'config',
    secrets,
  };
}
