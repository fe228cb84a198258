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
    const kept = queryLineage(await index.graph(), query);
    expect(kept.columns).toEqual(whole.columns);
    expect(kept.columns.find((c) => c.table === 'shop.stage_a')?.sources).toEqual([
      { table: 'shop/a.csv', column: 'qty', transformation: 'direct' },
    ]);
    expect(built.sort()).toEqual(['a', 'b']);
    await index.graph();
    expect(built).toHaveLength(2);
    versions.set('b', 2);
    await index.graph();
    expect(built).toEqual(['a', 'b', 'b']);
  });

  it("names only the problems of the steps around the table asked about, not another pipeline's", async () => {
    const good = csvPipeline('good', 'good_out', 'select sku, qty from {{ inputs.file }}');
    // `*` over a table the catalogue does not know: lineage cannot say which columns come out.
    const bad = csvPipeline('bad', 'bad_out', 'select * from {{ inputs.file }} f, nowhere n');
    const graph = await buildLineage([good, bad], catalog, activityCatalog);
    expect(graph.problems.some((p) => p.startsWith('bad.sql: '))).toBe(true);
    const around = (table: string) => queryLineage(graph, { table, direction: 'both', depth: 3 }).problems;
    expect(around('shop.good_out')).toEqual([]);
    expect(around('shop.bad_out')).toEqual(graph.problems.filter((p) => p.startsWith('bad.')));
    expect(around('shop.bad_out').length).toBeGreaterThan(0);
  });
});
