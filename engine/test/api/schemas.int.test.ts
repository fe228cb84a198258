// Output schemas and SQL checks over HTTP, on the real stack: columns inferred before any run (a
// CSV file's header and sample, a SQL step described over them under the project's role), taken
// from the run that kept them after one, unknown columns reported with line and column, and
// nothing of one project reachable from another (its pipelines, its files, its columns).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, uniq, type ApiHarness, type Body } from './api-harness.js';

let api: ApiHarness;
let projectA: string;
let projectB: string;
beforeAll(async () => {
  api = await startApi();
  projectA = uniq('sa');
  projectB = uniq('sb');
  for (const id of [projectA, projectB]) {
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
  }
  const folder = path.join(api.h.dataDir, projectA);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'orders.csv'), 'id,amount,customer\n1,9.50,ada\n2,12,bob\n3,7.25,ada\n');
});
afterAll(async () => {
  for (const id of [projectA, projectB]) {
    await api?.h.platform.warehousePool.query(`drop schema if exists ${projectSchemaName(id)} cascade`);
  }
  await api?.stop();
});

const TOTALS =
  'select customer,\n       sum(amount) as total\n  from {{ inputs.orders }}\n group by customer';

/** orders.csv → totals (SQL) → out (a CSV sink), in project A. */
const ordersPipeline = (id: string, sql = TOTALS, project = projectA, file = 'orders.csv') => ({
  apiVersion: 'tributary/v1',
  id,
  name: id,
  project,
  settings: { keepStaging: true },
  nodes: [
    { id: 'orders', type: 'source.csv', config: { path: file } },
    { id: 'totals', type: 'transform.sql', config: { sql } },
    { id: 'out', type: 'sink.csv', config: { path: `${id}-out.csv` } },
  ],
  edges: [
    { from: 'orders', to: 'totals' },
    { from: 'totals', to: 'out' },
  ],
});

const ORDERS_COLUMNS = [
  { name: 'id', type: 'bigint' },
  { name: 'amount', type: 'numeric' },
  { name: 'customer', type: 'text' },
];

const create = async (doc: Body) => {
  const reply = await api.call('POST', '/api/pipelines', { body: doc });
  expect(reply.status).toBe(201);
  expect(reply.body.valid).toBe(true);
};

