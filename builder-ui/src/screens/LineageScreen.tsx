// Lineage around a table: datasets and the steps between them as a graph laid out by dagre, each
// table listing its columns. Clicking a column highlights where it comes from and what it feeds,
// which is the impact of changing it.
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeProps,
} from '@xyflow/react';
import { memo, useId, useMemo, useState, type FormEvent } from 'react';
import { Api } from '../api/client.ts';
import type { Lineage } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { ErrorBox, Loading } from '../components/ui.tsx';
import { layoutPositions } from '../model/layout.ts';
import { navigate, useLocation } from '../router.ts';

type LineageData = {
  label: string;
  kind: string;
  table: string;
  columns: string[];
  highlighted: ReadonlySet<string>;
  selected: string | null;
  onColumn: (table: string, column: string) => void;
};
type LineageNode = Node<LineageData, 'dataset' | 'step'>;

const key = (table: string, column: string) => `${table}#${column}`;

const DatasetNode = memo(function DatasetNode({ data }: NodeProps<LineageNode>) {
  return (
    <div className={`lineage-node lineage-${data.kind}`} aria-label={`${data.kind} ${data.label}`}>
      <Handle type="target" position={Position.Left} />
      <div className="lineage-title">
        <span className="muted small">{data.kind}</span> <strong>{data.label}</strong>
      </div>
      {data.columns.length > 0 && (
        <ul className="lineage-columns">
          {data.columns.map((column) => {
            const k = key(data.table, column);
            return (
              <li key={column}>
                <button
                  type="button"
                  className={`nodrag lineage-column${data.highlighted.has(k) ? ' on' : ''}${data.selected === k ? ' selected' : ''}`}
                  aria-pressed={data.highlighted.has(k)}
                  onClick={() => data.onColumn(data.table, column)}
                >
                  {column}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <Handle type="source" position={Position.Right} />
    </div>
  );
});

const StepNode = memo(function StepNode({ data }: NodeProps<LineageNode>) {
  return (
    <div className="lineage-node lineage-step" aria-label={`step ${data.label}`}>
      <Handle type="target" position={Position.Left} />
      <span className="small">{data.label}</span>
      <Handle type="source" position={Position.Right} />
    </div>
  );
});

const nodeTypes = { dataset: DatasetNode, step: StepNode };

/** Columns upstream and downstream of one column, through the column entries of the answer. */
function related(lineage: Lineage, start: string): Set<string> {
  const found = new Set([start]);
  const sourcesOf = new Map(
    lineage.columns.map((c) => [key(c.table, c.column), c.sources.map((s) => key(s.table, s.column))]),
  );
  const up = [start];
  while (up.length > 0) {
    for (const source of sourcesOf.get(up.pop()!) ?? []) {
      if (found.has(source)) continue;
      found.add(source);
      up.push(source);
    }
  }
  const down = [start];
  const seenDown = new Set([start]);
  while (down.length > 0) {
    const here = down.pop()!;
    for (const [target, sources] of sourcesOf) {
      if (sources.includes(here) && !seenDown.has(target)) {
        seenDown.add(target);
        found.add(target);
        down.push(target);
      }
    }
  }
  return found;
}

export function LineageScreen() {
  const { query } = useLocation();
  const table = query.get('table') ?? '';
  const [selected, setSelected] = useState<string | null>(
    query.get('column') ? key(table, query.get('column')!) : null,
  );
  const [draft, setDraft] = useState(table);
  const inputId = useId();
  const { data, error, reload } = useResource(
    () => (table ? Api.lineage({ table, direction: 'both', depth: 5 }) : Promise.resolve(null)),
    [table],
  );
  const highlighted = useMemo(
    () => (data && selected ? related(data, selected) : new Set<string>()),
    [data, selected],
  );
  const { nodes, edges } = useMemo(() => {
    if (!data) return { nodes: [] as LineageNode[], edges: [] as Edge[] };
    const onColumn = (t: string, c: string) => setSelected((s) => (s === key(t, c) ? null : key(t, c)));
    const flowNodes: LineageNode[] = data.nodes.map((n) => ({
      id: n.id,
      type: n.kind === 'step' ? 'step' : 'dataset',
      position: { x: 0, y: 0 },
      data: {
        label: n.name,
        kind: n.kind,
        table: n.name,
        columns: n.kind === 'step' ? [] : (n.columns ?? []),
        highlighted,
        selected,
        onColumn,
      },
      // Dagre needs sizes before React Flow has measured anything: tables grow with their columns.
      measured: {
        width: n.kind === 'step' ? 180 : 220,
        height: n.kind === 'step' ? 40 : 48 + 24 * (n.columns?.length ?? 0),
      },
    }));
    const flowEdges: Edge[] = data.edges.map((e) => ({
      id: `${e.from}>${e.to}`,
      source: e.from,
      target: e.to,
    }));
    const positions = layoutPositions(
      flowNodes,
      flowEdges.map((e) => ({ source: e.source, target: e.target })),
    );
    return {
      nodes: flowNodes.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position })),
      edges: flowEdges,
    };
  }, [data, highlighted, selected]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSelected(null);
    navigate(`/lineage?table=${encodeURIComponent(draft.trim())}`);
  };
  return (
    <main className="screen screen-full">
      <header className="screen-header">
        <h1>Lineage</h1>
        <form className="inline-form" aria-label="Lineage of a table" onSubmit={submit}>
          <div className="field">
            <label htmlFor={inputId}>Table</label>
            <input
              id={inputId}
              value={draft}
              placeholder="schema.table"
              onChange={(e) => setDraft(e.target.value)}
            />
          </div>
          <button type="submit" disabled={!/^[^.\s]+\.[^.\s]+$/.test(draft.trim())}>
            Show
          </button>
        </form>
        {selected && (
          <p className="muted small" role="status">
            {highlighted.size - 1} column{highlighted.size === 2 ? '' : 's'} linked to{' '}
            <code>{selected.replace('#', '.')}</code>: where it comes from and what it feeds.
          </p>
        )}
      </header>
      {!table && <p className="muted">Name a table to see where its data comes from and where it goes.</p>}
      {data && data.problems.length > 0 && (
        // What the SQL of a step did not let lineage follow: the columns it leaves out are not linked.
        <details className="lineage-problems" open={data.problems.length <= 3}>
          <summary role="status">
            {data.problems.length} problem{data.problems.length === 1 ? '' : 's'}: some columns could not be
            followed
          </summary>
          <ul>
            {data.problems.map((problem) => (
              <li key={problem} className="small">
                {problem}
              </li>
            ))}
          </ul>
        </details>
      )}
      {error && <ErrorBox error={error} onRetry={reload} />}
      {table && !data && !error && <Loading what="lineage" />}
      {data && (
        <div className="lineage-canvas" aria-label="Lineage graph">
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            fitView
            nodesConnectable={false}
            nodesDraggable
          >
            <Background />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
      )}
    </main>
  );
}
