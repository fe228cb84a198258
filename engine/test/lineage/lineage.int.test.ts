// Lineage on the real stack: tables and columns traced through SQL transforms (aliases, a CTE, an
// aggregate, a join with `o.*`) and across two pipelines that rename a column twice; a run as
// OpenLineage events, checked against the RunEvent shape of the OpenLineage spec.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, uniq, type ApiHarness, type Body } from '../api/api-harness.js';
import { openLineageProblems } from './openlineage-validator.js';

let api: ApiHarness;
const project = uniq('lin');
const s = projectSchemaName(project);
const runIds: Record<string, string> = {};

async function runPipeline(id: string, nodes: unknown[], edges: unknown[]) {
  const saved = await api.call('POST', '/api/pipelines', {
    body: { apiVersion: 'tributary/v1', id: `${project}-${id}`, name: id, project, nodes, edges },
  });
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
  const started = await api.call('POST', `/api/pipelines/${project}-${id}/runs`, { body: {} });
  await api.h.platform.temporal.workflow
    .getHandle(started.body.runId)
    .result()
    .catch(() => {});
  const detail = await api.h.platform.runs.get(started.body.runId);
  expect(detail.status, JSON.stringify(detail.progress)).toBe('succeeded');
  runIds[id] = started.body.runId;
}

const sink = (table: string) => ({ id: 'out', type: 'sink.postgres', config: { table, mode: 'replace' } });

beforeAll(async () => {
  api = await startApi();
  expect((await api.call('POST', '/api/projects', { body: { id: project, name: project } })).status).toBe(
    201,
  );
  await api.h.platform.warehousePool.query(`
    create table ${s}.raw_orders (id int, amount numeric, customer int);
    insert into ${s}.raw_orders values (1, 10, 7), (2, 20, 8);
    create table ${s}.customers (id int, name text, city text);
    insert into ${s}.customers values (7, 'Ann', 'Oslo'), (8, 'Bo', 'Lund');
    create table ${s}.blocked (customer int, reason text);
    insert into ${s}.blocked values (8, 'fraud');`);
  await api.h.giveSchema(s, project);
  // Pipeline 1 renames id to order_id; pipeline 2 renames it again, in a CTE and outside it.
  await runPipeline(
    'clean',
    [
      { id: 'src', type: 'source.table', config: { table: `${s}.raw_orders` } },
      {
        id: 'sql',
        type: 'transform.sql',
        config: {
          sql: 'select r.id as order_id, r.amount * 1.2 as gross, r.customer from {{ inputs.src }} as r',
        },
      },
      sink('orders_clean'),
    ],
    [
      { from: 'src', to: 'sql' },
      { from: 'sql', to: 'out' },
    ],
  );
  await runPipeline(
    'final',
    [
      { id: 'src', type: 'source.table', config: { table: 'orders_clean' } },
      {
        id: 'sql',
        type: 'transform.sql',
        config: {
          sql: 'with c as (select order_id as oid, gross from {{ inputs.src }}) select oid as final_id, sum(gross) as total from c group by oid',
        },
      },
      sink('orders_final'),
    ],
    [
      { from: 'src', to: 'sql' },
      { from: 'sql', to: 'out' },
    ],
  );
  await runPipeline(
    'enriched',
    [
      { id: 'o', type: 'source.table', config: { table: 'orders_clean' } },
      { id: 'c', type: 'source.table', config: { table: 'customers' } },
      {
        id: 'sql',
        type: 'transform.sql',
        config: {
          sql: 'select o.*, c.name as customer_name from {{ inputs.o }} o join {{ inputs.c }} c on c.id = o.customer',
        },
      },
      sink('orders_enriched'),
    ],
    [
      { from: 'o', to: 'sql' },
      { from: 'c', to: 'sql' },
      { from: 'sql', to: 'out' },
    ],
  );
  // Reads `blocked` (unqualified) only in a NOT EXISTS subquery, and `customers` only in a JOIN.
  await runPipeline(
    'allowed',
    [
      { id: 'src', type: 'source.table', config: { table: `${s}.raw_orders` } },
      {
        id: 'sql',
        type: 'transform.sql',
        config: {
          sql: `select r.id, r.amount from {{ inputs.src }} r join customers c on c.id = r.customer
                 where not exists (select 1 from blocked b where b.customer = r.customer)
                 order by r.id`,
        },
      },
      sink('orders_allowed'),
    ],
    [
      { from: 'src', to: 'sql' },
      { from: 'sql', to: 'out' },
    ],
  );
});
afterAll(async () => {
  await api?.h.platform.warehousePool.query(`drop schema if exists ${s} cascade`);
  await api?.stop();
});

