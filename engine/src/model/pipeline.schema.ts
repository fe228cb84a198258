// The pipeline document: what the builder saves and the API stores, one immutable version per
// save. Pure zod, no I/O; the JSON Schema the API serves is generated from it.
import { z } from 'zod';
import { PipelineNotificationsSchema } from './notifications.schema.js';

export const SLUG = /^[a-z][a-z0-9_-]{0,62}$/;
export const slug = z
  .string()
  .regex(
    SLUG,
    'must be a slug: lowercase letters, digits, "-" or "_", starting with a letter, at most 63 chars',
  );

export const PARAM_TYPES = ['string', 'number', 'integer', 'boolean', 'date', 'timestamp'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export const ParamSpecSchema = z
  .object({
    type: z.enum(PARAM_TYPES),
    description: z.string().optional(),
    default: z.union([z.string(), z.number(), z.boolean()]).optional(),
    required: z.boolean().optional(),
    /** A secret-like param is redacted in audit output. */
    sensitive: z.boolean().optional(),
  })
  .strict();
export type ParamSpec = z.infer<typeof ParamSpecSchema>;

/**
 * How deep a node's config may nest. Documents come through the API's body limit (64 levels), but
 * also from files (the CLI) and stored versions: every walk over a config (canonical JSON, the
 * compiler) may then assume a bounded depth.
 */
export const MAX_CONFIG_DEPTH = 32;

/** The path (below the config) of the first value nested deeper than `max`, or null. Iterative. */
export function tooDeep(value: unknown, max: number): (string | number)[] | null {
  const stack: { value: unknown; depth: number; path: (string | number)[] }[] = [
    { value, depth: 0, path: [] },
  ];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (!item.value || typeof item.value !== 'object') continue;
    if (item.depth >= max) return item.path;
    for (const [key, child] of Object.entries(item.value)) {
      if (child && typeof child === 'object') {
        stack.push({
          value: child,
          depth: item.depth + 1,
          path: [...item.path, Array.isArray(item.value) ? Number(key) : key],
        });
      }
    }
  }
  return null;
}

export const RetrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(100).optional(),
    initialIntervalSeconds: z.number().positive().max(3600).optional(),
    backoffCoefficient: z.number().min(1).max(10).optional(),
    maxIntervalSeconds: z.number().positive().max(86_400).optional(),
  })
  .strict();

export const NodeSchema = z
  .object({
    id: slug,
    type: z.string().regex(/^[a-z]+(\.[a-z0-9_-]+)+$/, 'must be a dotted node type, "<kind>.<name>"'),
    name: z.string().max(200).optional(),
    description: z.string().max(2000).optional(),
    config: z
      .record(z.string(), z.unknown())
      .superRefine((config, issues) => {
        const path = tooDeep(config, MAX_CONFIG_DEPTH);
        if (path) {
          issues.addIssue({ code: 'custom', path, message: `nests deeper than ${MAX_CONFIG_DEPTH} levels` });
        }
      })
      .default({}),
    position: z.object({ x: z.number(), y: z.number() }).optional(),
    disabled: z.boolean().optional(),
    retry: RetrySchema.optional(),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional(),
    /** statement_timeout of each warehouse statement the step runs (default 900 s). */
    statementTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 3600)
      .optional(),
    continueOnFailure: z.boolean().optional(),
  })
  .strict();
export type PipelineNode = z.infer<typeof NodeSchema>;

export const EdgeSchema = z
  .object({
    id: z.string().optional(),
    from: z.string(),
    to: z.string(),
    /**
     * Which output of `from` the edge leaves: a route of a deciding node (flow.if's "true"/"false", a
     * flow.switch case), or "failure" on any node, taken only when that step failed after its retries.
     */
    output: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be an output name such as "true", "false" or "failure"')
      .optional(),
  })
  .strict();

/** The output every node has: its edges are followed only when the step failed (after retries). */
export const FAILURE_OUTPUT = 'failure';
export type PipelineEdge = z.infer<typeof EdgeSchema>;

export const CONCURRENCY_POLICIES = ['allow', 'queue', 'skip'] as const;
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

export const SettingsSchema = z
  .object({
    maxParallel: z.number().int().min(1).max(64).default(4),
    concurrency: z.enum(CONCURRENCY_POLICIES).default('allow'),
    /** Keep the run's staging tables for previews (dropped after a TTL). */
    keepStaging: z.boolean().default(false),
  })
  .strict();

export const PipelineSchema = z
  .object({
    apiVersion: z.literal('tributary/v1'),
    id: slug,
    name: z.string().min(1).max(200),
    project: slug.default('default'),
    description: z.string().max(5000).optional(),
    params: z
      .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be an identifier'), ParamSpecSchema)
      .default({}),
    settings: SettingsSchema.default({ maxParallel: 4, concurrency: 'allow', keepStaging: false }),
    nodes: z.array(NodeSchema).max(2000),
    edges: z.array(EdgeSchema).max(10_000).default([]),
    /** Who hears about this pipeline's runs (carried by `tributary pull/push` with the rest). */
    notifications: PipelineNotificationsSchema.optional(),
  })
  .strict();

/** A pipeline document after defaults are applied. */
export type Pipeline = z.infer<typeof PipelineSchema>;
/** A pipeline document as a user writes it (defaults optional). */
export type PipelineInput = z.input<typeof PipelineSchema>;

export function pipelineJsonSchema(): unknown {
  return z.toJSONSchema(PipelineSchema, { io: 'input' });
}

/** An edge's stable id: its own, or derived from its ends. */
export const edgeId = (edge: PipelineEdge): string => edge.id ?? `${edge.from}->${edge.to}`;
