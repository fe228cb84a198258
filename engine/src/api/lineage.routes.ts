// Lineage: the graph of datasets and steps around a table (and its columns), and a run as
// OpenLineage events. Like the catalogue, lineage is open to any reader: it names tables, columns
// and pipelines, never rows.
import { z } from 'zod';
import { buildLineage, queryLineage } from '../lineage/lineage-graph.js';
import { loadCatalog, organisationLineage } from '../lineage/lineage-service.js';
import { runEvents } from '../lineage/openlineage.js';
import { route } from './route.js';

const TableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}\.[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be schema.table');

const LineageNodeSchema = z.object({
  id: z.string(),
  kind: z.enum(['table', 'file', 'url', 'external', 'step']),
  name: z.string(),
  project: z.string().optional(),
  pipelineId: z.string().optional(),
  nodeId: z.string().optional(),
  type: z.string().optional(),
  columns: z.array(z.string()).optional(),
});
const ColumnEntrySchema = z.object({
  table: z.string(),
  column: z.string(),
  sources: z.array(
    z.object({ table: z.string(), column: z.string(), transformation: z.enum(['direct', 'derived']) }),
  ),
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
      depth: z.coerce.number().int().min(1).max(20).default(3),
    }),
    responses: {
      200: {
        description: 'The lineage graph',
        schema: z.object({
          nodes: z.array(LineageNodeSchema),
          edges: z.array(z.object({ from: z.string(), to: z.string() })),
          columns: z.array(ColumnEntrySchema),
          problems: z.array(z.string()),
        }),
      },
    },
    async handler({ deps, query, authorize, res }) {
      authorize(undefined);
      const graph = await organisationLineage(deps.pool, deps.warehousePool, deps.catalog);
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
      const version = await deps.pipelines.requireVersion(run.pipelineId, Number(run.pipelineVersion));
      const pipeline = {
        id: run.pipelineId,
        project: run.project,
        nodes: version.document.nodes,
        edges: version.document.edges ?? [],
      };
      const catalog = await loadCatalog(deps.pool, deps.warehousePool);
      // The other pipelines are not needed to say what this one read and wrote.
      const graph = await buildLineage([pipeline], catalog, deps.catalog);
      const executionRunId = await deps.runs.executionIdOf(params.runId);
      const warehouse = new URL(
        deps.warehousePool.options.connectionString ?? 'postgres://localhost/postgres',
      );
      const failed = Object.values(run.progress?.steps ?? {}).find((s) => s.error);
      res.json({
        events: runEvents(
          {
            uuid: executionRunId,
            project: run.project,
            pipelineId: run.pipelineId,
            status: run.status,
            startedAt: run.startedAt,
            endedAt: run.endedAt,
            error: failed?.error ?? null,
          },
          pipeline,
          graph,
          catalog,
          {
            warehouse: {
              namespace: `postgres://${warehouse.hostname}:${warehouse.port || 5432}`,
              database: decodeURIComponent(warehouse.pathname.slice(1)),
            },
          },
        ),
      });
    },
  }),
];
