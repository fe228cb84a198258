// Lineage: the graph of datasets and steps around a table (and its columns), and a run as
// OpenLineage events. Like the catalogue, lineage is open to any reader: it names tables, columns
// and pipelines, never rows.
import { z } from 'zod';
import { buildLineage, graphView, queryLineage } from '../lineage/lineage-graph.js';
import { loadCatalog, runOpenLineageEvents } from '../lineage/lineage-service.js';
import { observedColumns } from '../lineage/observed-columns.js';
import { PipelineIdParams } from './schemas.js';
import { route } from './route.js';

const TableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}\.[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be schema.table');

const LineageNodeSchema = z.object({
  id: z.string(),
  kind: z.enum(['table', 'file', 'url', 'external', 'generated', 'step']),
  name: z.string(),
  project: z.string().optional(),
  pipelineId: z.string().optional(),
  nodeId: z.string().optional(),
  type: z.string().optional(),
  columns: z.array(z.string()).optional(),
  /** A file's, URL's or API's column types, as its connector's config declares them. */
  columnTypes: z.record(z.string(), z.string()).optional(),
});
const ColumnEntrySchema = z.object({
  table: z.string(),
  column: z.string(),
  /** What the column's value is made of (OpenLineage DIRECT: IDENTITY, TRANSFORMATION, AGGREGATION). */
  sources: z.array(
    z.object({
      table: z.string(),
      column: z.string(),
      transformation: z.enum(['direct', 'derived', 'aggregation']),
    }),
  ),
  /** What decides its value or its rows without being part of it (OpenLineage INDIRECT). */
  indirect: z.array(
    z.object({
      table: z.string(),
      column: z.string(),
      subtype: z.enum(['JOIN', 'FILTER', 'GROUP_BY', 'SORT', 'WINDOW', 'CONDITIONAL']),
    }),
  ),
});

const LineageGraphSchema = z.object({
  nodes: z.array(LineageNodeSchema),
  edges: z.array(z.object({ from: z.string(), to: z.string() })),
  columns: z.array(ColumnEntrySchema),
  problems: z.array(z.string()),
});

export const lineageRoutes = [
  route({
    method: 'get',
    path: '/lineage',
    operationId: 'getLineage',
    summary: 'Tables, steps and column lineage around a table, across pipelines and projects',
    tag: 'lineage',
    scope: 'read',
    query: z.object({
      table: TableName,
      column: z.string().min(1).max(63).optional(),
      direction: z.enum(['up', 'down', 'both']).default('both'),
      /** How many datasets away to go; the steps between two datasets do not count. */
      depth: z.coerce.number().int().min(1).max(20).default(3),
    }),
    responses: { 200: { description: 'The lineage graph', schema: LineageGraphSchema } },
    async handler({ deps, query, authorize, res }) {
      authorize(undefined);
      const graph = await deps.lineage.graph();
      res.json(
        queryLineage(graph, {
          table: query.table,
          direction: query.direction,
          depth: query.depth,
          ...(query.column ? { column: query.column } : {}),
        }),
      );
    },
  }),
  route({
    method: 'get',
    path: '/pipelines/:id/lineage',
    operationId: 'getPipelineLineage',
    summary:
      "One pipeline's lineage: the datasets its current version reads and writes, its steps, and every column's sources",
    description:
      'Files, URLs, API streams, external tables and generated rows are datasets with the columns their ' +
      "connectors' configs declare, else those the last kept run of the step or the file itself (a CSV's header) " +
      "shows, so a column's sources reach the first dataset. `problems` says what SQL could not be followed.",
    tag: 'lineage',
    scope: 'read',
    params: PipelineIdParams,
    responses: { 200: { description: "The pipeline's lineage graph", schema: LineageGraphSchema } },
    async handler({ deps, params, authorize, res }) {
      const pipeline = await deps.pipelines.require(params.id);
      authorize(pipeline.project);
      const version = await deps.pipelines.requireVersion(pipeline.id, pipeline.version);
      const graph = await buildLineage(
        [
          {
            id: pipeline.id,
            project: pipeline.project,
            nodes: version.document.nodes,
            edges: version.document.edges ?? [],
            // A CSV with only a header, an API's records: their columns as a run or the file shows them.
            observed: await observedColumns(deps, version.document, pipeline.id),
          },
        ],
        await loadCatalog(deps.pool, deps.warehousePool),
        deps.catalog,
      );
      res.json(graphView(graph));
    },
  }),
  route({
    method: 'get',
    path: '/runs/:runId/openlineage',
    operationId: 'getRunOpenLineage',
    summary: 'A run as OpenLineage run events (START, then COMPLETE, FAIL or ABORT)',
    tag: 'lineage',
    scope: 'read',
    params: z.object({ runId: z.string().min(1).max(300) }),
    responses: {
      200: {
        description: 'The events, in order',
        schema: z.object({ events: z.array(z.record(z.string(), z.unknown())) }),
      },
    },
    async handler({ deps, params, authorize, res }) {
      const run = await deps.runs.get(params.runId);
      authorize(run.project);
      // A run's version must exist (a 404 names it when it does not).
      await deps.pipelines.requireVersion(run.pipelineId, Number(run.pipelineVersion));
      const found = await runOpenLineageEvents(
        {
          platform: deps.pool,
          warehouse: deps.warehousePool,
          runs: deps.runs,
          nodeTypes: deps.catalog,
          observe: (document) => observedColumns(deps, document, document.id),
        },
        params.runId,
      );
      res.json({ events: found?.events ?? [] });
    },
  }),
];
