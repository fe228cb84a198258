// Hostile shapes: very large, very deep, cyclic, self-looping and duplicated pipelines are refused
// or compiled with correct results. No timings are asserted; the largest accepted shapes (the
// 2,000-node limit as a chain, a fan-out and a dense DAG) are compiled so that anything quadratic
// in nodes × edges would show as a slow test (the compiler's lookups are maps, not scans).
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { compile, type NodeCatalog } from './compile.js';

const catalog: NodeCatalog = {
  get: (type) =>
    ({
      'source.test': { kind: 'source' as const, config: z.object({}), inputs: { min: 0, max: 0 } },
      'transform.test': {
        kind: 'transform' as const,
        config: z.object({ sql: z.string() }),
        inputs: { min: 1, max: null },
      },
    })[type],
};

const MAX_NODES = 2_000;
const doc = (nodes: unknown[], edges: { from: string; to: string }[]) => ({
  apiVersion: 'tributary/v1',
  id: 'scale',
  name: 'Scale',
  nodes,
  edges,
});
const source = (id: string) => ({ id, type: 'source.test', config: {} });
const transform = (id: string, from: string[]) => ({
  id,
  type: 'transform.test',
  config: { sql: `select * from ${from.map((f) => `{{ inputs.${f} }}`).join(', ')}` },
});
const n = (i: number) => `n${i}`;

function chain(length: number) {
  const nodes = [source(n(0)), ...Array.from({ length: length - 1 }, (_, i) => transform(n(i + 1), [n(i)]))];
  const edges = Array.from({ length: length - 1 }, (_, i) => ({ from: n(i), to: n(i + 1) }));
  return doc(nodes, edges);
}

describe('compiling hostile shapes', () => {
  it('refuses 10,000 nodes with one error naming the limit', () => {
    const result = compile(chain(10_000), { catalog });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ code: 'invalid_document', path: 'nodes' });
    expect(result.errors[0]!.message).toContain(String(MAX_NODES));
  });

  it('compiles a chain as deep as the limit, in order, each step depending on the one before', () => {
    const result = compile(chain(MAX_NODES), { catalog });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.plan.steps).toHaveLength(MAX_NODES);
    result.plan.steps.forEach((step, i) => {
      expect(step.id).toBe(n(i));
      expect(step.dependsOn).toEqual(i === 0 ? [] : [n(i - 1)]);
    });
  });

  it('compiles a chain given in reverse document order into the same topological order', () => {
    const forward = chain(MAX_NODES);
    const reversed = { ...forward, nodes: [...forward.nodes].reverse() };
    const result = compile(reversed, { catalog });
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.plan.steps.map((s) => s.id)).toEqual(forward.nodes.map((x) => (x as { id: string }).id));
  });

  it('compiles a fan-out and a dense DAG with 10,000 edges', () => {
    const fan = doc(
      [source('root'), ...Array.from({ length: MAX_NODES - 1 }, (_, i) => transform(n(i), ['root']))],
      Array.from({ length: MAX_NODES - 1 }, (_, i) => ({ from: 'root', to: n(i) })),
    );
    const fanResult = compile(fan, { catalog });
    expect(fanResult.ok && fanResult.plan.steps.length).toBe(MAX_NODES);

    // 200 nodes, each reading the (up to) 50 before it: 10,000 - some edges, the edge limit.
    const nodes: unknown[] = [source(n(0))];
    const edges: { from: string; to: string }[] = [];
    for (let i = 1; i < 210 && edges.length < 10_000; i++) {
      const from = Array.from({ length: Math.min(i, 50) }, (_, k) => n(i - 1 - k)).slice(
        0,
        10_000 - edges.length,
      );
      nodes.push(transform(n(i), from));
      edges.push(...from.map((f) => ({ from: f, to: n(i) })));
    }
    const dense = compile(doc(nodes, edges), { catalog });
    expect(dense.ok).toBe(true);
    if (!dense.ok) return;
    const position = new Map(dense.plan.steps.map((s, i) => [s.id, i]));
    for (const step of dense.plan.steps) {
      for (const dep of step.dependsOn) expect(position.get(dep)!).toBeLessThan(position.get(step.id)!);
    }
  });

  it('refuses a cycle through every node of a maximal chain, naming the nodes on it', () => {
    const looped = chain(MAX_NODES);
    looped.edges.push({ from: n(MAX_NODES - 1), to: n(1) });
    const result = compile(looped, { catalog });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const cycle = result.errors.find((e) => e.code === 'cycle')!;
    expect(cycle).toBeDefined();
    expect(cycle.message).toContain(`${n(MAX_NODES - 1)} → ${n(1)}`);
    expect(cycle.message.split(' → ')).toHaveLength(MAX_NODES); // n1 … n1999 and back to n1
  });

  it('refuses a self-loop and duplicate ids, naming the node', () => {
    const self = compile(
      doc(
        [source('a'), transform('b', ['a'])],
        [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'b' },
        ],
      ),
      { catalog },
    );
    expect(self.ok).toBe(false);
    if (!self.ok)
      expect(self.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ code: 'cycle', nodeId: 'b' })]),
      );

    const many = Array.from({ length: MAX_NODES }, () => source('same'));
    const dup = compile(doc(many, []), { catalog });
    expect(dup.ok).toBe(false);
    if (dup.ok) return;
    const duplicates = dup.errors.filter((e) => e.code === 'duplicate_node_id');
    expect(duplicates).toHaveLength(MAX_NODES - 1);
    expect(duplicates[0]).toMatchObject({ nodeId: 'same', path: 'nodes[1].id' });
  });
});
