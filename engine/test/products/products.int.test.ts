// Data products on the real stack with two projects: publish, discover from the other project,
// refused before sharing, read after sharing (and after the owner replaced the table), refused after
// unsharing, consumers named before an unshare breaks them, and a freshness SLA going stale.
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectStore } from '../../src/store/projects.store.js';
import { startApi, uniq, type ApiHarness } from '../api/api-harness.js';

let api: ApiHarness;
const sales = uniq('sales');
const mkt = uniq('mkt');
const salesSchema = projectSchemaName(sales);
const product = `${sales}-orders`;
let salesAdmin: string;
let salesWriter: string;
let mktToken: string;

const finished = async (runId: string) => {
  await api.h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});
  return api.h.platform.runs.get(runId);
};

/** Saves (or re-saves) and runs a pipeline with a token; returns the finished run. */
async function run(token: string, document: Record<string, unknown>) {
  const id = document.id as string;
  const exists = (await api.call('GET', `/api/pipelines/${id}`, { token })).status === 200;
  const saved = await api.call(exists ? 'PUT' : 'POST', exists ? `/api/pipelines/${id}` : '/api/pipelines', {
    token,
    body: document,
  });
  expect(saved.status, JSON.stringify(saved.body)).toBeLessThan(300);
  const started = await api.call('POST', `/api/pipelines/${id}/runs`, { token, body: {} });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return finished(started.body.runId);
}

const publishOrders = (rows: number) => ({
  apiVersion: 'tributary/v1',
  id: `${sales}-publish`,
  name: 'Publish orders',
  project: sales,
  nodes: [
    {
      id: 'gen',
      type: 'source.generate',
      config: { rows, columns: [{ name: 'id', generator: 'sequence' }] },
    },
    { id: 'out', type: 'sink.postgres', config: { table: 'orders', mode: 'replace' } },
  ],
  edges: [{ from: 'gen', to: 'out' }],
});

const readProduct = {
  apiVersion: 'tributary/v1',
  id: `${mkt}-reader`,
  name: 'Reads the orders product',
  project: mkt,
  nodes: [
    { id: 'orders', type: 'source.table', config: { product }, retry: { maxAttempts: 1 } },
    {
      id: 'direct',
      type: 'transform.sql',
      config: {
        sql: `select count(*) as n from ${salesSchema}.orders, (select 1 from {{ inputs.orders }} limit 1) x`,
      },
      retry: { maxAttempts: 1 },
    },
  ],
  edges: [{ from: 'orders', to: 'direct' }],
};

beforeAll(async () => {
  api = await startApi();
  for (const id of [sales, mkt]) {
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
  }
  salesAdmin = await api.token([`admin:${sales}`]);
  salesWriter = await api.token([`write:${sales}`, `run:${sales}`, `read:${sales}`]);
  mktToken = await api.token([`write:${mkt}`, `run:${mkt}`, `read:${mkt}`, `admin:${mkt}`]);
  expect((await run(salesWriter, publishOrders(3))).status).toBe('succeeded');
});
afterAll(async () => {
  for (const id of [sales, mkt]) {
    await api?.h.platform.warehousePool.query(`drop schema if exists ${projectSchemaName(id)} cascade`);
  }
  await api?.stop();
});

