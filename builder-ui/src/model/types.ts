// The engine's shapes as the UI sees them over HTTP: the pipeline document, node types, runs.
// Declared here rather than imported so the bundle never pulls in engine code.

export type NodeKind = 'source' | 'transform' | 'sink';
export type ParamType = 'string' | 'number' | 'integer' | 'boolean' | 'date' | 'timestamp';
export const PARAM_TYPES: readonly ParamType[] = [
  'string',
  'number',
  'integer',
  'boolean',
  'date',
  'timestamp',
];

export interface ParamSpec {
  type: ParamType;
  description?: string;
  default?: string | number | boolean;
  required?: boolean;
  sensitive?: boolean;
}

export interface RetrySpec {
  maxAttempts?: number;
  initialIntervalSeconds?: number;
  backoffCoefficient?: number;
  maxIntervalSeconds?: number;
}

export interface PipelineNodeDoc {
  id: string;
  type: string;
  name?: string;
  description?: string;
  config: Record<string, unknown>;
  position?: { x: number; y: number };
  disabled?: boolean;
  retry?: RetrySpec;
  timeoutSeconds?: number;
  continueOnFailure?: boolean;
}

export interface PipelineEdgeDoc {
  id?: string;
  from: string;
  to: string;
}

export type Concurrency = 'allow' | 'queue' | 'skip';

export interface PipelineSettings {
  maxParallel?: number;
  concurrency?: Concurrency;
  keepStaging?: boolean;
}

export interface PipelineDocument {
  apiVersion: 'tributary/v1';
  id: string;
  name: string;
  project?: string;
  description?: string;
  params?: Record<string, ParamSpec>;
  settings?: PipelineSettings;
  nodes: PipelineNodeDoc[];
  edges?: PipelineEdgeDoc[];
}

/** Everything of a document but its graph. */
export type PipelineMeta = Omit<PipelineDocument, 'nodes' | 'edges'>;

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  format?: string;
  pattern?: string;
  examples?: unknown[];
};

export interface Connector {
  type: string;
  kind: NodeKind;
  title: string;
  description: string;
  icon: string;
  inputs: { min: number; max: number | null };
  config: JsonSchema;
}

export interface CompileError {
  code: string;
  message: string;
  nodeId?: string;
  edgeId?: string;
  path?: string;
}

export interface Validity {
  valid: boolean;
  errors: CompileError[];
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';
export type RunStatus =
  'running' | 'succeeded' | 'succeeded_with_warnings' | 'failed' | 'cancelled' | 'terminated' | 'timed_out';

export interface StepProgress {
  status: StepStatus;
  attempt: number;
  startedAt: string | null;
  endedAt: string | null;
  rowsIn: number | null;
  rowsOut: number | null;
  bytes: number | null;
  error: string | null;
}

export interface RunSummary {
  runId: string;
  project: string;
  pipelineId: string;
  pipelineVersion: string | number;
  status: RunStatus;
  trigger: { type: string; actor: string };
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
}

export interface RunDetail extends RunSummary {
  params: Record<string, unknown>;
  steps: Record<string, StepProgress>;
}

export interface PipelineSummary {
  id: string;
  project: string;
  name: string;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface PipelineView extends PipelineSummary {
  versionHash: string;
  versionCreatedBy: string;
  versionCreatedAt: string;
  valid: boolean;
  errors: CompileError[];
  document: PipelineDocument;
}

export const isFinished = (status: RunStatus | undefined): boolean => !!status && status !== 'running';
