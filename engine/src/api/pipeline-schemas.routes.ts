// The columns of each node's output, for the builder's editor: from a run that kept them, else
// inferred under the project's warehouse role, else unknown with the reason. The use case is in
// pipelines/output-schemas.ts; this file parses, authorises and shapes the answer.
import { z } from 'zod';
import { PipelineSchema } from '../model/pipeline.schema.js';
import { documentSchemas } from '../pipelines/output-schemas.js';
import { loadPipeline } from './pipeline-input.js';
import { badRequest } from './problem.js';
import { route } from './route.js';
import { PipelineIdParams } from './schemas.js';

const ColumnSchema = z.object({
  name: z.string(),
  type: z
    .string()
    .meta({ description: 'The Postgres type, as format_type writes it (bigint, text, numeric(12,2), …)' }),
});

export const NodeSchemaSchema = z.object({
  columns: z.array(ColumnSchema).nullable().meta({ description: 'In output order; null when unknown' }),
  source: z.enum(['run', 'inferred', 'unknown']).meta({
    description:
      'run: the table a run kept (runId), for a node and inputs unchanged since; inferred: found ' +
      'without running (a file header and sample, a table in the warehouse catalog, a LIMIT 0 query over ' +
      "the inputs' columns); unknown: see message",
  }),
  runId: z.string().optional(),
  message: z.string().optional().meta({ description: 'Why the columns are unknown' }),
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
      'never reads a secret (a node that needs one is known only from a run that kept its output).',
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
      const mismatch = (path: 'id' | 'project', message: string) =>
        badRequest(message, [{ in: 'body', path, message }]);
      if (body.id !== stored.id) {
        throw mismatch('id', `id: "${body.id}" is not this pipeline; send the document of "${stored.id}"`);
      }
      if (body.project !== stored.project) {
        throw mismatch(
          'project',
          `project: "${body.project}" is not the project of pipeline "${stored.id}" ("${stored.project}")`,
        );
      }
      res.json({ nodes: await documentSchemas(deps, body, stored.id) });
    },
  }),
];
