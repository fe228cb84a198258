// The contract every connector and transform implements: one declaration per node type, with its
// config schema as data (served to the UI as JSON Schema) and a `run` that moves data from
// warehouse table to warehouse table. Nothing here may import the engine: the engine imports us.
import type { z } from 'zod';
import type { ConnectorProbe } from './python/connector-probe.js';
import type { FactSpec, Value, ValueType } from './flow/condition.js';
import type { EgressPolicy } from './egress/egress-fence.js';
import type { PythonHost } from './python/python-runtime.js';
import type { ColumnInfo } from './sql.js';
import type { ProjectWarehouse } from './warehouse/project-warehouse.js';

export type NodeKind = 'source' | 'transform' | 'sink';

/** A table in the warehouse. Steps pass these, never rows. */
export interface TableRef {
  schema: string;
  table: string;
}

export interface StepStats {
  rowsIn: number;
  rowsOut: number;
  bytes: number;
  durationMs: number;
}

export interface StepOutput {
  /** Where the step's rows are; absent for sinks, which publish outside the staging schema. */
  table?: TableRef;
  stats: Omit<StepStats, 'durationMs'>;
  /**
   * Incremental state (e.g. the last cursor value) that becomes the node's stored state only
   * when the whole run succeeds, so an overlapping or failed run never moves it.
   */
  pendingState?: unknown;
  /** Human-readable notes shown with the step (e.g. "added column x"). */
  notes?: string[];
  /**
   * The exact number of rows in `table`, when the step knows it without scanning the table (COPY's
   * own answer): the one step that consumes the table then takes it instead of counting again.
   */
  tableRows?: number;
  /** Values of the facts the type declares (`conditionFacts`), for conditions downstream. */
  facts?: Record<string, Value>;
  /** What a deciding node (one with `routes`) decided: the output taken, and why. */
  decision?: Decision;
}

/** A deciding step's choice: the route it takes and the condition that chose it, with its inputs. */
export interface Decision {
  /** The output taken (e.g. "true", or a switch case's name). */
  taken: string;
  /** The condition that chose it, as written; null for a switch's default. */
  condition: string | null;
  /** The condition's value. */
  value: Value;
  /** The value of each name the condition read (e.g. `steps.load.rowsOut`: 0). */
  inputs: Record<string, Value>;
}

/**
 * A deciding node's outputs, as data (the builder draws a handle for each): the names of a list in
 * its config (a switch's cases), then fixed ones.
 */
export interface RouteOutputs {
  /** A list field of the config whose items each name an output by `key`. */
  list?: { field: string; key: string };
  outputs: string[];
}

/** The outputs a deciding node's config has. */
export function routesOf(spec: RouteOutputs, config: unknown): string[] {
  const items = spec.list ? (config as Record<string, unknown> | null)?.[spec.list.field] : undefined;
  const listed = Array.isArray(items)
    ? items.flatMap((item) => {
        const name = (item as Record<string, unknown> | null)?.[spec.list!.key];
        return typeof name === 'string' ? [name] : [];
      })
    : [];
  return [...listed, ...spec.outputs];
}

/** What a node's config is checked against at compile time: the ancestors' facts and the params. */
export interface UpstreamScope {
  /** Ancestor node id → the facts its steps offer to conditions. */
  steps: ReadonlyMap<string, Record<string, FactSpec>>;
  params: Readonly<Record<string, ValueType>>;
}

/**
 * Where a connector is about to send a secret's value. A secret bound to hosts (`allowedHosts`)
 * is only handed out for a destination among them.
 */
export type SecretUse =
  /** The value goes to this URL (a header, a query parameter, a body). */
  | { sendTo: string | URL }
  /** The value is itself a connection URL; its host is the destination. */
  | { connectionUrl: true }
  /**
   * The value signs what is sent to this URL and never leaves the worker itself; a host binding
   * holds all the same (a key bound to one receiver signs for no other host).
   */
  | { signFor: string | URL };

export interface SecretResolver {
  /** Resolves a secret of the run's project by name; throws a non-retryable error if unknown or bound elsewhere. */
  resolve(name: string, use: SecretUse): Promise<string>;
}

