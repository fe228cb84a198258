// The pipeline document as the editor models it, from the generated contract (api/schema.gen.ts,
// made by `npm run api:types` from the engine's route table), and the JSON Schema of a config.

import type { Body } from '../api/types.ts';

export type NodeKind = 'source' | 'transform' | 'sink';

/**
 * The pipeline document exactly as the API takes it (the engine's PipelineSchema, from the generated
 * contract), so a field the engine adds reaches the editor, and its save, without a hand-written copy.
 */
export type PipelineDocument = Body<'savePipeline'>;
export type PipelineNodeDoc = PipelineDocument['nodes'][number];
export type PipelineEdgeDoc = NonNullable<PipelineDocument['edges']>[number];
export type PipelineSettings = NonNullable<PipelineDocument['settings']>;
export type Concurrency = NonNullable<PipelineSettings['concurrency']>;
export type ParamSpec = NonNullable<PipelineDocument['params']>[string];
export type ParamType = ParamSpec['type'];
export type RetrySpec = NonNullable<PipelineNodeDoc['retry']>;
/** A notification rule of the document (engine/src/model/notifications.schema.ts). */
export type NotificationRuleDoc = NonNullable<
  NonNullable<PipelineDocument['notifications']>['rules']
>[number];

export const PARAM_TYPES: readonly ParamType[] = [
  'string',
  'number',
  'integer',
  'boolean',
  'date',
  'timestamp',
];

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
  'x-widget'?: 'secret' | 'sql' | 'python' | 'path' | 'cron' | 'table' | 'product';
  /** The value a node added in the builder starts with (`default` is what an omitted field means). */
  'x-initial'?: unknown;
  /** A warning to show while an enum field holds that option (or holds nothing and defaults to it). */
  'x-option-notes'?: Record<string, string>;
};
