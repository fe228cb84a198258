// Loads what lineage is built from: the current version of every pipeline (lineage is stitched
// across projects), data products' tables, and the columns of every warehouse table.
import type pg from 'pg';
import type { RunsClient } from '../client/runs.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import {
  buildLineage,
  type LineageCatalog,
  type LineageGraph,
  type LineageNodeTypes,
  type PipelineForLineage,
} from './lineage-graph.js';
import { runEvents, type Namespaces } from './openlineage.js';

export async function loadCatalog(platform: pg.Pool, warehouse: pg.Pool): Promise<LineageCatalog> {
  return (await loadCatalogRows(platform, warehouse)).catalog;
}

/** The catalog and the rows it was made of (the lineage index fingerprints them). */
export async function loadCatalogRows(
  platform: pg.Pool,
  warehouse: pg.Pool,
): Promise<{ catalog: LineageCatalog; rows: unknown[] }> {
  const [columns, products] = await Promise.all([
    warehouse.query<{ name: string; columns: string[]; types: string[] }>(
      `select c.table_schema || '.' || c.table_name as name, array_agg(c.column_name::text order by c.ordinal_position) as columns,
              array_agg(c.data_type::text order by c.ordinal_position) as types
         from information_schema.columns c
        where c.table_schema not in ('pg_catalog', 'information_schema') and c.table_schema not like 'tr\\_run\\_%'
        group by 1 order by 1`,
    ),
    platform.query<{ id: string; name: string }>(
      `select id, table_schema || '.' || table_name as name from tributary.data_products order by id`,
    ),
  ]);
  const tables = new Map(columns.rows.map((r) => [r.name, r.columns]));
  const types = new Map(
    columns.rows.flatMap((r) => r.columns.map((c, i) => [`${r.name}#${c}`, r.types[i]!] as const)),
  );
  const productTables = new Map(products.rows.map((r) => [r.id, r.name]));
  return {
    catalog: {
      tableColumns: (name) => tables.get(name),
      columnType: (name, column) => types.get(`${name}#${column}`),
      productTable: (id) => productTables.get(id),
    },
    rows: [columns.rows, products.rows],
  };
}

export async function currentPipelines(platform: pg.Pool): Promise<PipelineForLineage[]> {
  const { rows } = await platform.query<{ id: string; project_id: string; document: PipelineForLineage }>(
    `select p.id, p.project_id, v.document from tributary.pipelines p
       join tributary.pipeline_versions v on v.pipeline_id = p.id and v.version = p.current_version
      where p.deleted_at is null order by p.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    project: r.project_id,
    nodes: r.document.nodes,
    edges: r.document.edges ?? [],
  }));
}

export async function organisationLineage(
  platform: pg.Pool,
  warehouse: pg.Pool,
  nodeTypes: LineageNodeTypes,
): Promise<LineageGraph> {
  const [pipelines, catalog] = await Promise.all([
    currentPipelines(platform),
    loadCatalog(platform, warehouse),
  ]);
  return buildLineage(pipelines, catalog, nodeTypes);
}

export interface RunLineageDeps {
  platform: pg.Pool;
  warehouse: pg.Pool;
  runs: RunsClient;
  /** The node catalogue, whose declarations say what each node reads and writes. */
  nodeTypes: LineageNodeTypes;
  /** The columns of the datasets sources read whose configs do not list them (observed-columns.ts). */
  observe?: (document: Pipeline) => Promise<PipelineForLineage['observed']>;
}

/** OpenLineage's names of the warehouse: `postgres://host:port` and its database. */
export function warehouseNamespaces(warehouse: pg.Pool): Namespaces {
  const url = new URL(warehouse.options.connectionString ?? 'postgres://localhost/postgres');
  return {
    warehouse: {
      namespace: `postgres://${url.hostname}:${url.port || 5432}`,
      database: decodeURIComponent(url.pathname.slice(1)),
    },
  };
}

/**
 * A run's OpenLineage events, from the run, the pipeline version it ran and that version's lineage;
 * undefined when the run ran no saved version. Gathers the facts, then the pure `runEvents` shapes
 * them, so a closed run's record can be the source as well.
 */
export async function runOpenLineageEvents(
  deps: RunLineageDeps,
  runId: string,
): Promise<{ project: string; events: Record<string, unknown>[] } | undefined> {
  const run = await deps.runs.get(runId);
  const { rows } = await deps.platform.query<{ document: Pipeline }>(
    `select document from tributary.pipeline_versions where pipeline_id = $1 and version = $2`,
    [run.pipelineId, Number(run.pipelineVersion)],
  );
  if (!rows[0]) return undefined;
  const observed = await deps.observe?.(rows[0].document);
  const pipeline: PipelineForLineage = {
    id: run.pipelineId,
    project: run.project,
    nodes: rows[0].document.nodes,
    edges: rows[0].document.edges ?? [],
    ...(observed ? { observed } : {}),
  };
  const catalog = await loadCatalog(deps.platform, deps.warehouse);
  // The other pipelines are not needed to say what this one read and wrote.
  const graph = await buildLineage([pipeline], catalog, deps.nodeTypes);
  // Temporal's id of the execution (from the run's record once it is closed): a UUID, as OpenLineage wants.
  const executionRunId = await deps.runs.executionIdOf(runId);
  const failed = Object.values(run.progress?.steps ?? {}).find((s) => s.error);
  const events = runEvents(
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
    warehouseNamespaces(deps.warehouse),
  );
  return { project: run.project, events };
}