export interface StepLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface StepContext {
  runId: string;
  project: string;
  pipelineId: string;
  nodeId: string;
  attempt: number;
  /** The warehouse, where staging schemas and published tables live, as the project's role sees it. */
  warehouse: ProjectWarehouse;
  /** This run's staging schema; it exists before any step runs. */
  stagingSchema: string;
  /** The table this step writes its output to (in the staging schema, named after the node). */
  outputTable: TableRef;
  /**
   * Whether this step may consume an input table (move it away instead of copying it): no other
   * step reads it and the run keeps no staging for previews.
   */
  mayConsume(input: string): boolean;
  /**
   * The exact row count of an input this step may consume, as the step that wrote it reported it
   * (its `tableRows`); undefined when it was not reported (then count the table, if you need it).
   */
  knownRows(input: string): number | undefined;
  /** The run's resolved params, by name. */
  params: Record<string, unknown>;
  secrets: SecretResolver;
  /** Resolves a path relative to the project's files directory and refuses anything that escapes it. */
  resolveDataPath(relative: string, field: string): Promise<string>;
  /**
   * Resolves a path the step writes: like resolveDataPath on main; in a branch, inside the branch's
   * own folder (`branches/<branch>/` of the project's files), which is then the root it is checked against.
   */
  resolveOutputPath(relative: string, field: string): Promise<string>;
  /** Where a data product's table is, and which project owns it; undefined when there is no such product. */
  resolveProduct(id: string): Promise<{ project: string; schema: string; table: string } | undefined>;
  /** The stored incremental state of this pipeline + node, if any. */
  loadState(): Promise<unknown>;
  /** The facts of the upstream steps the node `reads` (a deciding node), by node id; empty otherwise. */
  upstream: Record<string, Record<string, Value>>;
  /** fetch behind the egress fence: refuses link-local, loopback and private addresses unless allowed. */
  fetch: typeof fetch;
  /**
   * The egress policy every other socket a step opens must pass (resolveEgress, fencedPgStream):
   * the same allow-list and the platform's own servers as fetch.
   */
  egress: EgressPolicy;
  /** Where Python steps' environments live, how they are sandboxed, and the egress policy their proxy applies. */
  python: PythonHost;
  /** Reports liveness (and optional progress) to Temporal; throws when the run is cancelled. */
  heartbeat(progress?: Record<string, unknown>): void;
  /** Aborted when the run is cancelled or the attempt times out. */
  signal: AbortSignal;
  log: StepLogger;
  /**
   * The operator's parallel COPY setting (TRIBUTARY_COPY_STREAMS): a load of a file of at least
   * `minBytes` may use up to `streams` connections, the extra ones from `warehouse.trySpare()`.
   * Absent or 1 stream: one COPY, as always.
   */
  copyStreams?: { streams: number; minBytes: number };
}

/**
 * What describing a node may use: the project's warehouse role (catalog reads and statements in a
 * transaction that is rolled back), the project's files, the params' defaults. Never secrets nor
 * the network: a node that needs them is described by a run.
 */
export type DescribeContext = Pick<
  StepContext,
  'project' | 'warehouse' | 'resolveDataPath' | 'resolveProduct' | 'params' | 'signal'
>;

/** A field of a config that holds one warehouse query. */
export interface SqlField {
  path: (string | number)[];
  sql: string;
}

/**
 * A dataset outside the pipeline that a node reads or writes, as lineage, the catalog and
 * OpenLineage see it. Two nodes that name the same dataset are stitched together through it.
 */
export interface DatasetRef {
  kind: 'table' | 'file' | 'url' | 'external';
  /**
   * table: `schema.table` (LineageContext.tableName qualifies what a config says); file:
   * `<project>/<path>`; url: the URL; external: `<system>:<connection>/<object>`.
   */
  name: string;
  /** Its columns in order, where the config says them; a warehouse table's come from the catalog. */
  columns?: string[];
  /** Their types where the config says them (`integer`, `text` …), for OpenLineage's schema facet. */
  columnTypes?: Record<string, string>;
}

/** Where a node's output columns come from, for column lineage. */
export type ColumnOrigin =
  /** Each column directly from the one dataset the node reads (a file, a table, an API). */
  | { from: 'read' }
  /** Its first input's columns, unchanged (a gate, a sink). */
  | { from: 'input' }
  /** A query over its inputs (`{{ inputs.x }}`) and warehouse tables, which lineage parses. */
  | { from: 'sql'; sql: string }
  /** Made by the node itself: these columns (with their types where known), computed from no dataset. */
  | { from: 'made'; columns: string[]; columnTypes?: Record<string, string> }
  /**
   * Computed by opaque code (a Python step) from its inputs: each column in `mapping` from the
   * input columns it names (`input.column`), every other column in `columns` from every column of
   * every input.
   */
  | { from: 'code'; columns: string[]; mapping?: Record<string, string[]> };

/** What a node reads and writes outside its pipeline, and where its output's columns come from. */
export interface NodeLineage {
  reads?: DatasetRef[];
  writes?: DatasetRef[];
  columns?: ColumnOrigin;
}

/** What a declaration may use to name the datasets of a config: pure lookups, no I/O. */
export interface LineageContext {
  /** The project whose pipeline holds the node. */
  project: string;
  /** `table` or `schema.table` as the project's steps resolve it; undefined when it is not a table name. */
  tableName(table: string): string | undefined;
  /** The table (`schema.table`) of a data product; undefined when unknown. */
  productTable(id: string): string | undefined;
}

/**
 * The warehouse table a node publishes into, which the editor's data view shows as it is now; or,
 * when the config names none Tributary can read back, the config field at fault and why.
 */
export type TargetTable = { table: string } | { field: string; message: string };

