// What the interpreter workflow sends to a node type's activity and what it gets back: references
// and statistics only. Rows never travel through Temporal payloads.
import type { StepStats, TableRef } from './node-type.js';

export interface StepActivityInput {
  runId: string;
  project: string;
  pipelineId: string;
  nodeId: string;
  type: string;
  config: Record<string, unknown>;
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
}

/** Carried in every step failure's details, so the workflow can show the attempt that failed. */
export interface StepFailureDetails {
  attempt: number;
  nodeId: string;
}
