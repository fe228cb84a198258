// Data products as use cases: publish a table a project owns, describe it (schema, freshness,
// consumers, a sample for those who may read it), and share it with another project or stop
// sharing. Discovery is open to every reader; the data is not: sharing is a grant in the warehouse.
import { quoteTable, readSchemaOwner, tableColumns, type TableRef } from '@tributary/activities';
import type pg from 'pg';
import type { AuditLog } from '../audit/audit-log.store.js';
import { lineageContext, lineageOf, type LineageNodeTypes } from '../lineage/lineage-graph.js';
import type { PipelineStore } from '../store/pipelines.store.js';
import type { ProjectStore } from '../store/projects.store.js';
import { InvalidError } from '../errors.js';
import { ConflictError, NotFoundError } from '../store/errors.js';
import { grantRead, revokeRead } from '../warehouse/grants.js';
import { provisionProject } from '../warehouse/provision.js';
import { ProductStore, type DataProduct } from './products.store.js';

export interface ProductDeps {
  pool: pg.Pool;
  warehousePool: pg.Pool;
  pipelines: PipelineStore;
  projects: ProjectStore;
  audit: AuditLog;
  /** The node catalogue, whose declarations say which tables a node reads. */
  catalog: LineageNodeTypes;
}

/** A product request refused for one field (an invalid domain request naming it). */
export class ProductError extends InvalidError {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message, [{ path: field, message }]);
  }
}

export interface PublishInput {
  id: string;
  table: TableRef;
  name: string;
  description?: string | undefined;
  owners?: string[] | undefined;
  tags?: string[] | undefined;
  columns?: Record<string, string> | undefined;
  freshness?: { maxAgeHours: number } | undefined;
}

export async function publishProduct(
  deps: ProductDeps,
  project: string,
  input: PublishInput,
  actor: string,
): Promise<DataProduct> {
  await deps.projects.require(project);
  const { schema, table } = input.table;
  const owner = await readSchemaOwner(deps.warehousePool, schema);
  if (owner.kind !== 'project' || owner.project !== project) {
    throw new ProductError(
      owner.kind === 'project'
        ? `table ${schema}.${table} belongs to project ${owner.project}; only its owners can publish it`
        : `schema ${schema} is not one of project ${project}'s schemas`,
      'table',
    );
  }
  const columns = await tableColumns(deps.warehousePool, input.table);
  if (columns.length === 0) {
    throw new ProductError(
      `table ${schema}.${table} does not exist in the warehouse; publish it with a pipeline first`,
      'table',
    );
  }
  const unknown = Object.keys(input.columns ?? {}).filter((name) => !columns.some((c) => c.name === name));
  if (unknown.length > 0) {
    throw new ProductError(
      `${schema}.${table} has no column ${unknown.map((n) => `"${n}"`).join(', ')}`,
      'columns',
    );
  }
  const product = await new ProductStore(deps.pool).create({
    id: input.id,
    project,
    table: input.table,
    name: input.name,
    description: input.description ?? null,
    owners: input.owners ?? [],
    tags: input.tags ?? [],
    columns: input.columns ?? {},
    freshness: input.freshness ?? null,
    createdBy: actor,
  });
  await deps.audit.record({
    actor,
    project,
    action: 'product.published',
    target: `product:${product.id}`,
    summary: { table: `${schema}.${table}`, tags: product.tags },
  });
  return product;
}

export interface Consumer {
  project: string;
  pipelineId: string;
  nodeId: string;
}

/** Pipelines (current versions) of other projects that read the product or its table. */
export async function consumersOf(deps: ProductDeps, product: DataProduct): Promise<Consumer[]> {
  const tableName = `${product.table.schema}.${product.table.table}`;
  const mentions = new RegExp(
    `(^|[^A-Za-z0-9_."])"?${product.table.schema}"?\\s*\\.\\s*"?${product.table.table}"?($|[^A-Za-z0-9_"])`,
  );
  const { rows } = await deps.pool.query<{ id: string; project_id: string; document: { nodes: Node[] } }>(
    `select p.id, p.project_id, v.document from tributary.pipelines p
       join tributary.pipeline_versions v on v.pipeline_id = p.id and v.version = p.current_version
      where p.deleted_at is null and p.project_id <> $1`,
    [product.project],
  );
  const found: Consumer[] = [];
  for (const row of rows) {
    // Only this product's table is looked up: reading another product is not reading this one.
    const ctx = lineageContext(row.project_id, (id) => (id === product.id ? tableName : undefined));
    for (const node of row.document.nodes) {
      const declared = lineageOf(deps.catalog, node, ctx);
      const reads =
        (declared.reads ?? []).some((d) => d.kind === 'table' && d.name === tableName) ||
        (declared.columns?.from === 'sql' && mentions.test(declared.columns.sql));
      if (reads) found.push({ project: row.project_id, pipelineId: row.id, nodeId: node.id });
    }
  }
  return found;
}

interface Node {
  id: string;
  type: string;
  config?: Record<string, unknown>;
}

