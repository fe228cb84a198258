// Zod schemas shared by several routes: the problem body, compile errors, run views, pagination.
// They feed both validation and the OpenAPI document.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';

export const ProblemDetailSchema = z.object({
  in: z.enum(['params', 'query', 'body', 'header']).optional(),
  path: z.string().optional(),
  message: z.string(),
  code: z.string().optional(),
  nodeId: z.string().optional(),
  edgeId: z.string().optional(),
});

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(ProblemDetailSchema).optional(),
  })
  .meta({ description: 'RFC 9457 problem details' });

export const CompileErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  nodeId: z.string().optional(),
  edgeId: z.string().optional(),
  path: z.string().optional(),
  line: z.number().int().min(1).optional().meta({ description: '1-based line in the SQL text at `path`' }),
  column: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: '1-based column in that line (UTF-16 code units, as in a JavaScript string)' }),
});

export const ValiditySchema = z.object({
  valid: z.boolean(),
  errors: z.array(CompileErrorSchema),
  notes: z.array(z.string()).optional().meta({
    description: "What is not checked yet and when it will be (a connector's config, once its spec is known)",
  }),
});

export const PipelineIdParams = z.object({ id: slug });
export const ProjectParams = z.object({ project: slug });
export const RunIdParams = z.object({ runId: z.string().min(1).max(300) });

export const pageLimit = z.coerce.number().int().min(1).max(200).default(50);
export const cursor = z.string().max(500).optional().meta({ description: 'nextCursor of the previous page' });
/** Runs page by start time: their cursor is a timestamp, checked here rather than by Temporal (a 500). */
export const runsCursor = z.iso
  .datetime({ offset: true, error: 'must be the nextCursor of the previous page (an ISO timestamp)' })
  // Offsets past ±14:00 exist nowhere, and Postgres refuses them (run records are read there too).
  .refine((value) => /(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)$/i.test(value), {
    error: 'must be the nextCursor of the previous page (an ISO timestamp with an offset within ±14:00)',
  })
  .optional()
  .meta({ description: 'nextCursor of the previous page' });
/** Versions are Postgres integers: a larger number is refused here, not by the database (a 500). */
export const versionNumberMax = 2_147_483_647;

/**
 * Every list answers with one envelope; `nextCursor` is null on the last page (and always on lists
 * that are not paged), so a client reads every list the same way.
 */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const ParamValues = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .meta({ description: "Run params by name; each must be one of the pipeline's declared params" });

export const RunLinksSchema = z.object({ self: z.string(), events: z.string(), cancel: z.string() });

export const RUN_STATUSES = [
  'running',
  'succeeded',
  'succeeded_with_warnings',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
] as const;

export const RunStartedSchema = z.object({
  runId: z.string(),
  status: z.enum(RUN_STATUSES),
  created: z.boolean().meta({ description: 'false when an Idempotency-Key named an existing run' }),
  pipelineId: z.string(),
  pipelineVersion: z.number().int(),
  branch: z.string().nullable().optional().meta({ description: 'The development branch it runs in' }),
  draft: z.boolean().meta({ description: "A run of the pipeline's draft (pipelineVersion is its base)" }),
  draftSavedAt: z
    .string()
    .nullable()
    .optional()
    .meta({ description: 'A draft run: when the draft it ran was last saved' }),
  links: RunLinksSchema,
});

export const StepProgressSchema = z.object({
  status: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'reused']),
  attempt: z.number().int(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  rowsIn: z.number().nullable(),
  rowsOut: z.number().nullable(),
  bytes: z.number().nullable(),
  error: z.string().nullable(),
  /** What the step said it did (e.g. "added column x"); absent in runs from before notes were kept. */
  notes: z.array(z.string()).optional(),
  reusedFrom: z
    .string()
    .optional()
    .meta({ description: 'A reused step: the run whose kept output this run used instead of running it' }),
  skippedBecause: z
    .string()
    .optional()
    .meta({ description: 'Why a route or a failure output left the step out (routed pipelines only)' }),
  decision: z
    .object({
      taken: z.string(),
      condition: z.string().nullable(),
      value: z.union([z.string(), z.number(), z.boolean()]).nullable(),
      inputs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).nullable()),
    })
    .optional()
    .meta({
      description: 'A deciding step (flow.if, flow.switch): the output taken and the condition that chose it',
    }),
  facts: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).nullable())
    .optional()
    .meta({ description: "Facts the step's type offers to conditions (e.g. an assertion gate's verdict)" }),
  columns: z
    .array(z.object({ name: z.string(), type: z.string() }))
    .optional()
    .meta({
      description:
        "Its output table's columns (name, Postgres type; never rows), reported by the types that cannot " +
        'tell them without a run (Python steps, connectors); at most 500',
    }),
  columnsTotal: z
    .number()
    .int()
    .optional()
    .meta({ description: 'How many columns the output had, when more than `columns` lists (500)' }),
});

export const RunSummarySchema = z.object({
  runId: z.string(),
  project: z.string(),
  pipelineId: z.string(),
  pipelineVersion: z.number().int(),
  status: z.enum(RUN_STATUSES),
  trigger: z.object({ type: z.enum(['manual', 'api', 'schedule', 'webhook']), actor: z.string() }),
  branch: z.string().nullable().meta({ description: 'The development branch the run was in; null on main' }),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  draft: z.boolean().meta({ description: "A run of the pipeline's draft, not of a published version" }),
  draftSavedAt: z
    .string()
    .nullable()
    .meta({ description: 'A draft run: when the draft it ran was last saved (null otherwise)' }),
  rerunOf: z.string().nullable().meta({ description: 'The run this one re-runs, if it is a re-run' }),
  links: RunLinksSchema,
});

/** A run as the list shows it: what visibility knows, plus its pipeline's name and what failed. */
export const RunListItemSchema = RunSummarySchema.extend({
  pipelineName: z.string().nullable().meta({ description: "The pipeline's name (null if it is unknown)" }),
  failedSteps: z.array(z.string()).meta({ description: 'The steps that failed (failed runs only)' }),
  errorExcerpt: z
    .string()
    .nullable()
    .meta({ description: "The start of the first failed step's error (sensitive params redacted)" }),
});

export const RunDetailSchema = RunSummarySchema.extend({
  params: z.record(z.string(), z.unknown()),
  steps: z.record(z.string(), StepProgressSchema),
});

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional()
    .meta({ description: 'Repeating a request with the same key returns the same run' }),
});
