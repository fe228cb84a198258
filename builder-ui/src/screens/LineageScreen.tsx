// Lineage around a table (`?table=`) or of one pipeline (`?pipeline=`): datasets (tables, files,
// URLs, API streams, generated rows) and the steps between them as a graph laid out by dagre, each
// dataset listing its columns. Clicking a column highlights where it comes from and what it feeds,
// back to the first dataset (a CSV file's column), and the steps on that path; the panel says what
// the column is made of. The API's `problems` (SQL lineage could not follow) are shown above.
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

/** The edges on a path from one dataset holding a highlighted column to another (through steps). */
function pathEdges(lineage: Lineage, highlighted: ReadonlySet<string>): Set<string> {
  const steps = new Set(lineage.nodes.filter((n) => n.kind === 'step').map((n) => n.id));
  const holds = new Set(
    lineage.nodes
      .filter((n) => n.kind !== 'step' && (n.columns ?? []).some((c) => highlighted.has(key(n.name, c))))
      .map((n) => n.id),
  );
  const reach = (forward: boolean) => {
    const seen = new Set(holds);
    const todo = [...holds];
    while (todo.length > 0) {
      const here = todo.pop()!;
      for (const e of lineage.edges) {
        const [from, to] = forward ? [e.from, e.to] : [e.to, e.from];
        // Only through steps: another dataset on the way ends the walk unless it holds a column too.
        if (from !== here || seen.has(to) || (!steps.has(to) && !holds.has(to))) continue;
        seen.add(to);
        todo.push(to);
      }
    }
    return seen;
  };
  const down = reach(true);
  const up = reach(false);
  return new Set(
    lineage.edges.filter((e) => down.has(e.from) && up.has(e.to)).map((e) => `${e.from}>${e.to}`),
  );
}

/** What the selected column is made of (DIRECT) and what decides it (INDIRECT), as the API says. */
function ColumnPanel({ lineage, selected }: { lineage: Lineage; selected: string }) {
  const entry = lineage.columns.find((c) => key(c.table, c.column) === selected);
  const at = selected.lastIndexOf('#');
  return (
    <section className="lineage-panel" aria-label="Column lineage">
      <h2 className="small">
        <code>{`${selected.slice(0, at)}.${selected.slice(at + 1)}`}</code>
      </h2>
      {!entry || (entry.sources.length === 0 && entry.indirect.length === 0) ? (
        <p className="muted small">
          No sources known: it is where its data starts, or lineage could not follow it.
        </p>
      ) : (
        <ul className="small">
          {entry.sources.map((s) => (
            <li key={`d${s.table}#${s.column}`}>
              from <code>{`${s.table}.${s.column}`}</code> <span className="muted">({s.transformation})</span>
            </li>
          ))}
          {entry.indirect.map((s) => (
            <li key={`i${s.table}#${s.column}#${s.subtype}`}>
              decided by <code>{`${s.table}.${s.column}`}</code>{' '}
              <span className="muted">({s.subtype.toLowerCase().replace('_', ' ')})</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

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
  const pipeline = query.get('pipeline') ?? '';
  const [selected, setSelected] = useState<string | null>(
    query.get('column') ? key(table, query.get('column')!) : null,
  );
  const [draft, setDraft] = useState(table);
  const inputId = useId();
  const { data, error, reload } = useResource<Lineage | null>(
    () =>
      pipeline
        ? Api.pipelineLineage(pipeline)
        : table
          ? Api.lineage({ table, direction: 'both', depth: 5 })
          : Promise.resolve(null),
    [table, pipeline],
  );
  const highlighted = useMemo(
    () => (data && selected ? related(data, selected) : new Set<string>()),
    [data, selected],
  );
  const onPath = useMemo(
    () => (data && selected ? pathEdges(data, highlighted) : new Set<string>()),
    [data, highlighted, selected],
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
      ...(onPath.has(`${e.from}>${e.to}`) ? { animated: true, className: 'lineage-edge-on' } : {}),
    }));
    const positions = layoutPositions(
      flowNodes,
      flowEdges.map((e) => ({ source: e.source, target: e.target })),
    );
    return {
      nodes: flowNodes.map((n) => ({ ...n, position: positions.get(n.id) ?? n.position })),
      edges: flowEdges,
    };
  }, [data, highlighted, selected, onPath]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSelected(null);
    navigate(`/lineage?table=${encodeURIComponent(draft.trim())}`);
  };
  return (
    <main className="screen screen-full">
      <header className="screen-header">
        <h1>Lineage</h1>
        {pipeline && (
          <p className="muted small">
            of pipeline <code>{pipeline}</code>: what its current version reads and writes
          </p>
        )}
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
      {!table && !pipeline && (
        <p className="muted">Name a table to see where its data comes from and where it goes.</p>
      )}
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
      {(table || pipeline) && !data && !error && <Loading what="lineage" />}
      {data && selected && <ColumnPanel lineage={data} selected={selected} />}
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
