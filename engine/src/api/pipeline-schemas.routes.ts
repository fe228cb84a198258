// The columns of each node's output, for the builder's editor: from a run that knew them, else
// inferred under the project's warehouse role, else unknown with the reason. The use case is in
// pipelines/output-schemas.ts; this file parses, authorises and shapes the answer.
import { z } from 'zod';
import { PipelineSchema } from '../model/pipeline.schema.js';
import { documentSchemas } from '../pipelines/output-schemas.js';
import { readSinkTarget, SINK_TARGET_MAX_ROWS } from '../pipelines/sink-target.js';
import { loadPipeline, requireSamePipeline } from './pipeline-input.js';
import { HttpProblem } from './problem.js';
import { route } from './route.js';
import { PipelineIdParams } from './schemas.js';

const ColumnSchema = z.object({
  name: z.string(),
  type: z
    .string()
    .meta({ description: 'The Postgres type, as format_type writes it (bigint, text, numeric(12,2), …)' }),
});

const SinkTargetSchema = z.object({
  nodeId: z.string(),
  table: z.string().meta({ description: 'schema.table as the sink resolves it' }),
  exists: z.boolean().meta({ description: 'false before the first run that publishes it' }),
  rowCount: z.number().int().nullable(),
  columns: z.array(ColumnSchema),
  rows: z
    .array(z.record(z.string(), z.string().nullable()))
    .meta({ description: 'A sample, values as Postgres writes them as text' }),
});

export const NodeSchemaSchema = z.object({
  columns: z.array(ColumnSchema).nullable().meta({ description: 'In output order; null when unknown' }),
  source: z.enum(['run', 'inferred', 'unknown']).meta({
    description:
      'run: the table a run kept, or the columns its step reported (runId), for a node and everything ' +
      'upstream of it unchanged since; inferred: found ' +
      'without running (a file header and sample, a table in the warehouse catalog, a LIMIT 0 query over ' +
      "the inputs' columns); unknown: see message",
  }),
  runId: z.string().optional(),
  message: z
    .string()
    .optional()
    .meta({ description: 'Why the columns are unknown; or that the run reported only the first 500' }),
});

export const pipelineSchemaRoutes = [
  route({
    method: 'post',
    path: '/pipelines/:id/schemas',
    operationId: 'pipelineSchemas',
    summary: "The columns of each node's output, for a document being edited",
    description:
      "The body is the editor's current document of this pipeline (same id and project). Nothing is run " +
      "or written: describing happens under the project's warehouse role and in its own files folder, and " +
      'never reads a secret (a node that needs one is known only from a run).',
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams,
    body: PipelineSchema,
    responses: {
      200: {
        description: 'Per node id, its columns and where they come from',
        schema: z.object({ nodes: z.record(z.string(), NodeSchemaSchema) }),
      },
    },
    async handler({ deps, params, body, authorize, res }) {
      const stored = await loadPipeline(deps, params.id, authorize);
      requireSamePipeline(body, stored);
      res.json({ nodes: await documentSchemas(deps, body, stored.id) });
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id/nodes/:nodeId/target',
    operationId: 'sinkTarget',
    summary: "What a Postgres sink's target table holds now: row count, columns and a sample",
    description:
      "Read under the project's warehouse role, as a run of the pipeline would read it: another " +
      "project's table that was not shared is a 403 naming its owner. `draft=true` reads the node as " +
      "the pipeline's draft has it (the published version's when there is no draft).",
    tag: 'pipelines',
    scope: 'read',
    params: PipelineIdParams.extend({ nodeId: z.string().min(1).max(200) }),
    query: z.object({
      draft: z.enum(['true', 'false']).optional(),
      limit: z.coerce.number().int().min(0).max(SINK_TARGET_MAX_ROWS).default(20),
    }),
    responses: { 200: { description: 'The target table now', schema: SinkTargetSchema } },
    problems: [403, 503],
    async handler({ deps, params, query, authorize, res }) {
      const stored = await loadPipeline(deps, params.id, authorize);
      if (!deps.describe) {
        throw new HttpProblem(503, 'Service Unavailable', 'This server has no warehouse runner connection');
      }
      const draft = query.draft === 'true' ? await deps.drafts.get(stored.id) : undefined;
      const document = draft?.document ?? stored.current.document;
      res.json(await readSinkTarget(deps.describe, deps.catalog, document, params.nodeId, query.limit));
    },
  }),
];