describe('output schemas', () => {
  it('infers every node before any run: the CSV header and sample, the SQL step described over them', async () => {
    const doc = ordersPipeline(uniq('sch'));
    await create(doc);
    const reply = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      nodes: {
        orders: { columns: ORDERS_COLUMNS, source: 'inferred' },
        totals: {
          columns: [
            { name: 'customer', type: 'text' },
            { name: 'total', type: 'numeric' },
          ],
          source: 'inferred',
        },
        out: { columns: null, source: 'unknown', message: expect.stringContaining('a sink') },
      },
    });
  });

  it('takes the columns from the run that kept them, until the step is edited', async () => {
    const doc = ordersPipeline(uniq('sch'));
    await create(doc);
    const started = await api.call('POST', `/api/pipelines/${doc.id}/runs`, { body: {} });
    expect(started.status).toBe(202);
    await api.h.platform.temporal.workflow.getHandle(started.body.runId).result();
    const runId = started.body.runId;

    const after = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(after.body.nodes.orders).toEqual({ columns: ORDERS_COLUMNS, source: 'run', runId });
    expect(after.body.nodes.totals).toEqual({
      columns: [
        { name: 'customer', type: 'text' },
        { name: 'total', type: 'numeric' },
      ],
      source: 'run',
      runId,
    });

    // The editor's document changes the SQL: the kept table no longer describes that step.
    const edited = ordersPipeline(
      doc.id,
      'select customer, count(*) as orders from {{ inputs.orders }} group by 1',
    );
    const changed = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: edited });
    expect(changed.body.nodes.orders).toMatchObject({ source: 'run', runId });
    expect(changed.body.nodes.totals).toEqual({
      columns: [
        { name: 'customer', type: 'text' },
        { name: 'orders', type: 'bigint' },
      ],
      source: 'inferred',
    });
  });

  it("takes the columns from a run of the editor's draft, for the document that run ran", async () => {
    const doc = ordersPipeline(uniq('sch'));
    await create(doc);
    const drafted = ordersPipeline(
      doc.id,
      'select customer, count(*) as orders from {{ inputs.orders }} group by 1',
    );
    expect((await api.call('PUT', `/api/pipelines/${doc.id}/draft`, { body: drafted })).status).toBe(200);
    const started = await api.call('POST', `/api/pipelines/${doc.id}/runs`, { body: { draft: true } });
    expect(started.status).toBe(202);
    await api.h.platform.temporal.workflow.getHandle(started.body.runId).result();
    const runId = started.body.runId;

    const after = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: drafted });
    expect(after.body.nodes.orders).toEqual({ columns: ORDERS_COLUMNS, source: 'run', runId });
    expect(after.body.nodes.totals).toEqual({
      columns: [
        { name: 'customer', type: 'text' },
        { name: 'orders', type: 'bigint' },
      ],
      source: 'run',
      runId,
    });
    // The published version's SQL is not what that run ran: its columns are inferred, not the run's.
    const published = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(published.body.nodes.totals).toMatchObject({ source: 'inferred' });
    expect(published.body.nodes.orders).toMatchObject({ source: 'run', runId });
  });

  it("infers a JSON sample, generated columns, the project's own table and an assertion's pass-through", async () => {
    writeFileSync(
      path.join(api.h.dataDir, projectA, 'events.json'),
      JSON.stringify([
        { id: 1, kind: 'click', meta: { x: 1 } },
        { id: 2.5, kind: null, ok: true },
      ]),
    );
    const schemaA = projectSchemaName(projectA);
    await api.h.platform.warehousePool.query(
      `create table ${schemaA}.customers (id bigint, name varchar(40), since date)`,
    );
    const id = uniq('sch');
    const doc = {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      project: projectA,
      nodes: [
        { id: 'events', type: 'source.json', config: { path: 'events.json' } },
        {
          id: 'gen',
          type: 'source.generate',
          config: {
            rows: 2,
            columns: [
              { name: 'n', generator: 'sequence' },
              { name: 'day', generator: 'date' },
            ],
          },
        },
        { id: 'customers', type: 'source.table', config: { table: 'customers', columns: ['name', 'id'] } },
        {
          id: 'checked',
          type: 'transform.assert',
          config: {
            assertions: [
              { name: 'has_name', sql: 'select * from {{ inputs.customers }} where name is null' },
            ],
          },
        },
        { id: 'remote', type: 'source.http', config: { url: 'https://example.com/data' } },
      ],
      edges: [{ from: 'customers', to: 'checked' }],
    };
    await api.call('POST', '/api/pipelines', { body: doc });
    const reply = await api.call('POST', `/api/pipelines/${id}/schemas`, { body: doc });
    expect(reply.status).toBe(200);
    expect(reply.body.nodes).toMatchObject({
      events: {
        columns: [
          { name: 'id', type: 'numeric' },
          { name: 'kind', type: 'text' },
          { name: 'meta', type: 'jsonb' },
          { name: 'ok', type: 'boolean' },
        ],
        source: 'inferred',
      },
      gen: {
        columns: [
          { name: 'n', type: 'bigint' },
          { name: 'day', type: 'date' },
        ],
        source: 'inferred',
      },
      customers: {
        columns: [
          { name: 'name', type: 'character varying(40)' },
          { name: 'id', type: 'bigint' },
        ],
        source: 'inferred',
      },
      checked: {
        columns: [
          { name: 'name', type: 'character varying(40)' },
          { name: 'id', type: 'bigint' },
        ],
        source: 'inferred',
      },
      remote: {
        columns: null,
        source: 'unknown',
        message: expect.stringContaining('known after a run in which this step, as it is now, succeeded'),
      },
    });
  });

  it('says why a node is unknown: a missing file, an input of unknown columns, a bad query', async () => {
    const doc = ordersPipeline(uniq('sch'), 'select nope from {{ inputs.orders }}', projectA, 'missing.csv');
    await create(doc);
    const reply = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(reply.body.nodes.orders).toEqual({
      columns: null,
      source: 'unknown',
      message: 'config.path: "missing.csv" does not exist in the data directory',
    });
    expect(reply.body.nodes.totals).toEqual({
      columns: null,
      source: 'unknown',
      message: 'the columns of its input "orders" are not known',
    });
    const bad = ordersPipeline(doc.id, 'select nope from {{ inputs.orders }}');
    const described = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: bad });
    expect(described.body.nodes.totals.source).toBe('unknown');
    expect(described.body.nodes.totals.message).toContain(
      'Unknown column "nope" in orders; it has: id, amount, customer',
    );
  });

  it('refuses a token limited to another project (403), and an unknown pipeline (404)', async () => {
    const doc = ordersPipeline(uniq('sch'));
    await create(doc);
    const tokenB = await api.token(['read', 'write', 'run'], [projectB]);
    const refused = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc, token: tokenB });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).not.toContain('amount');
    const missing = await api.call('POST', `/api/pipelines/${uniq('nope')}/schemas`, { body: doc });
    expect(missing.status).toBe(404);
  });

  it("refuses a document of another project than the pipeline's (400 naming project)", async () => {
    const doc = ordersPipeline(uniq('sch'));
    await create(doc);
    const moved = { ...doc, project: projectB };
    const reply = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: moved });
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
    expect(reply.body.errors).toEqual([expect.objectContaining({ in: 'body', path: 'project' })]);
  });

  it("never reads another project's files: a path into its folder is an error, not its columns", async () => {
    const doc = ordersPipeline(uniq('sch'), TOTALS, projectB, `../${projectA}/orders.csv`);
    await create(doc);
    const reply = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(reply.status).toBe(200);
    expect(reply.body.nodes.orders).toEqual({
      columns: null,
      source: 'unknown',
      message: `config.path: "../${projectA}/orders.csv" is outside the data directory; paths must stay inside it`,
    });
    expect(JSON.stringify(reply.body)).not.toContain('customer');

    // The default project's folder is the data directory itself, minus the projects' folders.
    const fromDefault = ordersPipeline(uniq('sch'), TOTALS, 'default', `${projectA}/orders.csv`);
    await create(fromDefault);
    const refused = await api.call('POST', `/api/pipelines/${fromDefault.id}/schemas`, { body: fromDefault });
    expect(refused.body.nodes.orders).toEqual({
      columns: null,
      source: 'unknown',
      message: `config.path: "${projectA}/orders.csv" is in the files of project ${projectA}; the default project cannot reach them`,
    });
  });

  it("never describes another project's tables: it says they are not shared, not what they hold", async () => {
    const schemaA = projectSchemaName(projectA);
    await api.h.platform.warehousePool.query(`create table ${schemaA}.secret_facts (hidden_column int)`);
    const asB = (table: string) => ({
      ...ordersPipeline(uniq('sch'), 'select * from {{ inputs.orders }}', projectB),
      nodes: [
        { id: 'orders', type: 'source.table', config: { table } },
        { id: 'totals', type: 'transform.sql', config: { sql: `select * from ${schemaA}.secret_facts` } },
      ],
      edges: [],
    });
    const doc = asB(`${schemaA}.secret_facts`);
    await api.call('POST', '/api/pipelines', { body: doc });
    const reply = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(reply.status).toBe(200);
    expect(reply.body.nodes.orders).toEqual({
      columns: null,
      source: 'unknown',
      message: `config.table: table ${schemaA}.secret_facts belongs to project ${projectA} and is not shared with project ${projectB}; ask its owners to share it`,
    });
    expect(reply.body.nodes.totals).toMatchObject({ columns: null, source: 'unknown' });
    expect(reply.body.nodes.totals.message).toContain(`belongs to project ${projectA}`);
    expect(JSON.stringify(reply.body)).not.toContain('hidden_column');
  });
});

