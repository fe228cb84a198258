// lineage: a column query (where does `total` come from, 3 datasets up) over the lineage of 5,000
// pipelines, each a table source, a SQL step (CTE, join, aggregate) and a sink, chained in runs of
// 50 through the tables they write. Ours: the kept index (each pipeline's graph built once per
// version) answering a request, with nothing published since and with one pipeline published
// since. Baseline: what each request did before, rebuilding every pipeline's lineage. In-process:
// the platform adds one query of 5,000 (id, version) rows to each request.
import {
  buildLineage,
  queryLineage,
  type PipelineForLineage,
} from '../../engine/src/lineage/lineage-graph.js';
import { LineageIndex, type LineageSource } from '../../engine/src/lineage/lineage-index.js';
import { activityCatalog } from '../../engine/src/pipelines/node-catalog.js';
import type { Benchmark } from '../lib/bench.js';
import type { Figure } from '../lib/figures.js';
import { interleaved, timed } from '../lib/measure.js';

const PIPELINES = 5_000;
const CHAIN = 50;

function pipeline(i: number, version: number): PipelineForLineage {
  const input = i % CHAIN === 0 ? 'bench.raw_orders' : `bench.t${i - 1}`;
  return {
    id: `bench-lineage-${i}`,
    project: 'bench',
    nodes: [
      { id: 'src', type: 'source.table', config: { table: input } },
      {
        id: 'sql',
        type: 'transform.sql',
        config: {
          sql: `with paid as (select id, amount, customer from {{ inputs.src }} where amount > ${version})
                select p.id, p.customer, sum(p.amount) as total
                  from paid p join bench.customers c on c.id = p.customer
                 group by p.id, p.customer`,
        },
      },
      { id: 'out', type: 'sink.postgres', config: { table: `bench.t${i}`, mode: 'replace' } },
    ],
    edges: [
      { from: 'src', to: 'sql' },
      { from: 'sql', to: 'out' },
    ],
  };
}

export const lineageBench: Benchmark = {
  name: 'lineage',
  async run() {
    const versions = new Map(Array.from({ length: PIPELINES }, (_, i) => [`bench-lineage-${i}`, 1]));
    const tables = new Map<string, string[]>([
      ['bench.raw_orders', ['id', 'amount', 'customer']],
      ['bench.customers', ['id', 'name']],
      ...Array.from(
        { length: PIPELINES },
        (_, i) => [`bench.t${i}`, ['id', 'amount', 'customer', 'total']] as [string, string[]],
      ),
    ]);
    const catalog = { tableColumns: (name: string) => tables.get(name), productTable: () => undefined };
    const documents = (wanted: { id: string; version: number }[]) =>
      wanted.map((w) => pipeline(Number(w.id.slice('bench-lineage-'.length)), w.version));
    const source: LineageSource = {
      versions: async () => [...versions].map(([id, version]) => ({ id, version })),
      documents: async (wanted) => documents(wanted),
      catalog: async () => ({ catalog, fingerprint: 'bench' }),
    };
    const index = new LineageIndex(source, activityCatalog, 60 * 60_000);
    const started = performance.now();
    await index.graph();
    const firstBuild = performance.now() - started;
    // The last table of a chain: its `total` comes through three datasets up.
    const query = { table: `bench.t${CHAIN - 1}`, column: 'total', direction: 'up' as const, depth: 3 };
    const request = async () => queryLineage(await index.graph(), query);
    let published = 1;
    const figures: Figure[] = [];
    const steady = await interleaved(
      () => timed(request),
      () =>
        timed(async () =>
          queryLineage(
            await buildLineage(
              documents([...versions].map(([id, version]) => ({ id, version }))),
              catalog,
              activityCatalog,
            ),
            query,
          ),
        ),
    );
    figures.push({
      bench: 'lineage',
      name: `column query over ${PIPELINES.toLocaleString('en-US')} pipelines`,
      unit: 'ms',
      ours: steady.ours,
      baselineName: 'rebuild every pipeline per request',
      baseline: steady.baseline,
      goal: { kind: 'at-most', value: 200 },
    });
    const afterPublish = await interleaved(
      () =>
        timed(async () => {
          versions.set(`bench-lineage-${published++ % PIPELINES}`, published);
          await request();
        }),
      () =>
        timed(async () =>
          queryLineage(
            await buildLineage(
              documents([...versions].map(([id, version]) => ({ id, version }))),
              catalog,
              activityCatalog,
            ),
            query,
          ),
        ),
      { warmUp: false },
    );
    figures.push({
      bench: 'lineage',
      name: `column query right after a publish (${PIPELINES.toLocaleString('en-US')} pipelines)`,
      unit: 'ms',
      ours: afterPublish.ours,
      baselineName: 'rebuild every pipeline per request',
      baseline: afterPublish.baseline,
      goal: { kind: 'none', note: 'one pipeline rebuilt and the graph re-merged' },
    });
    return {
      figures,
      notes: [
        `lineage: the index's first build of ${PIPELINES.toLocaleString('en-US')} pipelines took ${(firstBuild / 1000).toFixed(1)} s (once per process)`,
      ],
    };
  },
};
