// Where a node added by a click goes: after the selected node (and connected to it) when that makes
// a pipeline, else at the view's centre; either way on a free spot, never on top of another node.
import { NODE_HEIGHT, NODE_WIDTH } from './layout.ts';
import type { NodeKind } from './types.ts';

interface Placed {
  id: string;
  type?: string | undefined;
  position: { x: number; y: number };
  measured?: { width?: number; height?: number } | undefined;
}

const GAP_X = 90;
const GAP_Y = 40;

const overlaps = (p: { x: number; y: number }, n: Placed) => {
  const w = n.measured?.width ?? NODE_WIDTH;
  const h = n.measured?.height ?? NODE_HEIGHT;
  return (
    p.x < n.position.x + w + 20 &&
    n.position.x < p.x + NODE_WIDTH + 20 &&
    p.y < n.position.y + h + 20 &&
    n.position.y < p.y + NODE_HEIGHT + 20
  );
};

/** The first spot at or below `wanted` (one row at a time) where the new node touches no other. */
export function freeSpot(
  wanted: { x: number; y: number },
  nodes: readonly Placed[],
): { x: number; y: number } {
  const spot = { x: Math.round(wanted.x), y: Math.round(wanted.y) };
  for (let i = 0; i < 200 && nodes.some((n) => overlaps(spot, n)); i++) spot.y += NODE_HEIGHT + GAP_Y;
  return spot;
}

/**
 * Where a clicked palette item goes, and which node it is connected from. With one node selected
 * that can feed it (not a sink, and the new node is not a source), the new node goes right of it
 * and is connected; otherwise it goes at the centre of the view, unconnected.
 */
export function placeNew(
  kind: NodeKind,
  nodes: readonly (Placed & { selected?: boolean | undefined })[],
  centre: { x: number; y: number },
): { position: { x: number; y: number }; from: string | null } {
  const selected = nodes.filter((n) => n.selected);
  const anchor = selected.length === 1 ? selected[0]! : null;
  if (anchor && anchor.type !== 'sink' && kind !== 'source') {
    const width = anchor.measured?.width ?? NODE_WIDTH;
    return {
      position: freeSpot({ x: anchor.position.x + width + GAP_X, y: anchor.position.y }, nodes),
      from: anchor.id,
    };
  }
  return {
    position: freeSpot({ x: centre.x - NODE_WIDTH / 2, y: centre.y - NODE_HEIGHT / 2 }, nodes),
    from: null,
  };
}