export interface NodeTypeDeclaration<Config extends z.ZodType = z.ZodType> {
  /** Stable dotted id, `<kind>.<name>`. Never renamed: saved pipelines refer to it. */
  type: string;
  kind: NodeKind;
  /** The palette's facts: a title, a sentence, an icon and the category it is listed under. */
  title: string;
  description: string;
  /** A short icon name the UI maps to a glyph. */
  icon: string;
  /** The palette's group within the kind, e.g. "Files", "Databases", "APIs". */
  category: string;
  config: Config;
  /** How many inputs the node takes: sources none, sinks exactly one, transforms one or more. */
  inputs: { min: number; max: number | null };
  /** The secret names a valid config reads, so the compiler and the UI can check they exist. */
  secrets?(config: z.infer<Config>): string[];
  /**
   * Why this config cannot run in a development branch (it would write outside the warehouse, where
   * a branch has no copy of main's data); undefined when it can.
   */
  outsideBranch?(config: z.infer<Config>): string | undefined;
  /**
   * The warehouse SQL a config holds (placeholders included), each with its path in the config, so
   * the builder can have it checked as it is typed. Given the config as written, maybe malformed.
   */
  sqlFields?(config: unknown): SqlField[];
  /**
   * The columns the output would have, found without running the node: a file's header and a
   * sample, a table's catalog, a `LIMIT 0` query over the inputs' columns. Throws (a StepError,
   * or a SqlDescribeError located in the SQL) when it cannot tell; absent: known only from a run.
   */
  describe?(
    ctx: DescribeContext,
    config: z.infer<Config>,
    inputs: Record<string, ColumnInfo[]>,
  ): Promise<ColumnInfo[]>;
  /**
   * Facts this type's steps offer to conditions downstream, besides those every step has (status,
   * rows): e.g. an assertion gate's outcome. A fact's value comes from `StepOutput.facts`, or for a
   * failed step from its StepError's `facts`.
   */
  conditionFacts?: Record<string, FactSpec>;
  /**
   * Makes the node a deciding one: the outputs it routes to. Each of its outgoing edges names one
   * (`output`); the steps behind the outputs it does not take are skipped. A deciding node runs once
   * its inputs have ended however they ended, and passes its one input table through.
   */
  routes?: RouteOutputs;
  /** The upstream steps whose facts a run hands the node (`StepContext.upstream`). */
  reads?(config: z.infer<Config>): string[];
  /**
   * The streams a node reads into tables of their own, which steps downstream name as
   * `{{ inputs.<node>.<stream> }}`; undefined when it has one output table only. Given the config
   * as written, maybe malformed.
   */
  streams?(config: Record<string, unknown>): string[] | undefined;
  /** Checks a valid config against what is known upstream; each problem with its path in the config. */
  checkUpstream?(
    config: z.infer<Config>,
    scope: UpstreamScope,
  ): { path: (string | number)[]; message: string }[];
  /**
   * The datasets a config reads and writes and where its output's columns come from, for lineage,
   * the catalog's consumers and OpenLineage. Given the config as written, maybe malformed: name what
   * can be told, never throw. Absent: the node touches nothing outside its pipeline.
   */
  lineage?(config: Record<string, unknown>, ctx: LineageContext): NodeLineage;
  /**
   * The warehouse table this node publishes into, shown in the editor's data view (GET
   * …/nodes/{nodeId}/target). Given the config as written. Absent: the node has no such table.
   */
  target?(config: Record<string, unknown>, nodeId: string): TargetTable;
  /**
   * A connector whose spec and streams the builder can ask before it ever runs (a package from the
   * index): how its package is written, and the probe that answers. Absent: no such questions.
   */
  probe?: ConnectorProbe;
  run(ctx: StepContext, config: z.infer<Config>, inputs: Record<string, TableRef>): Promise<StepOutput>;
}

/** A config field's value when it is a non-empty string (configs given as written may hold anything). */
export function configString(config: Record<string, unknown>, key: string): string | undefined {
  const value = config[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The column names a config lists in `columns: [{ name }]`, when it lists them. */
export function configColumns(config: Record<string, unknown>): string[] | undefined {
  return Array.isArray(config.columns)
    ? (config.columns as { name?: unknown }[])
        .map((c) => c?.name)
        .filter((n): n is string => typeof n === 'string')
    : undefined;
}

/** `{ columns, columnTypes }` when a config lists its columns (and types), to spread into the dataset it reads. */
export function columnsOf(config: Record<string, unknown>): {
  columns?: string[];
  columnTypes?: Record<string, string>;
} {
  const columns = configColumns(config);
  if (!columns) return {};
  const types = Object.fromEntries(
    (config.columns as { name?: unknown; type?: unknown }[])
      .filter((c) => typeof c?.name === 'string' && typeof c?.type === 'string')
      .map((c) => [c.name as string, c.type as string]),
  );
  return Object.keys(types).length > 0 ? { columns, columnTypes: types } : { columns };
}

/** A file a config reads or writes: its URL when it has one, else its path in the project's files. */
export function fileDataset(config: Record<string, unknown>, project: string): DatasetRef {
  const url = configString(config, 'url');
  return url
    ? { kind: 'url', name: url }
    : { kind: 'file', name: `${project}/${configString(config, 'path') ?? '?'}` };
}

/** Keeps the config type of each declaration while collecting them in one list. */
export function defineNodeType<Config extends z.ZodType>(
  declaration: NodeTypeDeclaration<Config>,
): NodeTypeDeclaration<Config> {
  return declaration;
}
