// The canvas nodes, one memoised component per kind. Sources have no input handle and sinks no
// output handle, so an impossible edge cannot even be started. A node shows how many problems it has
// and, for the run on screen, its step's status, attempt, rows, duration and the error it failed with
// (unless the node was edited since that run). Type sizes are chosen to stay readable at fit zoom.
import { Handle, Position, type NodeProps, type NodeTypes } from '@xyflow/react';
import { memo, useState } from 'react';
import { formatDuration, formatNumber, NodeIcon } from '../components/ui.tsx';
import { problemText } from '../model/config.ts';
import type { FlowNode } from '../model/flow.ts';
import { routesOf } from '../model/routes.ts';
import { useCatalog } from '../store/catalog.ts';
import { hasFailureEdge, problemsOf, useEditor, visibleStep } from '../store/editor.ts';
import type { NodeData } from '../model/flow.ts';

function stepDuration(step: { startedAt: string | null; endedAt: string | null; status: string }) {
  if (!step.startedAt) return null;
  if (step.endedAt) return Date.parse(step.endedAt) - Date.parse(step.startedAt);
  // An ended step whose end is not known yet: no number rather than one that grows.
  return step.status === 'running' ? Date.now() - Date.parse(step.startedAt) : null;
}

interface CardProps {
  id: string;
  data: NodeData;
  kind: string;
  selected: boolean;
}

const NodeCard = memo(function NodeCard({ id, data, kind, selected }: CardProps) {
  const connector = useCatalog((s) => s.byType.get(data.type));
  const problems = useEditor((s) => problemsOf(s.problems, id).map(problemText).join('\n'));
  // The failure output is drawn once it can be used: the node has a failure edge, is selected, or
  // the pointer has been on it. A handle on each of 1,000 nodes was a third of the handles React
  // Flow measures and subscribes when a large pipeline opens.
  const failureEdge = useEditor((s) => hasFailureEdge(s.edges, id));
  const [pointed, setPointed] = useState(false);
  const showFailure = failureEdge || selected || pointed;
  const step = useEditor((s) => visibleStep(s, id));
  const problemCount = problems ? problems.split('\n').length : 0;
  const status = step?.status;
  const label = data.name || id;
  const routes = connector?.routes ? routesOf(connector.routes, data.config) : null;
  return (
    <div
      className={[
        'node',
        `node-${kind}`,
        selected ? 'node-selected' : '',
        status ? `run-${status}` : '',
        problemCount ? 'node-invalid' : '',
        data.disabled ? 'node-disabled' : '',
      ].join(' ')}
      title={problems ? `${label}\n${problems}` : label}
      onMouseEnter={pointed ? undefined : () => setPointed(true)}
    >
      {kind !== 'source' && (
        <Handle type="target" position={Position.Left} aria-label={`Input of ${id}`} className="handle" />
      )}
      <div className="node-header">
        <NodeIcon name={connector?.icon} />
        <div className="node-titles">
          <div className="node-title" title={label}>
            {label}
          </div>
          <div className="node-type">{connector?.title ?? data.type}</div>
        </div>
        {!status && problemCount ? (
          <span
            className="badge badge-error"
            aria-label={`${problemCount} problem${problemCount > 1 ? 's' : ''}`}
          >
            {problemCount} !
          </span>
        ) : null}
      </div>
      {step && (
        <div className="node-run">
          <span className={`badge status-${status}`} aria-label={`Step ${status}`}>
            {status}
          </span>
          {step.attempt > 1 && <span>attempt {step.attempt}</span>}
          <span>{formatNumber(step.rowsOut)} rows</span>
          <span>{formatDuration(stepDuration(step))}</span>
        </div>
      )}
      {step?.error && (
        <div className="node-error" role="alert" aria-label={`Error of node ${id}`}>
          {step.error}
        </div>
      )}
      {routes ? (
        // A deciding node: one output per route, each labelled; edges leave the route they take.
        <div className="node-routes">
          {routes.map((route) => (
            <div key={route} className={`node-route${step?.decision?.taken === route ? ' route-taken' : ''}`}>
              <span>{route}</span>
              <Handle
                type="source"
                id={route}
                position={Position.Right}
                aria-label={`Output "${route}" of ${id}`}
                className="handle handle-route"
              />
            </div>
          ))}
        </div>
      ) : (
        kind !== 'sink' && (
          <Handle type="source" position={Position.Right} aria-label={`Output of ${id}`} className="handle" />
        )
      )}
      {step?.skippedBecause && (
        <div className="node-skipped" aria-label={`Why ${id} was skipped`}>
          {step.skippedBecause}
        </div>
      )}
      {/* Every node's failure output: followed only when the step failed after its retries. */}
      {showFailure && (
        <Handle
          type="source"
          id="failure"
          position={Position.Bottom}
          aria-label={`Failure output of ${id}`}
          title="On failure: connect steps that run only when this one fails"
          className="handle handle-failure"
        />
      )}
    </div>
  );
});

// React Flow hands a node its measured size and position too; the card draws none of them, so it
// takes only what it shows and is not drawn again when React Flow measures it after mounting.
const card = (props: NodeProps<FlowNode>) => (
  <NodeCard id={props.id} data={props.data} kind={props.type} selected={!!props.selected} />
);
const SourceNode = memo(card);
const TransformNode = memo(card);
const SinkNode = memo(card);
SourceNode.displayName = 'SourceNode';
TransformNode.displayName = 'TransformNode';
SinkNode.displayName = 'SinkNode';

/** At module scope: a new object per render would make React Flow remount every node. */
export const nodeTypes: NodeTypes = { source: SourceNode, transform: TransformNode, sink: SinkNode };
