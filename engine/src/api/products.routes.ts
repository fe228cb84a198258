// Data products: publish (write on the owning project), discover (any reader, whole organisation),
// describe, and share or unshare (admin of the owning project). Routes parse, authorise and shape;
// the use cases are in products/product-service.ts.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';
import {
  describeProduct,
  listCatalog,
  publishProduct,
  shareProduct,
  unshareProduct,
  type ProductDeps,
} from '../products/product-service.js';
import { ProductStore } from '../products/products.store.js';
import { listProjectTables } from '../warehouse/project-tables.js';
import { HttpProblem } from './problem.js';
import { allows } from './auth.js';
import type { ApiContext } from './context.js';
import { route } from './route.js';
import { ProjectParams } from './schemas.js';

const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase identifier');
const TableName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/, 'must be schema.table, in lowercase identifiers')
  .transform((name) => {
    const [schema, table] = name.split('.') as [string, string];
    return { schema, table };
  });

const NewProduct = z.strictObject({
  id: slug,
  table: TableName.describe('A table of the project, as schema.table'),
  name: z.string().min(1).max(200),
  description: z.string().max(5000).optional(),
  owners: z.array(z.string().min(1).max(200)).max(50).optional(),
  tags: z.array(identifier).max(50).optional(),
  columns: z.record(z.string().min(1).max(63), z.string().max(2000)).optional(),
  freshness: z
    .strictObject({
      maxAgeHours: z
        .number()
        .positive()
        .max(24 * 366),
    })
    .optional(),
});

