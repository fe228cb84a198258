// The pipeline document as the editor models it (the engine's PipelineSchema, with its defaults
// optional). API responses are typed in api/types.ts, from the generated OpenAPI schema.

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
  /** How a string field is edited, as the connector declares it. */
  'x-widget'?: 'secret' | 'sql' | 'python' | 'path' | 'cron';
  /** The value a node added in the builder starts with (`default` is what an omitted field means). */
  'x-initial'?: unknown;
  /** A warning to show while an enum field holds that option (or holds nothing and defaults to it). */
  'x-option-notes'?: Record<string, string>;
};
