// A small read-only picture of a pipeline graph (a template's nodes and edges): laid out left to
// right by the editor's own dagre layout, drawn as SVG in the kind colours. Cheap enough for a
// gallery of cards, where a React Flow instance per card would not be.
import { memo, useMemo } from 'react';
import { layoutPositions } from '../model/layout.ts';

export interface GraphNode {
  id: string;
  type: string;
  kind: 'source' | 'transform' | 'sink';
  name: string | null;
}

const W = 124;
const H = 34;
const label = (n: GraphNode) => {
  const text = n.name ?? n.id;
  return text.length > 18 ? `${text.slice(0, 17)}…` : text;
};

export const TemplateGraph = memo(function TemplateGraph(props: {
  title: string;
  nodes: GraphNode[];
  edges: { from: string; to: string }[];
}) {
  const { nodes, edges } = props;
  const laid = useMemo(() => {
    const positions = layoutPositions(
      nodes.map((n) => ({ id: n.id, measured: { width: W, height: H } })),
      edges.map((e) => ({ source: e.from, target: e.to })),
    );
    const xs = [...positions.values()];
    const width = Math.max(...xs.map((p) => p.x + W), W) + 20;
    const height = Math.max(...xs.map((p) => p.y + H), H) + 20;
    return { positions, width, height };
  }, [nodes, edges]);
  const at = (id: string) => laid.positions.get(id);
  const description = `${props.title}: ${nodes.length} steps; ${edges
    .map((e) => `${e.from} → ${e.to}`)
    .join(', ')}`;
  return (
    <svg
      className="template-graph"
      role="img"
      aria-label={`Graph of ${props.title}`}
      viewBox={`0 0 ${laid.width} ${laid.height}`}
      preserveAspectRatio="xMidYMid meet"
    >
      <title>{description}</title>
      <defs>
        <marker
          id="template-graph-arrow"
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
            markerEnd="url(#template-graph-arrow)"
          />
        );
      })}
      {nodes.map((n) => {
        const p = at(n.id);
        if (!p) return null;
        return (
          <g key={n.id} className={`template-graph-node kind-${n.kind}`} data-node-id={n.id}>
            <rect x={p.x} y={p.y} width={W} height={H} rx={6} />
            <text x={p.x + 10} y={p.y + 14} className="template-graph-type">
              {n.type}
            </text>
            <text x={p.x + 10} y={p.y + 27} className="template-graph-name">
              {label(n)}
            </text>
          </g>
        );
      })}
    </svg>
  );
});
