// Lineage without a database: a CSV → SQL → sink pipeline's OpenLineage events carry the file's
// declared column types and validate against the official schemas; the kept index merges per-pipeline
// graphs into what one build of every pipeline gives, and rebuilds only what was published.
import { describe, expect, it } from 'vitest';
import { openLineageProblems } from '../../test/lineage/openlineage-validator.js';
import { activityCatalog } from '../pipelines/node-catalog.js';
import { buildLineage, queryLineage, type LineageCatalog, type PipelineForLineage } from './lineage-graph.js';
import { LineageIndex } from './lineage-index.js';
import { runEvents } from './openlineage.js';

const tables = new Map([['shop.blocked', ['sku']]]);
const catalog: LineageCatalog = {
  tableColumns: (name) => tables.get(name),
  columnType: () => 'text',
  productTable: () => undefined,
};

const csvPipeline = (id: string, table: string, sql: string): PipelineForLineage => ({
  id,
  project: 'shop',
  nodes: [
    {
      id: 'file',
      type: 'source.csv',
      config: {
        path: `${id}.csv`,
        columns: [
          { name: 'sku', type: 'text' },
          { name: 'qty', type: 'integer' },
        ],
      },
    },
    { id: 'sql', type: 'transform.sql', config: { sql } },
    { id: 'out', type: 'sink.postgres', config: { table, mode: 'replace' } },
  ],
  edges: [
    { from: 'file', to: 'sql' },
    { from: 'sql', to: 'out' },
  ],
});

