// The execution plan: a compiled pipeline version plus run params. Pure data, handed to the
// interpreter workflow as its input. The workflow bundle imports this file: no Node built-ins.
import type { Decision } from '@tributary/activities';
import type { ConcurrencyPolicy } from './pipeline.schema.js';

export const PLAN_API_VERSION = 'tributary/plan-v1';

export interface StepRetry {
  maximumAttempts: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maximumIntervalMs: number;
}

export interface PlanStep {
  id: string;
  type: string;
  kind: 'source' | 'transform' | 'sink';
  name: string;
  config: Record<string, unknown>;
  /** Upstream step ids, sorted. */
  dependsOn: string[];
  retry: StepRetry;
  timeoutSeconds: number;
  heartbeatTimeoutSeconds: number;
  /** statement_timeout of the step's warehouse statements. */
  statementTimeoutSeconds: number;
  continueOnFailure: boolean;
  /** A deciding step (flow.if, flow.switch): the outputs it may take. Absent on every other step. */
  routes?: string[];
  /** Dependencies reached through a named output: dependency id → output ("true", "failure", …). */
  after?: Record<string, string>;
  /** The upstream steps whose facts a deciding step is handed. */
  reads?: string[];
}

export interface ExecutionPlan {
  apiVersion: typeof PLAN_API_VERSION;
  pipelineId: string;
  project: string;
  /** The stored version number, when compiled from a saved version. */
  pipelineVersion: number | null;
  /** sha256 of the canonical pipeline document. */
  versionHash: string;
  params: Record<string, string | number | boolean | null>;
  /** Names of params marked sensitive, redacted in audit output. */
  sensitiveParams: string[];
  maxParallel: number;
  concurrency: ConcurrencyPolicy;
  keepStaging: boolean;
  /** Steps in a deterministic topological order. */
  steps: PlanStep[];
  /**
   * The development branch the run is in: its sinks write the branch's schemas and its reads fall
   * through to main's tables it has not written. Absent on main (and in every plan from before).
   */
  branch?: string;
  /**
   * How many steps of the plan's project may run at once across all its runs
   * (TRIBUTARY_PROJECT_MAX_ACTIVITIES); maxParallel is already capped by it. Absent in plans from before.
   */
  projectShare?: number;
  /**
   * Node type → the digest of the config schema its steps' configs were parsed with at compile
   * (configSchemaDigest): a step whose worker has that schema uses its config without parsing it
   * again. Absent in plans from before.
   */
  configSchemas?: Record<string, string>;
}

export type RunStatus = 'running' | 'succeeded' | 'succeeded_with_warnings' | 'failed' | 'cancelled';
export type StepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled'
  /** Not run: a re-run took its kept output from an earlier run (`reusedFrom`). */
  | 'reused';

export interface StepProgress {
  status: StepStatus;
  attempt: number;
  startedAt: string | null;
  endedAt: string | null;
  rowsIn: number | null;
  rowsOut: number | null;
  bytes: number | null;
  error: string | null;
  /** What the step said it did (e.g. "added column x"); absent in runs from before notes were kept. */
  notes?: string[];
  /** The run whose kept output a reused step stands for. */
  reusedFrom?: string;
  /** Why a step was skipped, when a route or a failure output decided it (e.g. "route \"false\" of check not taken"). */
  skippedBecause?: string;
  /** What a deciding step decided. */
  decision?: Decision;
  /** The facts its type declares (e.g. an assertion gate's verdict). */
  facts?: Record<string, string | number | boolean | null>;
  /**
   * Its output table's columns, as the step reported them (types that cannot describe themselves
   * without a run: Python steps, connectors); at most REPORTED_COLUMNS_MAX, `columnsTotal` saying how
   * many there were when more. Metadata only, never rows.
   */
  columns?: { name: string; type: string }[];
  columnsTotal?: number;
}

export interface RunProgress {
  status: RunStatus;
  startedAt: string;
  endedAt: string | null;
  steps: Record<string, StepProgress>;
}

export type TriggerType = 'manual' | 'api' | 'schedule' | 'webhook';

export interface RunTrigger {
  type: TriggerType;
  /** Who started it: a user, a token id, a schedule id or a webhook id. */
  actor: string;
}

/** A step a re-run does not run: the earlier run's kept output stands in for it. */
export interface ReusedStep {
  /** The run that produced the output (for a step that run itself reused: the run before). */
  runId: string;
  /** Its output table, in that run's staging schema; null for a sink (nothing to read). */
  table: { schema: string; table: string } | null;
  /** The statistics the step had when it ran. */
  rowsIn: number | null;
  rowsOut: number | null;
  bytes: number | null;
}

export interface RerunOf {
  /** The run this one re-runs. */
  runId: string;
  /** "failed", or the node id the re-run started from. */
  from: string;
  /** Steps taken from earlier runs, by node id. */
  reused: Record<string, ReusedStep>;
}

export interface InterpreterInput {
  plan: ExecutionPlan;
  trigger: RunTrigger;
  /** The editor ran the pipeline's unpublished draft (based on plan.pipelineVersion). */
  draft?: boolean;
  /** Present when this run re-runs an earlier one. */
  rerun?: RerunOf;
}