const lineage = async (query: string) => {
  const reply = await api.call('GET', `/api/lineage?${query}`);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as {
    nodes: { id: string; kind: string; name: string }[];
    edges: { from: string; to: string }[];
    columns: { table: string; column: string; sources: unknown[]; indirect: unknown[] }[];
  };
};

describe('lineage', () => {
  it('traces a column renamed twice across two pipelines back to its source, and says which step transformed it', async () => {
    const up = await lineage(`table=${s}.orders_final&column=final_id&direction=up&depth=5`);
    expect(up.columns).toEqual(
      expect.arrayContaining([
        {
          table: `${s}.orders_final`,
          column: 'final_id',
          sources: [{ table: `${s}.orders_clean`, column: 'order_id', transformation: 'direct' }],
          indirect: [{ table: `${s}.orders_clean`, column: 'order_id', subtype: 'GROUP_BY' }],
        },
        {
          table: `${s}.orders_clean`,
          column: 'order_id',
          sources: [{ table: `${s}.raw_orders`, column: 'id', transformation: 'direct' }],
          indirect: [],
        },
      ]),
    );
    expect(up.columns).toHaveLength(2);
    const all = await lineage(`table=${s}.orders_final&direction=up&depth=5`);
    const total = all.columns.find((c) => c.table === `${s}.orders_final` && c.column === 'total');
    expect(total?.sources).toEqual([
      { table: `${s}.orders_clean`, column: 'gross', transformation: 'aggregation' },
    ]);
    const gross = all.columns.find((c) => c.table === `${s}.orders_clean` && c.column === 'gross');
    expect(gross?.sources).toEqual([
      { table: `${s}.raw_orders`, column: 'amount', transformation: 'derived' },
    ]);
    // Tables and steps: raw_orders → clean pipeline → orders_clean → final pipeline → orders_final.
    const ids = all.nodes.map((n) => n.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        `table:${s}.raw_orders`,
        `step:${project}-clean/sql`,
        `table:${s}.orders_clean`,
        `step:${project}-final/sql`,
        `table:${s}.orders_final`,
      ]),
    );
    expect(ids).not.toContain(`table:${s}.orders_enriched`); // downstream, not upstream
  });

  it('expands o.* through a join with the columns the input is known to have', async () => {
    const down = await lineage(`table=${s}.raw_orders&column=customer&direction=down&depth=5`);
    expect(
      down.columns.find((c) => c.table === `${s}.orders_enriched` && c.column === 'customer')?.sources,
    ).toEqual([{ table: `${s}.orders_clean`, column: 'customer', transformation: 'direct' }]);
    const enriched = await lineage(`table=${s}.orders_enriched&direction=up&depth=1`);
    expect(
      enriched.columns
        .filter((c) => c.table === `${s}.orders_enriched`)
        .map((c) => [c.column, c.sources])
        .sort(),
    ).toEqual([
      ['customer', [{ table: `${s}.orders_clean`, column: 'customer', transformation: 'direct' }]],
      ['customer_name', [{ table: `${s}.customers`, column: 'name', transformation: 'direct' }]],
      ['gross', [{ table: `${s}.orders_clean`, column: 'gross', transformation: 'direct' }]],
      ['order_id', [{ table: `${s}.orders_clean`, column: 'order_id', transformation: 'direct' }]],
    ]);
  });

  it('counts tables read only in a JOIN and a NOT EXISTS subquery (unqualified) as inputs, with JOIN, FILTER and SORT lineage', async () => {
    const up = await lineage(`table=${s}.orders_allowed&direction=up&depth=1`);
    expect(up.edges).toEqual(
      expect.arrayContaining([
        { from: `table:${s}.customers`, to: `step:${project}-allowed/sql` },
        { from: `table:${s}.blocked`, to: `step:${project}-allowed/sql` },
        { from: `table:${s}.raw_orders`, to: `step:${project}-allowed/src` },
      ]),
    );
    const amount = up.columns.find((c) => c.table === `${s}.orders_allowed` && c.column === 'amount');
    expect(amount?.sources).toEqual([
      { table: `${s}.raw_orders`, column: 'amount', transformation: 'direct' },
    ]);
    expect(amount?.indirect).toEqual(
      expect.arrayContaining([
        { table: `${s}.customers`, column: 'id', subtype: 'JOIN' },
        { table: `${s}.raw_orders`, column: 'customer', subtype: 'JOIN' },
        { table: `${s}.blocked`, column: 'customer', subtype: 'FILTER' },
        { table: `${s}.raw_orders`, column: 'id', subtype: 'SORT' },
      ]),
    );
    const reply = await api.call('GET', `/api/runs/${runIds.allowed}/openlineage`);
    const complete = (reply.body.events as Body[])[1]!;
    expect(openLineageProblems(complete)).toEqual([]);
    expect(complete.inputs.map((d: { name: string }) => d.name).sort()).toEqual(
      [`${s}.blocked`, `${s}.customers`, `${s}.raw_orders`].map((t) => `tributary_warehouse.${t}`),
    );
    expect(complete.outputs[0].facets.columnLineage.dataset).toEqual(
      expect.arrayContaining([
        {
          namespace: complete.inputs[0].namespace,
          name: `tributary_warehouse.${s}.blocked`,
          field: 'customer',
          transformations: [{ type: 'INDIRECT', subtype: 'FILTER' }],
        },
      ]),
    );
  });

  it('gives a run as OpenLineage START and COMPLETE events with schema and column lineage facets', async () => {
    const reply = await api.call('GET', `/api/runs/${runIds.clean}/openlineage`);
    expect(reply.status).toBe(200);
    const events = reply.body.events as Body[];
    expect(events.map((e) => e.eventType)).toEqual(['START', 'COMPLETE']);
    for (const event of events) expect(openLineageProblems(event)).toEqual([]);
    const complete = events[1]!;
    expect(complete.inputs.map((d: { name: string }) => d.name)).toEqual([
      `tributary_warehouse.${s}.raw_orders`,
    ]);
    expect(complete.inputs[0].facets.schema.fields).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'amount', type: 'numeric' },
      { name: 'customer', type: 'integer' },
    ]);
    const output = complete.outputs[0];
    expect(output.name).toBe(`tributary_warehouse.${s}.orders_clean`);
    expect(output.facets.columnLineage.fields.order_id.inputFields).toEqual([
      {
        namespace: complete.inputs[0].namespace,
        name: `tributary_warehouse.${s}.raw_orders`,
        field: 'id',
        transformations: [{ type: 'DIRECT', subtype: 'IDENTITY' }],
      },
    ]);
    expect(output.facets.columnLineage.fields.gross.inputFields[0].transformations).toEqual([
      { type: 'DIRECT', subtype: 'TRANSFORMATION' },
    ]);
  });

  it('traces a CSV → SQL → sink pipeline column by column to the file, and depth counts datasets', async () => {
    const id = `${project}-csv`;
    const saved = await api.call('POST', '/api/pipelines', {
      body: {
        apiVersion: 'tributary/v1',
        id,
        name: 'csv',
        project,
        nodes: [
          {
            id: 'file',
            type: 'source.csv',
            config: {
              path: 'sales.csv',
              columns: [
                { name: 'sku', type: 'text' },
                { name: 'qty', type: 'integer' },
                { name: 'price', type: 'numeric' },
              ],
            },
          },
          {
            id: 'sql',
            type: 'transform.sql',
            config: {
              sql: 'select sku, sum(qty * price) as total from {{ inputs.file }} where qty > 0 group by sku',
            },
          },
          sink('sku_totals'),
        ],
        edges: [
          { from: 'file', to: 'sql' },
          { from: 'sql', to: 'out' },
        ],
      },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const file = `${project}/sales.csv`;

    const reply = await api.call('GET', `/api/pipelines/${id}/lineage`);
    expect(reply.status).toBe(200);
    expect(reply.body.nodes).toContainEqual(
      expect.objectContaining({
        id: `file:${file}`,
        kind: 'file',
        columns: ['sku', 'qty', 'price'],
        columnTypes: { sku: 'text', qty: 'integer', price: 'numeric' },
      }),
    );
    const total = (reply.body.columns as Body[]).find((c) => c.column === 'total');
    expect(total).toEqual({
      table: `${s}.sku_totals`,
      column: 'total',
      sources: [
        { table: file, column: 'qty', transformation: 'aggregation' },
        { table: file, column: 'price', transformation: 'aggregation' },
      ],
      indirect: [
        { table: file, column: 'qty', subtype: 'FILTER' },
        { table: file, column: 'sku', subtype: 'GROUP_BY' },
      ],
    });
    expect(reply.body.problems).toEqual([]);

    // Across pipelines, by column: depth 1 from the table reaches the file (two steps between them).
    const up = await lineage(`table=${s}.sku_totals&column=total&direction=up&depth=1`);
    expect(up.nodes.map((n) => n.id)).toContain(`file:${file}`);
    expect(up.columns.find((c) => c.column === 'total')?.sources).toHaveLength(2);

    // Another project's token may not read this pipeline's lineage.
    const stranger = await api.token(['read'], ['some-other-project']);
    expect((await api.call('GET', `/api/pipelines/${id}/lineage`, { token: stranger })).status).toBe(403);
  });

  it('traces a CSV whose columns only its header names to the file, from the file before a run and from the kept run after it is gone', async () => {
    const id = `${project}-header`;
    const folder = path.join(api.h.dataDir, project);
    mkdirSync(folder, { recursive: true });
    const csv = path.join(folder, 'orders-header.csv');
    writeFileSync(csv, 'region,qty,price\nnorth,2,1.5\nsouth,3,2.25\nnorth,0,9\n');
    const nodes = [
      { id: 'file', type: 'source.csv', config: { path: 'orders-header.csv' } },
      {
        id: 'sql',
        type: 'transform.sql',
        config: {
          sql: 'select region, sum(qty * price) as revenue from {{ inputs.file }} where qty > 0 group by region',
        },
      },
      sink('region_revenue'),
    ];
    const edges = [
      { from: 'file', to: 'sql' },
      { from: 'sql', to: 'out' },
    ];
    const saved = await api.call('POST', '/api/pipelines', {
      body: {
        apiVersion: 'tributary/v1',
        id,
        name: 'header',
        project,
        settings: { keepStaging: true },
        nodes,
        edges,
      },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const file = `${project}/orders-header.csv`;
    const expectTraced = (body: Body) => {
      expect(body.nodes).toContainEqual(
        expect.objectContaining({
          id: `file:${file}`,
          kind: 'file',
          columns: ['region', 'qty', 'price'],
          columnTypes: { region: 'text', qty: 'bigint', price: 'numeric' },
        }),
      );
      const columns = body.columns as Body[];
      expect(columns.find((c) => c.column === 'revenue')).toEqual({
        table: `${s}.region_revenue`,
        column: 'revenue',
        sources: [
          { table: file, column: 'qty', transformation: 'aggregation' },
          { table: file, column: 'price', transformation: 'aggregation' },
        ],
        indirect: [
          { table: file, column: 'qty', subtype: 'FILTER' },
          { table: file, column: 'region', subtype: 'GROUP_BY' },
        ],
      });
      expect(columns.find((c) => c.column === 'region')?.sources).toEqual([
        { table: file, column: 'region', transformation: 'direct' },
      ]);
      expect(body.problems).toEqual([]);
    };

    // Not run yet: the header and a sample of the file say the columns and their types.
    const before = await api.call('GET', `/api/pipelines/${id}/lineage`);
    expect(before.status).toBe(200);
    expectTraced(before.body);

    // Run it (the staging is kept), then the file goes: the kept output of the run still says them.
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    await api.h.platform.temporal.workflow.getHandle(started.body.runId).result();
    rmSync(csv);
    const after = await api.call('GET', `/api/pipelines/${id}/lineage`);
    expectTraced(after.body);

    // The organisation's lineage goes from the sink's column to the file's, one dataset away.
    const up = await lineage(`table=${s}.region_revenue&column=revenue&direction=up&depth=1`);
    expect(up.nodes.map((n) => n.id)).toContain(`file:${file}`);
    expect(up.columns.find((c) => c.column === 'revenue')?.sources).toHaveLength(2);

    // The run's COMPLETE event names the file with its typed schema and the column lineage into it.
    const events = (await api.call('GET', `/api/runs/${started.body.runId}/openlineage`)).body
      .events as Body[];
    const complete = events.at(-1)!;
    expect(complete.eventType).toBe('COMPLETE');
    expect(openLineageProblems(complete)).toEqual([]);
    expect(complete.inputs).toEqual([
      {
        namespace: 'tributary-file',
        name: file,
        facets: {
          schema: expect.objectContaining({
            fields: [
              { name: 'region', type: 'text' },
              { name: 'qty', type: 'bigint' },
              { name: 'price', type: 'numeric' },
            ],
          }),
        },
      },
    ]);
    expect(complete.outputs[0].facets.columnLineage.fields.revenue.inputFields).toEqual([
      {
        namespace: 'tributary-file',
        name: file,
        field: 'qty',
        transformations: [{ type: 'DIRECT', subtype: 'AGGREGATION' }],
      },
      {
        namespace: 'tributary-file',
        name: file,
        field: 'price',
        transformations: [{ type: 'DIRECT', subtype: 'AGGREGATION' }],
      },
    ]);
  });

  it("never reads another project's file (or one outside the files) to name a dataset's columns", async () => {
    const victim = uniq('linv');
    expect((await api.call('POST', '/api/projects', { body: { id: victim, name: victim } })).status).toBe(
      201,
    );
    mkdirSync(path.join(api.h.dataDir, victim), { recursive: true });
    writeFileSync(path.join(api.h.dataDir, victim, 'secret.csv'), 'salary_of_ceo,ssn\n1,2\n');
    writeFileSync(path.join(api.h.dataDir, 'outside.csv'), 'outside_col\n1\n');
    for (const [suffix, file] of [
      ['climb', `../${victim}/secret.csv`],
      ['outside', '../outside.csv'],
    ] as const) {
      const id = `${project}-${suffix}`;
      const saved = await api.call('POST', '/api/pipelines', {
        body: {
          apiVersion: 'tributary/v1',
          id,
          name: suffix,
          project,
          nodes: [
            { id: 'file', type: 'source.csv', config: { path: file } },
            { id: 'out', type: 'sink.postgres', config: { table: `stolen_${suffix}`, mode: 'replace' } },
          ],
          edges: [{ from: 'file', to: 'out' }],
        },
      });
      expect(saved.status, JSON.stringify(saved.body)).toBe(201);
      const reply = await api.call('GET', `/api/pipelines/${id}/lineage`);
      expect(reply.status).toBe(200);
      const text = JSON.stringify(reply.body);
      expect(text).not.toContain('salary_of_ceo');
      expect(text).not.toContain('outside_col');
      const dataset = (reply.body.nodes as Body[]).find((n) => n.kind === 'file');
      expect(dataset?.columns).toBeUndefined();
      const org = JSON.stringify((await lineage(`table=${s}.stolen_${suffix}&direction=up&depth=2`)).nodes);
      expect(org).not.toContain('salary_of_ceo');
      expect(org).not.toContain('outside_col');
    }
    rmSync(path.join(api.h.dataDir, 'outside.csv'));
  });
});
