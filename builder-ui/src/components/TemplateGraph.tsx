// A small read-only picture of a pipeline graph (a template's nodes and edges): laid out left to
// right by dagre, more tightly than the editor's canvas, drawn as SVG in the kind colours. Cheap
// enough for a gallery of cards, where a React Flow instance per card would not be.
import dagre from '@dagrejs/dagre';
import { memo, useId, useMemo } from 'react';

export interface GraphNode {
  id: string;
  type: string;
  kind: 'source' | 'transform' | 'sink';
  name: string | null;
}

const W = 112;
const H = 32;
const MARGIN = 6;
const label = (n: GraphNode) => {
  const text = n.name ?? n.id;
  return text.length > 15 ? `${text.slice(0, 14)}…` : text;
};

/** Top-left corners of the nodes, ranked left to right. */
function layout(nodes: GraphNode[], edges: { from: string; to: string }[]) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 10, ranksep: 26, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: W, height: H });
  for (const e of edges) if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const positions = new Map<string, { x: number; y: number }>();
  for (const n of nodes) {
    const laid = g.node(n.id);
    positions.set(n.id, { x: laid.x - W / 2, y: laid.y - H / 2 });
  }
  return positions;
}

export const TemplateGraph = memo(function TemplateGraph(props: {
  title: string;
  nodes: GraphNode[];
  edges: { from: string; to: string }[];
}) {
  const { nodes, edges } = props;
  const laid = useMemo(() => {
    const positions = layout(nodes, edges);
    const xs = [...positions.values()];
    const width = Math.max(...xs.map((p) => p.x + W), W) + MARGIN;
    const height = Math.max(...xs.map((p) => p.y + H), H) + MARGIN;
    return { positions, width, height };
  }, [nodes, edges]);
  // One marker per picture: ids must be unique in the page, and cards are many.
  const arrow = `arrow${useId().replace(/:/g, '')}`;
  const at = (id: string) => laid.positions.get(id);
  const description = `${props.title}: ${nodes.length} steps; ${edges
    .map((e) => `${e.from} → ${e.to}`)
    .join(', ')}`;
  return (
    <div className="template-graph-frame">
      <svg
        className="template-graph"
        role="img"
        aria-label={`Graph of ${props.title}`}
        width={laid.width}
        height={laid.height}
        viewBox={`0 0 ${laid.width} ${laid.height}`}
      >
        <title>{description}</title>
        <defs>
          <marker
            id={arrow}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="6"
            markerHeight="6"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" className="template-graph-arrow" />
          </marker>
        </defs>
        {edges.map((e) => {
          const a = at(e.from);
          const b = at(e.to);
          if (!a || !b) return null;
          const x1 = a.x + W;
          const y1 = a.y + H / 2;
          const x2 = b.x - 2;
          const y2 = b.y + H / 2;
          const mid = (x1 + x2) / 2;
          return (
            <path
              key={`${e.from}-${e.to}`}
              className="template-graph-edge"
              d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`}
              markerEnd={`url(#${arrow})`}
            />
          );
        })}
        {nodes.map((n) => {
          const p = at(n.id);
          if (!p) return null;
          return (
            <g key={n.id} className={`template-graph-node kind-${n.kind}`} data-node-id={n.id}>
              <rect x={p.x} y={p.y} width={W} height={H} rx={6} />
              <text x={p.x + 8} y={p.y + 13} className="template-graph-type">
                {n.type}
              </text>
              <text x={p.x + 8} y={p.y + 25} className="template-graph-name">
                {label(n)}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
});
