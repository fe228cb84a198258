// Loads what lineage is built from: the current version of every pipeline (lineage is stitched
// across projects), data products' tables, and the columns of every warehouse table.
import type pg from 'pg';
import {
  buildLineage,
  type LineageCatalog,
  type LineageGraph,
  type LineageNodeTypes,
  type PipelineForLineage,
} from './lineage-graph.js';

export async function loadCatalog(platform: pg.Pool, warehouse: pg.Pool): Promise<LineageCatalog> {
  const [columns, products] = await Promise.all([
    warehouse.query<{ name: string; columns: string[] }>(
      `select c.table_schema || '.' || c.table_name as name, array_agg(c.column_name::text order by c.ordinal_position) as columns
         from information_schema.columns c
        where c.table_schema not in ('pg_catalog', 'information_schema') and c.table_schema not like 'tr\\_run\\_%'
        group by 1`,
    ),
    platform.query<{ id: string; name: string }>(
      `select id, table_schema || '.' || table_name as name from tributary.data_products`,
    ),
  ]);
  const tables = new Map(columns.rows.map((r) => [r.name, r.columns]));
  const productTables = new Map(products.rows.map((r) => [r.id, r.name]));
  return { tableColumns: (name) => tables.get(name), productTable: (id) => productTables.get(id) };
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
