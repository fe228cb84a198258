// The contract every connector and transform implements: one declaration per node type, with its
// config schema as data (served to the UI as JSON Schema) and a `run` that moves data from
// warehouse table to warehouse table. Nothing here may import the engine: the engine imports us.
import type { z } from 'zod';
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
  /** The value never leaves the worker (e.g. a signing key). */
  | { local: true };

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
  /** The run's resolved params, by name. */
  params: Record<string, unknown>;
  secrets: SecretResolver;
  /** Resolves a path relative to the project's files directory and refuses anything that escapes it. */
  resolveDataPath(relative: string, field: string): Promise<string>;
  /** Where a data product's table is, and which project owns it; undefined when there is no such product. */
  resolveProduct(id: string): Promise<{ project: string; schema: string; table: string } | undefined>;
  /** The stored incremental state of this pipeline + node, if any. */
  loadState(): Promise<unknown>;
  /** fetch behind the egress fence: refuses link-local, loopback and private addresses unless allowed. */
  fetch: typeof fetch;
  /** Where Python steps' environments live, how they are sandboxed, and the egress policy their proxy applies. */
  python: PythonHost;
  /** Reports liveness (and optional progress) to Temporal; throws when the run is cancelled. */
  heartbeat(progress?: Record<string, unknown>): void;
  /** Aborted when the run is cancelled or the attempt times out. */
  signal: AbortSignal;
  log: StepLogger;
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

export interface NodeTypeDeclaration<Config extends z.ZodType = z.ZodType> {
  /** Stable dotted id, e.g. `source.csv`. Never renamed: saved pipelines refer to it. */
  type: string;
  kind: NodeKind;
  title: string;
  description: string;
  /** A short icon name the UI maps to a glyph. */
  icon: string;
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
  run(ctx: StepContext, config: z.infer<Config>, inputs: Record<string, TableRef>): Promise<StepOutput>;
}

/** Keeps the config type of each declaration while collecting them in one list. */
export function defineNodeType<Config extends z.ZodType>(
  declaration: NodeTypeDeclaration<Config>,
): NodeTypeDeclaration<Config> {
  return declaration;
}