describe('data products', () => {
  it('publishes a table the project owns, and refuses one it does not', async () => {
    const published = await api.call('POST', `/api/projects/${sales}/products`, {
      token: salesWriter,
      body: {
        id: product,
        table: `${salesSchema}.orders`,
        name: 'Orders',
        description: 'Every order, one row each',
        owners: ['sales-data@example.com'],
        tags: ['finance', 'orders'],
        columns: { id: 'The order number' },
        freshness: { maxAgeHours: 24 },
      },
    });
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    expect(published.body).toMatchObject({
      id: product,
      project: sales,
      table: { schema: salesSchema, table: 'orders' },
    });

    const foreign = await api.call('POST', `/api/projects/${mkt}/products`, {
      token: mktToken,
      body: { id: `${mkt}-stolen`, table: `${salesSchema}.orders`, name: 'Not ours' },
    });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors).toEqual([
      {
        path: 'table',
        message: `table ${salesSchema}.orders belongs to project ${sales}; only its owners can publish it`,
      },
    ]);
    const missing = await api.call('POST', `/api/projects/${sales}/products`, {
      token: salesWriter,
      body: { id: `${sales}-nothing`, table: `${salesSchema}.nothing`, name: 'Nothing' },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.detail).toMatch(/does not exist in the warehouse/);
  });

  it('is discovered from another project, which sees its schema and freshness but not its rows', async () => {
    const catalog = await api.call('GET', '/api/catalog?tag=finance', { token: mktToken });
    expect(catalog.status).toBe(200);
    const entry = catalog.body.items.find((p: { id: string }) => p.id === product);
    expect(entry).toMatchObject({ project: sales, stale: false, owners: ['sales-data@example.com'] });
    expect(entry.lastPublishedAt).toEqual(expect.any(String));
    const byText = await api.call('GET', `/api/catalog?q=${encodeURIComponent('one row each')}`, {
      token: mktToken,
    });
    expect(byText.body.items.map((p: { id: string }) => p.id)).toContain(product);

    const view = await api.call('GET', `/api/products/${product}`, { token: mktToken });
    expect(view.status).toBe(200);
    expect(view.body.schema).toEqual([{ name: 'id', type: 'bigint', description: 'The order number' }]);
    expect(view.body.lastPublished).toMatchObject({ pipelineId: `${sales}-publish`, rows: 3 });
    expect(view.body.sample).toBeNull();
    const own = await api.call('GET', `/api/products/${product}`, { token: salesWriter });
    expect(own.body.sample).toHaveLength(3);
  });

  it('is refused to a consumer before it is shared, naming the owner', async () => {
    const result = await run(mktToken, readProduct);
    expect(result.progress!.steps.orders!.error).toContain(
      `data product ${product} (${salesSchema}.orders) belongs to project ${sales} and is not shared with project ${mkt}; ask its owners to share it`,
    );
  });

  it("is shared only by the owner's admin, and then read, also after the owner replaced the table", async () => {
    const byConsumer = await api.call('PUT', `/api/products/${product}/shares/${mkt}`, { token: mktToken });
    expect(byConsumer.status).toBe(403);
    const byWriter = await api.call('PUT', `/api/products/${product}/shares/${mkt}`, { token: salesWriter });
    expect(byWriter.status).toBe(403);
    const shared = await api.call('PUT', `/api/products/${product}/shares/${mkt}`, { token: salesAdmin });
    expect(shared.status).toBe(204);

    const first = await run(mktToken, readProduct);
    expect(first.status).toBe('succeeded');
    expect(first.progress!.steps.orders).toMatchObject({ rowsOut: 3 });

    // A replace makes a new table; the share goes with it.
    expect((await run(salesWriter, publishOrders(5))).status).toBe('succeeded');
    const second = await run(mktToken, readProduct);
    expect(second.status).toBe('succeeded');
    expect(second.progress!.steps.orders).toMatchObject({ rowsOut: 5 });

    const view = await api.call('GET', `/api/products/${product}`, { token: mktToken });
    expect(view.body.sample).toHaveLength(5);
    expect(view.body.sharedWith).toEqual([expect.objectContaining({ project: mkt })]);
    expect(view.body.consumers).toEqual(
      expect.arrayContaining([
        { project: mkt, pipelineId: `${mkt}-reader`, nodeId: 'orders' },
        { project: mkt, pipelineId: `${mkt}-reader`, nodeId: 'direct' },
      ]),
    );
    const audit = await api.call('GET', `/api/audit?project=${sales}&action=product.shared`);
    expect(audit.body.items).toEqual([
      expect.objectContaining({ target: `product:${product}`, summary: { with: mkt } }),
    ]);
  });

  it("lists the project's own tables under its role, and the products it may read", async () => {
    // A view in sales's schema, a table in mkt's: each project sees only what its role owns.
    await api.h.platform.warehousePool.query(
      `create table ${projectSchemaName(mkt)}.leads (id int, email text)`,
    );
    await api.h.giveSchema(projectSchemaName(mkt), mkt);
    const tables = await api.call('GET', `/api/projects/${sales}/tables`, { token: salesWriter });
    expect(tables.status).toBe(200);
    expect(tables.body.items).toEqual([
      {
        schema: salesSchema,
        table: 'orders',
        name: `${salesSchema}.orders`,
        kind: 'table',
        columns: [{ name: 'id', type: 'bigint' }],
        product,
      },
    ]);
    const theirs = await api.call('GET', `/api/projects/${mkt}/tables`, { token: mktToken });
    expect(theirs.body.items.map((t: { name: string }) => t.name)).toEqual([
      `${projectSchemaName(mkt)}.leads`,
    ]);

    // Another project's token may neither list these tables nor publish into the project.
    const listed = await api.call('GET', `/api/projects/${sales}/tables`, { token: mktToken });
    expect(listed.status).toBe(403);
    expect(listed.body.detail).toContain(`"read" scope for project "${sales}"`);
    const published = await api.call('POST', `/api/projects/${sales}/products`, {
      token: mktToken,
      body: { id: `${mkt}-in-sales`, table: `${salesSchema}.orders`, name: 'Not theirs' },
    });
    expect(published.status).toBe(403);
    expect((await api.call('GET', `/api/products/${mkt}-in-sales`)).status).toBe(404);

    // mkt may read its own products and sales's shared one; sales only its own.
    expect((await api.call('GET', `/api/projects/${mkt}/products`, { token: mktToken })).body.items).toEqual([
      { id: product, name: 'Orders', project: sales, table: `${salesSchema}.orders`, own: false },
    ]);
    const own = await api.call('GET', `/api/projects/${sales}/products`, { token: salesWriter });
    expect(own.body.items).toEqual([
      { id: product, name: 'Orders', project: sales, table: `${salesSchema}.orders`, own: true },
    ]);
    expect((await api.call('GET', `/api/projects/${sales}/products`, { token: mktToken })).status).toBe(403);

    // A project from before roles existed has no role yet: it owns no tables (not a 500).
    const old = uniq('noroles');
    await new ProjectStore(api.h.platform.platformPool).create({ id: old, name: old });
    const none = await api.call('GET', `/api/projects/${old}/tables`);
    expect(none.status).toBe(200);
    expect(none.body.items).toEqual([]);
  });

  it('warns before an unshare breaks a consumer, and refuses the consumer afterwards', async () => {
    const refused = await api.call('DELETE', `/api/products/${product}/shares/${mkt}`, { token: salesAdmin });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(`would break pipeline ${mkt}-reader (node orders)`);
    const forced = await api.call('DELETE', `/api/products/${product}/shares/${mkt}?force=true`, {
      token: salesAdmin,
    });
    expect(forced.status).toBe(204);
    const after = await run(mktToken, readProduct);
    expect(after.status).toBe('failed');
    expect(after.progress!.steps.orders!.error).toContain('is not shared with project');
  });

  it('goes stale when it is not published within its freshness SLA', async () => {
    const quick = `${sales}-quick`;
    const published = await api.call('POST', `/api/projects/${sales}/products`, {
      token: salesWriter,
      body: { id: quick, table: `${salesSchema}.orders`.replace('orders', 'orders_quick'), name: 'Quick' },
    });
    expect(published.status).toBe(400); // no such table yet
    await api.h.platform.warehousePool.query(`create table ${salesSchema}.orders_quick as select 1 as id`);
    await api.h.giveSchema(salesSchema, sales);
    const made = await api.call('POST', `/api/projects/${sales}/products`, {
      token: salesWriter,
      body: {
        id: quick,
        table: `${salesSchema}.orders_quick`,
        name: 'Quick',
        freshness: { maxAgeHours: 0.0001 },
      },
    });
    expect(made.status).toBe(201);
    // Never published by a pipeline: stale at once.
    const stale = await api.call('GET', `/api/catalog?project=${sales}&stale=true`, { token: mktToken });
    expect(stale.body.items.map((p: { id: string }) => p.id)).toEqual([quick]);
    const fresh = await api.call('GET', `/api/catalog?project=${sales}&stale=false`, { token: mktToken });
    expect(fresh.body.items.map((p: { id: string }) => p.id)).toEqual([product]);
  });
});
