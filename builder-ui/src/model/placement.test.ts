import { describe, expect, it } from 'vitest';
import { NODE_HEIGHT, NODE_WIDTH } from './layout.ts';
import { freeSpot, placeNew } from './placement.ts';

const at = (id: string, x: number, y: number, type = 'transform', selected = false) => ({
  id,
  type,
  position: { x, y },
  selected,
});

describe('placing a clicked node', () => {
  it('puts it right of the selected node and connects it from there', () => {
    const placed = placeNew('transform', [at('src', 0, 0, 'source', true)], { x: 500, y: 500 });
    expect(placed.from).toBe('src');
    expect(placed.position.x).toBeGreaterThanOrEqual(NODE_WIDTH);
    expect(placed.position.y).toBe(0);
  });

  it('does not connect from a sink, or into a new source; those go to the centre', () => {
    expect(placeNew('transform', [at('out', 0, 0, 'sink', true)], { x: 500, y: 500 }).from).toBeNull();
    const source = placeNew('source', [at('src', 0, 0, 'source', true)], { x: 500, y: 500 });
    expect(source.from).toBeNull();
    expect(source.position).toEqual({ x: 500 - NODE_WIDTH / 2, y: 500 - NODE_HEIGHT / 2 });
  });

  it('never stacks nodes: successive clicks go down one free row at a time', () => {
    const nodes = [at('a', 0, 0)];
    const first = freeSpot({ x: 0, y: 0 }, nodes);
    expect(first.y).toBeGreaterThanOrEqual(NODE_HEIGHT);
    const second = freeSpot({ x: 0, y: 0 }, [...nodes, { id: 'b', position: first }]);
    expect(second.y).toBeGreaterThan(first.y + NODE_HEIGHT);
  });
});
