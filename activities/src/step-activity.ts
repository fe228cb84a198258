// What the interpreter workflow sends to a node type's activity and what it gets back: references
// and statistics only. Rows never travel through Temporal payloads.
import type { Value } from './flow/condition.js';
import type { Decision, StepStats, TableRef } from './node-type.js';
import type { ColumnInfo } from './sql.js';

/**
 * At most this many of an output table's columns travel in a step's result, and so in the workflow
 * history and the run's detail: 500 columns are some 20 kB at most, and no editor lists more.
 */
export const REPORTED_COLUMNS_MAX = 500;

export interface StepActivityInput {
  runId: string;
  project: string;
  pipelineId: string;
  nodeId: string;
  type: string;
  config: Record<string, unknown>;
  /**
   * The digest of the config schema that parsed `config` at compile (configSchemaDigest): when it is
   * the declaration's own, the step uses the config without parsing it again. Absent in runs
   * started before plans carried it.
   */
  configSchema?: string;
  /** Upstream node id → its output table. */
  inputs: Record<string, TableRef>;
  params: Record<string, string | number | boolean | null>;
  stagingSchema: string;
  /** statement_timeout of the step's warehouse statements; absent in runs started before it existed. */
  statementTimeoutSeconds?: number;
  /** Upstream node ids whose tables only this step reads and that no preview keeps: it may consume them. */
  exclusiveInputs?: string[];
  /** The development branch the run is in; absent on main. */
  branch?: string;
  /**
   * Exclusive inputs whose producing step reported their exact row count (StepOutput.tableRows):
   * upstream node id → rows. Absent in runs started before it existed, and when there is none.
   */
  inputRows?: Record<string, number>;
  /** A deciding step's view of the upstream steps it reads: node id → facts. Absent for other steps. */
  upstream?: Record<string, Record<string, Value>>;
}

export interface StepActivityResult {
  table: TableRef | null;
  stats: StepStats;
  pendingState: unknown;
  notes: string[];
  /** Which attempt produced this result (1 unless retried). */
  attempt: number;
  /** The exact number of rows in `table`, when the step knew it without a scan (see StepOutput). */
  tableRows?: number;
  /** The facts the type declares (only from types that declare some). */
  facts?: Record<string, Value>;
  /** What a deciding step decided. */
  decision?: Decision;
  /**
   * The output table's columns (names and Postgres types; never rows), in order, from the types that
   * cannot tell them without running (no `describe`: Python steps, connectors): the first
   * REPORTED_COLUMNS_MAX of them. Absent for other types, sinks, and results from before it existed.
   */
  columns?: ColumnInfo[];
  /** How many columns the table has, when it has more than `columns` lists. */
  columnsTotal?: number;
}

/** Carried in every step failure's details, so the workflow can show the attempt that failed. */
export interface StepFailureDetails {
  attempt: number;
  nodeId: string;
  /** The declared facts a failed step still knows (e.g. an assertion gate that failed). */
  facts?: Record<string, Value>;
}
