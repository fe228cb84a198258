// The canvas nodes, one memoised component per kind. Sources have no input handle and sinks no
// output handle, so an impossible edge cannot even be started. A node shows how many problems it has
// and, for the run on screen, its step's status, attempt, rows, duration and the error it failed with
// (unless the node was edited since that run). Type sizes are chosen to stay readable at fit zoom.
import { Handle, Position, type NodeProps, type NodeTypes } from '@xyflow/react';
import { memo } from 'react';
import { formatDuration, formatNumber, NodeIcon } from '../components/ui.tsx';
import { problemText } from '../model/config.ts';
import type { FlowNode } from '../model/flow.ts';
import { useCatalog } from '../store/catalog.ts';
import { useEditor, visibleStep } from '../store/editor.ts';

function stepDuration(step: { startedAt: string | null; endedAt: string | null; status: string }) {
  if (!step.startedAt) return null;
  if (step.endedAt) return Date.parse(step.endedAt) - Date.parse(step.startedAt);
  // An ended step whose end is not known yet: no number rather than one that grows.
  return step.status === 'running' ? Date.now() - Date.parse(step.startedAt) : null;
}

function NodeCard({ id, data, type: kind, selected }: NodeProps<FlowNode>) {
  const connector = useCatalog((s) => s.byType.get(data.type));
  const problems = useEditor((s) =>
    s.problems
      .filter((p) => p.nodeId === id)
      .map(problemText)
      .join('\n'),
  );
  const step = useEditor((s) => visibleStep(s, id));
  const problemCount = problems ? problems.split('\n').length : 0;
  const status = step?.status;
  const label = data.name || id;
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
      {kind !== 'sink' && (
        <Handle type="source" position={Position.Right} aria-label={`Output of ${id}`} className="handle" />
      )}
    </div>
  );
}

const SourceNode = memo((props: NodeProps<FlowNode>) => <NodeCard {...props} />);
const TransformNode = memo((props: NodeProps<FlowNode>) => <NodeCard {...props} />);
const SinkNode = memo((props: NodeProps<FlowNode>) => <NodeCard {...props} />);
SourceNode.displayName = 'SourceNode';
TransformNode.displayName = 'TransformNode';
SinkNode.displayName = 'SinkNode';

/** At module scope: a new object per render would make React Flow remount every node. */
export const nodeTypes: NodeTypes = { source: SourceNode, transform: TransformNode, sink: SinkNode };