export interface ProductView extends DataProduct {
  schema: { name: string; type: string; description: string | null }[];
  lastPublished: { runId: string; pipelineId: string | null; at: string; rows: number } | null;
  stale: boolean | null;
  sharedWith: { project: string; grantedBy: string; grantedAt: string }[];
  consumers: Consumer[];
  /** Up to 10 rows, for a caller who may read the product; null otherwise. */
  sample: Record<string, unknown>[] | null;
}

/** The last publish of a table by a sink, from the warehouse's sink ledger. */
export async function lastPublish(
  warehouse: pg.Pool,
  table: TableRef,
): Promise<ProductView['lastPublished']> {
  const { rows } = await warehouse.query<{
    run_id: string;
    pipeline_id: string | null;
    committed_at: Date;
    rows_out: string;
  }>(
    `select run_id, pipeline_id, committed_at, rows_out from tributary_meta.sink_ledger
      where target = $1 order by committed_at desc limit 1`,
    [`${table.schema}.${table.table}`],
  );
  const row = rows[0];
  return row
    ? {
        runId: row.run_id,
        pipelineId: row.pipeline_id,
        at: row.committed_at.toISOString(),
        rows: Number(row.rows_out),
      }
    : null;
}

/** Whether the product has gone without a successful publish for longer than its freshness SLA. */
export function isStale(
  product: DataProduct,
  last: ProductView['lastPublished'],
  now = Date.now(),
): boolean | null {
  if (!product.freshness) return null;
  if (!last) return true;
  return now - Date.parse(last.at) > product.freshness.maxAgeHours * 3600_000;
}

export async function describeProduct(
  deps: ProductDeps,
  product: DataProduct,
  mayRead: (project: string) => boolean,
): Promise<ProductView> {
  const store = new ProductStore(deps.pool);
  const [columns, last, sharedWith, consumers] = await Promise.all([
    tableColumns(deps.warehousePool, product.table),
    lastPublish(deps.warehousePool, product.table),
    store.shares(product.id),
    consumersOf(deps, product),
  ]);
  const readable = mayRead(product.project) || sharedWith.some((s) => mayRead(s.project));
  const sample =
    readable && columns.length > 0
      ? (await deps.warehousePool.query(`select * from ${quoteTable(product.table)} limit 10`)).rows
      : null;
  return {
    ...product,
    schema: columns.map((c) => ({
      name: c.name,
      type: c.type,
      description: product.columns[c.name] ?? null,
    })),
    lastPublished: last,
    stale: isStale(product, last),
    sharedWith,
    consumers,
    sample,
  };
}

/** The catalogue with each product's freshness, for the stale filter and badge. */
export async function listCatalog(
  deps: ProductDeps,
  filter: { q?: string; tag?: string; project?: string; stale?: boolean },
): Promise<(DataProduct & { lastPublishedAt: string | null; stale: boolean | null })[]> {
  const products = await new ProductStore(deps.pool).list(filter);
  const rows = await Promise.all(
    products.map(async (product) => {
      const last = await lastPublish(deps.warehousePool, product.table);
      return { ...product, lastPublishedAt: last?.at ?? null, stale: isStale(product, last) };
    }),
  );
  return filter.stale === undefined ? rows : rows.filter((r) => (r.stale ?? false) === filter.stale);
}

export async function shareProduct(
  deps: ProductDeps,
  product: DataProduct,
  consumer: string,
  actor: string,
): Promise<void> {
  if (consumer === product.project) {
    throw new ProductError(
      `project ${consumer} owns ${product.id}; sharing is with other projects`,
      'project',
    );
  }
  const target = await deps.projects.require(consumer);
  // A project from before roles existed gets its role now rather than at its first run.
  await provisionProject(deps.warehousePool, target.id, target.schemas);
  await grantRead(deps.warehousePool, consumer, product.table);
  await new ProductStore(deps.pool).addShare(product.id, consumer, actor);
  await deps.audit.record({
    actor,
    project: product.project,
    action: 'product.shared',
    target: `product:${product.id}`,
    summary: { with: consumer },
  });
}

/** Stops sharing; refused while pipelines of the consumer read it, unless `force`. */
export async function unshareProduct(
  deps: ProductDeps,
  product: DataProduct,
  consumer: string,
  actor: string,
  force: boolean,
): Promise<void> {
  const store = new ProductStore(deps.pool);
  if (!(await store.shares(product.id)).some((s) => s.project === consumer)) {
    throw new NotFoundError(`Data product "${product.id}" is not shared with project "${consumer}"`);
  }
  const broken = (await consumersOf(deps, product)).filter((c) => c.project === consumer);
  if (broken.length > 0 && !force) {
    throw new ConflictError(
      `Unsharing ${product.id} would break ${broken.map((c) => `pipeline ${c.pipelineId} (node ${c.nodeId})`).join(', ')} ` +
        `of project ${consumer}; change them first, or unshare with ?force=true`,
    );
  }
  await store.removeShare(product.id, consumer);
  const others = await store.sharedInSchema(product.table.schema, consumer);
  await revokeRead(deps.warehousePool, consumer, product.table, others.length > 0);
  await deps.audit.record({
    actor,
    project: product.project,
    action: 'product.unshared',
    target: `product:${product.id}`,
    summary: { with: consumer, brokenPipelines: broken.length },
  });
}
