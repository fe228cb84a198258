// Lineage of the Python node types, from their declarations: an Airbyte stream is a dataset of its
// own, and a Python transform's output columns are derived from every input column (opaque code)
// unless the node declares a mapping.
import { registry } from '@tributary/activities';
import { describe, expect, it } from 'vitest';
import { buildLineage, type PipelineForLineage } from './lineage-graph.js';

const nodeTypes = { get: (type: string) => registry.find((d) => d.type === type) };
const catalog = {
  tableColumns: (table: string) => (table === 'public.orders' ? ['id', 'user_id', 'total'] : undefined),
  productTable: () => undefined,
};

const pipeline = (python: Record<string, unknown>): PipelineForLineage => ({
  id: 'shop',
  project: 'default',
  nodes: [
    {
      id: 'users',
      type: 'source.airbyte',
      config: { package: 'airbyte-source-faker==6.2.32', stream: 'users' },
    },
    {
      id: 'events',
      type: 'source.singer',
      config: { package: 'tap-jsonl==0.3.1', stream: 'events' },
    },
    { id: 'typed', type: 'source.table', config: { table: 'public.orders' } },
    { id: 'py', type: 'transform.python', config: { code: 'def transform(i, p): ...', ...python } },
    { id: 'out', type: 'sink.postgres', config: { table: 'public.scores', mode: 'replace' } },
  ],
  edges: [
    { from: 'users', to: 'py' },
    { from: 'typed', to: 'py' },
    { from: 'py', to: 'out' },
  ],
});

describe('lineage of Python steps and connectors', () => {
  it('shows Airbyte and Singer streams as datasets read by their steps', async () => {
    const graph = await buildLineage([pipeline({})], catalog, nodeTypes);
    expect(graph.nodes.get('external:airbyte:airbyte-source-faker/users')).toMatchObject({
      kind: 'external',
    });
    expect(graph.nodes.get('external:singer:tap-jsonl/events')).toMatchObject({ kind: 'external' });
    expect(graph.edges).toContainEqual({
      from: 'external:airbyte:airbyte-source-faker/users',
      to: 'step:shop/users',
    });
  });

  it('shows each stream a several-streams Singer node reads as a dataset of its own', async () => {
    const doc: PipelineForLineage = {
      id: 'shop',
      project: 'default',
      nodes: [
        {
          id: 'src',
          type: 'source.singer',
          config: {
            package: 'tap-spreadsheets==1.1.2',
            streams: [{ name: 'users' }, { name: 'orders', syncMode: 'incremental' }],
          },
        },
      ],
      edges: [],
    };
    const graph = await buildLineage([doc], catalog, nodeTypes);
    for (const stream of ['users', 'orders']) {
      expect(graph.nodes.get(`external:singer:tap-spreadsheets/${stream}`)).toMatchObject({
        kind: 'external',
      });
      expect(graph.edges).toContainEqual({
        from: `external:singer:tap-spreadsheets/${stream}`,
        to: 'step:shop/src',
      });
    }
  });

  it('derives each output column of opaque code from every input column', async () => {
    const graph = await buildLineage([pipeline({ outputColumns: ['score'] })], catalog, nodeTypes);
    expect(graph.nodes.get('step:shop/py')?.columns).toEqual(['score']);
    const derived = (column: string) => ({ table: 'public.orders', column, transformation: 'derived' });
    expect(graph.columns.get('table:public.scores#score')?.sources).toEqual([
      derived('id'),
      derived('user_id'),
      derived('total'),
    ]);
  });

  it('follows a declared mapping to the input columns it names', async () => {
    const graph = await buildLineage(
      [pipeline({ lineage: { total_x2: ['typed.total'], who: ['typed.user_id', 'typed.id'] } })],
      catalog,
      nodeTypes,
    );
    expect(graph.nodes.get('step:shop/py')?.columns).toEqual(['total_x2', 'who']);
    expect(graph.columns.get('table:public.scores#total_x2')?.sources).toEqual([
      { table: 'public.orders', column: 'total', transformation: 'derived' },
    ]);
    expect(graph.columns.get('table:public.scores#who')?.sources.map((s) => s.column)).toEqual([
      'user_id',
      'id',
    ]);
  });
});