const ProductSchema = z.object({
  id: z.string(),
  project: z.string(),
  table: z.object({ schema: z.string(), table: z.string() }),
  name: z.string(),
  description: z.string().nullable(),
  owners: z.array(z.string()),
  tags: z.array(z.string()),
  columns: z.record(z.string(), z.string()),
  freshness: z.object({ maxAgeHours: z.number() }).nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const CatalogEntrySchema = ProductSchema.extend({
  lastPublishedAt: z.string().nullable(),
  stale: z.boolean().nullable(),
});
const ConsumerSchema = z.object({ project: z.string(), pipelineId: z.string(), nodeId: z.string() });
const ProductViewSchema = ProductSchema.extend({
  schema: z.array(z.object({ name: z.string(), type: z.string(), description: z.string().nullable() })),
  lastPublished: z
    .object({ runId: z.string(), pipelineId: z.string().nullable(), at: z.string(), rows: z.number() })
    .nullable(),
  stale: z.boolean().nullable(),
  sharedWith: z.array(z.object({ project: z.string(), grantedBy: z.string(), grantedAt: z.string() })),
  consumers: z.array(ConsumerSchema),
  sample: z.array(z.record(z.string(), z.unknown())).nullable(),
});
const ProductParams = z.object({ id: slug });
const ShareParams = z.object({ id: slug, project: slug });

const productDeps = (deps: ApiContext): ProductDeps => deps;
const store = (deps: ApiContext) => new ProductStore(deps.pool);

const ProjectTableSchema = z.object({
  schema: z.string(),
  table: z.string(),
  name: z.string().meta({ description: 'schema.table, as a product or a source.table names it' }),
  kind: z.enum(['table', 'view']),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  product: z.string().nullable().meta({ description: 'The data product that publishes it, if one does' }),
});
const ReadableProductSchema = z.object({
  id: z.string(),
  name: z.string(),
  project: z.string(),
  table: z.string().meta({ description: 'schema.table' }),
  own: z.boolean().meta({ description: "The project's own product (false: shared with it)" }),
});

export const productRoutes = [
  route({
    method: 'get',
    path: '/projects/:project/tables',
    operationId: 'listProjectTables',
    summary: 'The warehouse tables and views the project owns (what it may publish as a product)',
    description:
      "Read under the project's warehouse role: only relations in schemas that role owns, never another " +
      "project's, a run's staging or a branch's copies.",
    tag: 'products',
    scope: 'read',
    params: ProjectParams,
    responses: {
      200: { description: 'The tables, by name', schema: z.object({ items: z.array(ProjectTableSchema) }) },
    },
    problems: [503],
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      if (!deps.describe) {
        throw new HttpProblem(503, 'Service Unavailable', 'This server has no warehouse runner connection');
      }
      const [tables, products] = await Promise.all([
        listProjectTables(deps.describe.runnerPool, params.project),
        store(deps).list({ project: params.project }),
      ]);
      const productOf = new Map(products.map((p) => [`${p.table.schema}.${p.table.table}`, p.id]));
      res.json({
        items: tables.map((t) => {
          const name = `${t.schema}.${t.table}`;
          return { ...t, name, product: productOf.get(name) ?? null };
        }),
      });
    },
  }),
  route({
    method: 'get',
    path: '/projects/:project/products',
    operationId: 'listReadableProducts',
    summary: "The data products the project's pipelines may read: its own and those shared with it",
    tag: 'products',
    scope: 'read',
    params: ProjectParams,
    responses: {
      200: { description: 'The products', schema: z.object({ items: z.array(ReadableProductSchema) }) },
    },
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      const products = await store(deps).readableBy(params.project);
      res.json({
        items: products.map((p) => ({
          id: p.id,
          name: p.name,
          project: p.project,
          table: `${p.table.schema}.${p.table.table}`,
          own: p.project === params.project,
        })),
      });
    },
  }),
  route({
    method: 'post',
    path: '/projects/:project/products',
    operationId: 'publishProduct',
    summary: 'Publish a table the project owns as a data product',
    tag: 'products',
    scope: 'write',
    params: ProjectParams,
    body: NewProduct,
    responses: { 201: { description: 'Published', schema: ProductSchema } },
    problems: [409],
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      const product = await publishProduct(productDeps(deps), params.project, body, actor);
      res.status(201).location(`/api/products/${product.id}`).json(product);
    },
  }),
  route({
    method: 'get',
    path: '/catalog',
    operationId: 'listCatalog',
    summary: "The organisation's data products (discovery is open to any reader; data is not)",
    tag: 'products',
    scope: 'read',
    query: z.object({
      q: z.string().max(200).optional(),
      tag: identifier.optional(),
      project: slug.optional(),
      stale: z.enum(['true', 'false']).optional(),
    }),
    responses: { 200: { description: 'Products', schema: z.object({ items: z.array(CatalogEntrySchema) }) } },
    async handler({ deps, query, authorize, res }) {
      authorize(undefined);
      const items = await listCatalog(productDeps(deps), {
        ...(query.q ? { q: query.q } : {}),
        ...(query.tag ? { tag: query.tag } : {}),
        ...(query.project ? { project: query.project } : {}),
        ...(query.stale ? { stale: query.stale === 'true' } : {}),
      });
      res.json({ items });
    },
  }),
  route({
    method: 'get',
    path: '/products/:id',
    operationId: 'getProduct',
    summary: 'A data product: schema, owners, freshness, consumers, and a sample for those who may read it',
    tag: 'products',
    scope: 'read',
    params: ProductParams,
    responses: { 200: { description: 'The product', schema: ProductViewSchema } },
    async handler({ deps, params, principal, authorize, res }) {
      authorize(undefined);
      const product = await store(deps).require(params.id);
      res.json(
        await describeProduct(productDeps(deps), product, (project) =>
          allows(principal!.token, 'read', project),
        ),
      );
    },
  }),
  route({
    method: 'put',
    path: '/products/:id/shares/:project',
    operationId: 'shareProduct',
    summary: "Share a product with another project (its pipelines may then read it); the owner's admin only",
    tag: 'products',
    scope: 'admin',
    params: ShareParams,
    responses: { 204: { description: 'Shared' } },
    async handler({ deps, params, actor, authorize, res }) {
      const product = await store(deps).require(params.id);
      authorize(product.project);
      await shareProduct(productDeps(deps), product, params.project, actor);
      res.status(204).end();
    },
  }),
  route({
    method: 'delete',
    path: '/products/:id/shares/:project',
    operationId: 'unshareProduct',
    summary: 'Stop sharing a product; refused while pipelines of that project read it, unless force=true',
    tag: 'products',
    scope: 'admin',
    params: ShareParams,
    query: z.object({ force: z.enum(['true', 'false']).optional() }),
    responses: { 204: { description: 'No longer shared' } },
    problems: [409],
    async handler({ deps, params, query, actor, authorize, res }) {
      const product = await store(deps).require(params.id);
      authorize(product.project);
      await unshareProduct(productDeps(deps), product, params.project, actor, query.force === 'true');
      res.status(204).end();
    },
  }),
];