describe('lineage without a database', () => {
  it("gives a file's declared column types in the schema facet, and valid events for each outcome", async () => {
    const pipeline = csvPipeline(
      'totals',
      'totals',
      'select sku, sum(qty) as qty from {{ inputs.file }} f where not exists (select 1 from blocked b where b.sku = f.sku) group by sku',
    );
    const graph = await buildLineage([pipeline], catalog, activityCatalog);
    const ns = { warehouse: { namespace: 'postgres://db:5432', database: 'wh' } };
    for (const [status, last] of [
      ['succeeded', 'COMPLETE'],
      ['failed', 'FAIL'],
      ['cancelled', 'ABORT'],
    ] as const) {
      const events = runEvents(
        {
          uuid: '01a24eb8-c670-717f-bcef-dc8e2c8b7cf3',
          project: 'shop',
          pipelineId: 'totals',
          status,
          startedAt: '2026-12-07T04:00:00.000Z',
          endedAt: '2026-12-07T04:00:05.000Z',
          error: status === 'failed' ? 'Step "sql" (transform.sql): division by zero' : null,
        },
        pipeline,
        graph,
        catalog,
        ns,
      );
      expect(events.map((e) => e.eventType)).toEqual(['START', last]);
      for (const event of events) expect(openLineageProblems(event)).toEqual([]);
      const inputs = events[1]!.inputs as { name: string; facets: { schema?: { fields: unknown[] } } }[];
      expect(inputs.map((d) => d.name).sort()).toEqual(['shop/totals.csv', 'wh.shop.blocked']);
      expect(inputs.find((d) => d.name === 'shop/totals.csv')?.facets.schema?.fields).toEqual([
        { name: 'sku', type: 'text' },
        { name: 'qty', type: 'integer' },
      ]);
    }
  });

  it('keeps per-pipeline graphs: the merge answers as one build does, and a publish rebuilds one pipeline', async () => {
    const pipelines = [
      csvPipeline('a', 'stage_a', 'select sku, qty from {{ inputs.file }}'),
      {
        id: 'b',
        project: 'shop',
        nodes: [
          { id: 'src', type: 'source.table', config: { table: 'stage_a' } },
          {
            id: 'sql',
            type: 'transform.sql',
            config: { sql: 'select sku, qty * 2 as double_qty from {{ inputs.src }}' },
          },
          { id: 'out', type: 'sink.postgres', config: { table: 'final_b', mode: 'replace' } },
        ],
        edges: [
          { from: 'src', to: 'sql' },
          { from: 'sql', to: 'out' },
        ],
      },
    ];
    tables.set('shop.stage_a', ['sku', 'qty']);
    const versions = new Map([
      ['a', 1],
      ['b', 1],
    ]);
    const built: string[] = [];
    const index = new LineageIndex(
      {
        versions: async () => [...versions].map(([id, version]) => ({ id, version })),
        documents: async (wanted) => {
          built.push(...wanted.map((w) => w.id));
          return pipelines.filter((p) => wanted.some((w) => w.id === p.id));
        },
        catalog: async () => ({ catalog, fingerprint: 'one' }),
      },
      activityCatalog,
    );
    const query = { table: 'shop.final_b', column: 'double_qty', direction: 'up' as const, depth: 5 };
    const whole = queryLineage(await buildLineage(pipelines, catalog, activityCatalog), query);
    const buildIndexGraph = await index.graph();
    const kept = queryLineage(buildIndexGraph, query);
    expect(kept.columns).toEqual(whole.columns);
    expect(kept.columns.find((c) => c.table === 'shop.stage_a')?.sources).toEqual([
      { table: 'shop/a.csv', column: 'qty', transformation: 'direct' },
    ]);
    // depth counts datasets, not hops: one dataset up from final_b (two steps away) is stage_a, two is the file.
    const ids = (depth: number) =>
      queryLineage(buildIndexGraph, { table: 'shop.final_b', direction: 'up', depth })
        .nodes.filter((n) => n.kind !== 'step')
        .map((n) => n.name)
        .sort();
    expect(ids(1)).toEqual(['shop.final_b', 'shop.stage_a']);
    expect(ids(2)).toEqual(['shop.final_b', 'shop.stage_a', 'shop/a.csv']);
    expect(built.sort()).toEqual(['a', 'b']);
    await index.graph();
    expect(built).toHaveLength(2);
    versions.set('b', 2);
    await index.graph();
    expect(built).toEqual(['a', 'b', 'b']);
  });

  it("gives a header-only CSV's dataset the columns a run or the file showed, so lineage reaches it", async () => {
    const headerOnly: PipelineForLineage = {
      id: 'hdr',
      project: 'shop',
      nodes: [
        { id: 'file', type: 'source.csv', config: { path: 'hdr.csv' } },
        {
          id: 'sql',
          type: 'transform.sql',
          config: { sql: 'select sku, sum(qty) as total from {{ inputs.file }} group by sku' },
        },
        { id: 'out', type: 'sink.postgres', config: { table: 'hdr_totals', mode: 'replace' } },
      ],
      edges: [
        { from: 'file', to: 'sql' },
        { from: 'sql', to: 'out' },
      ],
    };
    // Unknown columns: the query's columns are named, but their sources stop before the file.
    const blind = await buildLineage([headerOnly], catalog, activityCatalog);
    expect(blind.columns.get('table:shop.hdr_totals#total')?.sources).toEqual([]);

    const observed = {
      file: [
        { name: 'sku', type: 'text' },
        { name: 'qty', type: 'bigint' },
      ],
    };
    const graph = await buildLineage([{ ...headerOnly, observed }], catalog, activityCatalog);
    expect(graph.nodes.get('file:shop/hdr.csv')).toMatchObject({
      columns: ['sku', 'qty'],
      columnTypes: { sku: 'text', qty: 'bigint' },
    });
    expect(graph.columns.get('table:shop.hdr_totals#total')?.sources).toEqual([
      { table: 'shop/hdr.csv', column: 'qty', transformation: 'aggregation' },
    ]);
    // Columns the config lists win over what was observed.
    const declared = csvPipeline('dec', 'dec_out', 'select sku from {{ inputs.file }}');
    const kept = await buildLineage(
      [{ ...declared, observed: { file: [{ name: 'other', type: 'text' }] } }],
      catalog,
      activityCatalog,
    );
    expect(kept.nodes.get('file:shop/dec.csv')?.columns).toEqual(['sku', 'qty']);
  });

  it("types generated rows' columns by their generators, and a query's answer has only its steps' problems", async () => {
    const generated: PipelineForLineage = {
      id: 'gen',
      project: 'shop',
      nodes: [
        {
          id: 'rows',
          type: 'source.generate',
          config: {
            rows: 3,
            columns: [
              { name: 'id', generator: 'sequence' },
              { name: 'price', generator: 'number', min: 1, max: 2 },
            ],
          },
        },
        { id: 'out', type: 'sink.postgres', config: { table: 'gen_out', mode: 'replace' } },
      ],
      edges: [{ from: 'rows', to: 'out' }],
    };
    const unfollowed = csvPipeline('bad', 'bad_out', 'select (f).* from {{ inputs.file }} f');
    const graph = await buildLineage([generated, unfollowed], catalog, activityCatalog);
    expect(graph.nodes.get('generated:gen/rows')?.columnTypes).toEqual({ id: 'bigint', price: 'numeric' });
    expect(graph.problems).toEqual([expect.stringMatching(/^bad\.sql: /)]);
    expect(queryLineage(graph, { table: 'shop.bad_out', direction: 'up', depth: 3 }).problems).toEqual(
      graph.problems,
    );
    expect(queryLineage(graph, { table: 'shop.gen_out', direction: 'up', depth: 3 }).problems).toEqual([]);
  });
});