describe('SQL checks with known inputs', () => {
  it('reports an unknown column at its line and column, naming the columns there are', async () => {
    const doc = ordersPipeline(uniq('val'), 'select id,\n       amout\n  from {{ inputs.orders }}');
    const reply = await api.call('POST', '/api/pipelines/validate', { body: doc });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      valid: false,
      errors: [
        {
          code: 'unknown_column',
          nodeId: 'totals',
          path: 'nodes[1].config.sql',
          line: 2,
          column: 8,
          message:
            'Node "totals", line 2, column 8: Unknown column "amout" in orders; it has: id, amount, customer; did you mean "amount"?',
        },
      ],
    });
  });

  it('reports an unknown table, naming the inputs', async () => {
    const doc = ordersPipeline(
      uniq('val'),
      'select * from {{ inputs.orders }} o join suppliers s on s.id = o.id',
    );
    const reply = await api.call('POST', '/api/pipelines/validate', { body: doc });
    expect(reply.body.errors).toEqual([
      expect.objectContaining({
        code: 'unknown_table',
        nodeId: 'totals',
        line: 1,
        column: 42,
        message: expect.stringContaining(
          `Unknown table "suppliers"; the step's inputs are {{ inputs.orders }}`,
        ),
      }),
    ]);
  });

  it('answers valid for a query whose names all exist', async () => {
    const doc = ordersPipeline(uniq('val'));
    expect((await api.call('POST', '/api/pipelines/validate', { body: doc })).body).toEqual({
      valid: true,
      errors: [],
    });
  });

  it("checks names only for a caller who may read the project: no column of it reaches another's token", async () => {
    const doc = ordersPipeline(uniq('val'), 'select amout from {{ inputs.orders }}');
    const tokenB = await api.token(['read'], [projectB]);
    const reply = await api.call('POST', '/api/pipelines/validate', { body: doc, token: tokenB });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ valid: true, errors: [] });
  });
});
