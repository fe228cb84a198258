// toPipeline/fromPipeline round trips and the graph rules the canvas enforces while connecting.
import { describe, expect, it } from 'vitest';
import {
  connectionProblem,
  fragmentOf,
  fromPipeline,
  parseFragment,
  pasteFragment,
  slugify,
  toPipeline,
  uniqueNodeId,
} from './flow.ts';
import { layoutPositions } from './layout.ts';
import type { NodeKind, PipelineDocument } from './types.ts';

/** The node catalogue's kinds, as GET /api/connectors declares them for these types. */
const KINDS: Record<string, NodeKind> = {
  'source.csv': 'source',
  'transform.sql': 'transform',
  'sink.postgres': 'sink',
};
const kindOf = (type: string): NodeKind => KINDS[type] ?? 'transform';

const doc: PipelineDocument = {
  apiVersion: 'tributary/v1',
  id: 'orders-daily',
  name: 'Orders daily',
  project: 'sales',
  params: { since: { type: 'date', default: '2026-01-01' } },
  settings: { maxParallel: 4, concurrency: 'queue', keepStaging: false },
  nodes: [
    { id: 'orders', type: 'source.csv', config: { path: 'orders.csv' }, position: { x: 0, y: 10 } },
    {
      id: 'daily',
      type: 'transform.sql',
      name: 'Daily totals',
      config: { sql: 'select * from {{ inputs.orders }}' },
      position: { x: 260, y: 10 },
    },
    {
      id: 'out',
      type: 'sink.postgres',
      config: { table: 'mart.daily', mode: 'replace' },
      retry: { maxAttempts: 5 },
      timeoutSeconds: 600,
      continueOnFailure: false,
      position: { x: 520, y: 10 },
    },
  ],
  edges: [
    { from: 'orders', to: 'daily' },
    { from: 'daily', to: 'out' },
  ],
};

describe('fromPipeline / toPipeline', () => {
  it('gives back the same document after a round trip through the canvas', () => {
    const graph = fromPipeline(doc, kindOf);
    expect(toPipeline(graph.meta, graph.nodes, graph.edges)).toEqual(doc);
  });

  it('makes one canvas node per document node, typed by its kind, with its data', () => {
    const { nodes, edges } = fromPipeline(doc, kindOf);
    expect(nodes.map((n) => [n.id, n.type])).toEqual([
      ['orders', 'source'],
      ['daily', 'transform'],
      ['out', 'sink'],
    ]);
    expect(nodes[2]!.data).toEqual({
      type: 'sink.postgres',
      config: { table: 'mart.daily', mode: 'replace' },
      retry: { maxAttempts: 5 },
      timeoutSeconds: 600,
      continueOnFailure: false,
    });
    expect(edges).toEqual([
      { id: 'orders->daily', source: 'orders', target: 'daily' },
      { id: 'daily->out', source: 'daily', target: 'out' },
    ]);
  });

  it('does not share config objects between the document and the canvas', () => {
    const { nodes } = fromPipeline(doc, kindOf);
    (nodes[0]!.data.config as { path: string }).path = 'changed.csv';
    expect(doc.nodes[0]!.config!.path).toBe('orders.csv');
  });

  it('places nodes without a position apart from each other', () => {
    const { nodes } = fromPipeline({ ...doc, nodes: doc.nodes.map(({ position: _p, ...n }) => n) }, kindOf);
    const xs = nodes.map((n) => n.position.x);
    expect(new Set(xs).size).toBe(3);
  });

  it('rounds positions and leaves out empty optional fields and canvas-only state', () => {
    const { meta, nodes, edges } = fromPipeline(doc, kindOf);
    const moved = nodes.map((n, i) =>
      i === 0 ? { ...n, selected: true, position: { x: 10.4, y: 20.6 }, data: { ...n.data, name: '' } } : n,
    );
    const out = toPipeline(meta, moved, edges);
    expect(out.nodes[0]).toEqual({
      id: 'orders',
      type: 'source.csv',
      config: { path: 'orders.csv' },
      position: { x: 10, y: 21 },
    });
    expect(JSON.stringify(out)).not.toContain('selected');
  });
});

describe('connectionProblem', () => {
  const { nodes, edges } = fromPipeline(doc, kindOf);
  const limits = (type: string) => (type.startsWith('sink.') ? 1 : null);

  it('allows an edge that keeps the graph acyclic', () => {
    const extra = fromPipeline(
      {
        ...doc,
        nodes: [...doc.nodes, { id: 'more', type: 'transform.sql', config: {} }],
      },
      kindOf,
    ).nodes;
    expect(connectionProblem(extra, edges, { source: 'daily', target: 'more' }, limits)).toBeNull();
  });

  it('refuses a cycle and names the nodes on it', () => {
    const extra = fromPipeline(
      {
        ...doc,
        nodes: [...doc.nodes, { id: 'again', type: 'transform.sql', config: {} }],
        edges: [...doc.edges!, { from: 'daily', to: 'again' }],
      },
      kindOf,
    );
    expect(connectionProblem(extra.nodes, extra.edges, { source: 'again', target: 'daily' }, limits)).toBe(
      'That would make a cycle: daily → again → daily',
    );
  });

  it('refuses an edge into a source and out of a sink', () => {
    expect(connectionProblem(nodes, edges, { source: 'daily', target: 'orders' })).toBe(
      '"orders" is a source: it takes no inputs',
    );
    expect(connectionProblem(nodes, edges, { source: 'out', target: 'daily' })).toBe(
      '"out" is a sink: it has no output to connect',
    );
  });

  it('refuses a self loop, a duplicate edge and an input past the limit', () => {
    expect(connectionProblem(nodes, edges, { source: 'daily', target: 'daily' })).toBe(
      '"daily" cannot feed itself',
    );
    expect(connectionProblem(nodes, edges, { source: 'orders', target: 'daily' })).toBe(
      '"orders" already feeds "daily"',
    );
    expect(connectionProblem(nodes, edges, { source: 'orders', target: 'out' }, limits)).toBe(
      '"out" takes at most 1 input',
    );
  });
});

describe('ids, copy and paste', () => {
  it('derives unique slug ids from node types', () => {
    expect(uniqueNodeId('transform.sql', [])).toBe('sql');
    expect(uniqueNodeId('transform.sql', ['sql', 'sql_2'])).toBe('sql_3');
    expect(slugify('Orders daily!')).toBe('orders-daily');
  });

  it('pastes copied nodes under fresh ids, rewiring edges and input references', () => {
    const { nodes, edges } = fromPipeline(doc, kindOf);
    const fragment = fragmentOf(nodes.slice(0, 2), edges);
    expect(fragment.edges).toEqual([{ from: 'orders', to: 'daily' }]);
    const parsed = parseFragment(JSON.stringify(fragment))!;
    const pasted = pasteFragment(
      parsed,
      nodes.map((n) => n.id),
      { x: 40, y: 40 },
      kindOf,
    );
    expect(pasted.nodes.map((n) => n.id)).toEqual(['orders_2', 'daily_2']);
    expect(pasted.edges.map((e) => [e.source, e.target])).toEqual([['orders_2', 'daily_2']]);
    expect(pasted.nodes[1]!.data.config.sql).toBe('select * from {{ inputs.orders_2 }}');
    expect(pasted.nodes[0]!.position).toEqual({ x: 40, y: 50 });
  });

  it('ignores clipboard text that is not a pipeline fragment', () => {
    expect(parseFragment('hello')).toBeNull();
    expect(parseFragment('{"nodes": []}')).toBeNull();
  });
});

describe('layoutPositions', () => {
  it('lays a chain out left to right', () => {
    const { nodes, edges } = fromPipeline(doc, kindOf);
    const positions = layoutPositions(nodes, edges);
    const xs = ['orders', 'daily', 'out'].map((id) => positions.get(id)!.x);
    expect(xs[0]).toBeLessThan(xs[1]!);
    expect(xs[1]).toBeLessThan(xs[2]!);
  });
});

describe('lineDiff', () => {
  it('aligns unchanged lines and pairs a changed line with its replacement', async () => {
    const { lineDiff } = await import('./diff.ts');
    const rows = lineDiff('a\nb\nc\nd', 'a\nB\nc\nd\ne');
    expect(rows).toEqual([
      { left: 'a', right: 'a', kind: 'same' },
      { left: 'b', right: 'B', kind: 'changed' },
      { left: 'c', right: 'c', kind: 'same' },
      { left: 'd', right: 'd', kind: 'same' },
      { left: null, right: 'e', kind: 'added' },
    ]);
  });
});

describe('canonicalJson', () => {
  it('orders keys the same way whatever order the store kept them in', async () => {
    const { canonicalJson } = await import('./diff.ts');
    const a = canonicalJson({
      name: 'x',
      id: 'p',
      nodes: [{ config: { b: 1, a: 2 }, type: 't', id: 'n' }],
      edges: [],
    });
    const b = canonicalJson({
      id: 'p',
      edges: [],
      nodes: [{ id: 'n', type: 't', config: { a: 2, b: 1 } }],
      name: 'x',
    });
    expect(a).toBe(b);
    expect(a.indexOf('"id": "p"')).toBeLessThan(a.indexOf('"name"'));
  });
});
