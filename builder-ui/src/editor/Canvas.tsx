// The canvas: React Flow bound to the editor store. Connections are checked while they are drawn
// (cycles, into a source, out of a sink, input limits) and the reason for a refusal is shown.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
  type IsValidConnection,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { connectionProblem, type FlowNode } from '../model/flow.ts';
import { useCatalog } from '../store/catalog.ts';
import { editorStore, useEditor } from '../store/editor.ts';
import { nodeTypes } from './nodes.tsx';
import { DRAG_MIME } from './Palette.tsx';

// Fitting leaves the minimap's corner (150×100 at 15 px from the bottom right) free, so the minimap
// never lies over a fitted node.
const FIT_PADDING = { top: '40px', left: '40px', right: '185px', bottom: '130px' } as const;

/** Fitting never zooms out past this: node names stay readable (the minimap shows the rest). */
export const FIT_VIEW = { padding: FIT_PADDING, maxZoom: 1.1, minZoom: 0.75 };

/** On open the whole pipeline is in view, however large (a 100-node pipeline does not open mid-graph). */
export const FIT_ON_OPEN = { padding: FIT_PADDING, maxZoom: 1.1, minZoom: 0.2 };
const FIT_ALL_UP_TO = 300;

const MINIMAP_COLOURS: Record<string, string> = { source: '#2f855a', transform: '#3b5bdb', sink: '#c05621' };

export function Canvas(props: {
  onDropType: (type: string, position: { x: number; y: number }) => void;
  /** A double-click on a node: rename it in its panel. */
  onRename: (nodeId: string) => void;
}) {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const runSteps = useEditor((s) => s.runSteps);
  // After a run, an edge whose output was not taken (a route not chosen, a failure output of a step
  // that did not fail) is greyed out, so the path the run took stands out.
  const routedEdges = useMemo(
    () =>
      edges.map((edge) => {
        const output = edge.sourceHandle;
        const from = runSteps[edge.source];
        if (!output || !from || from.status === 'running' || from.status === 'pending') return edge;
        const taken = output === 'failure' ? from.status === 'failed' : from.decision?.taken === output;
        const className = taken ? 'edge-taken' : 'edge-not-taken';
        return edge.className === className ? edge : { ...edge, className };
      }),
    [edges, runSteps],
  );
  const hint = useEditor((s) => s.connectionHint);
  const byType = useCatalog((s) => s.byType);
  const { screenToFlowPosition } = useReactFlow();
  const hintTimer = useRef<number | undefined>(undefined);
  // Fit the view to a loaded pipeline once; on an empty canvas fitting would jump to the first node.
  const [fitOnLoad] = useState(() => editorStore.getState().nodes.length > 0);

  const maxInputs = useCallback((type: string) => byType.get(type)?.inputs.max ?? null, [byType]);

  const isValidConnection: IsValidConnection = useCallback(
    (c: Connection | Edge) => {
      const s = editorStore.getState();
      const problem = connectionProblem(s.nodes, s.edges, c, maxInputs);
      if (problem !== s.connectionHint) s.setConnectionHint(problem);
      return problem === null;
    },
    [maxInputs],
  );

  // Nodes carry their accessible name, so tests and screen readers find them by role and name. A
  // node the store did not change keeps its labelled object: React Flow compares nodes by identity,
  // and new objects for every node on each change made opening a large pipeline quadratic.
  const labelledOf = useMemo(() => new WeakMap<FlowNode, FlowNode>(), [byType]);
  const labelled = useMemo(
    () =>
      nodes.map((n: FlowNode) => {
        let node = labelledOf.get(n);
        if (!node) {
          node = { ...n, ariaLabel: `Node ${n.id}: ${byType.get(n.data.type)?.title ?? n.data.type}` };
          labelledOf.set(n, node);
        }
        return node;
      }),
    [nodes, byType, labelledOf],
  );

  useEffect(() => () => window.clearTimeout(hintTimer.current), []);

  const onDrop = (event: DragEvent) => {
    const type = event.dataTransfer.getData(DRAG_MIME);
    if (!type) return;
    event.preventDefault();
    props.onDropType(type, screenToFlowPosition({ x: event.clientX - 100, y: event.clientY - 30 }));
  };

  return (
    <div
      className="canvas"
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(DRAG_MIME)) {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'move';
        }
      }}
      onDrop={onDrop}
    >
      <ReactFlow
        nodes={labelled}
        edges={routedEdges}
        nodeTypes={nodeTypes}
        onNodesChange={(changes) => editorStore.getState().onNodesChange(changes)}
        onEdgesChange={(changes) => editorStore.getState().onEdgesChange(changes)}
        onConnect={(c) =>
          c.source && c.target && editorStore.getState().connect(c.source, c.target, c.sourceHandle)
        }
        onConnectStart={() => {
          window.clearTimeout(hintTimer.current);
          editorStore.getState().setConnectionHint(null);
        }}
        onConnectEnd={() => {
          // Leave a refusal on screen a moment after the mouse is let go, then clear it.
          window.clearTimeout(hintTimer.current);
          hintTimer.current = window.setTimeout(() => editorStore.getState().setConnectionHint(null), 5000);
        }}
        isValidConnection={isValidConnection}
        onNodeDoubleClick={(_event, n) => props.onRename(n.id)}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Meta', 'Control']}
        fitView={fitOnLoad}
        // A very large pipeline opens at a readable zoom (drawing all of its nodes at once is what
        // made the 1,000-node bench miss its goal); up to a few hundred nodes, all of it is in view.
        fitViewOptions={nodes.length > FIT_ALL_UP_TO ? FIT_VIEW : FIT_ON_OPEN}
        minZoom={0.2}
        defaultEdgeOptions={{ animated: false }}
        proOptions={{ hideAttribution: true }}
        aria-label="Pipeline canvas"
      >
        <Background gap={20} />
        <MiniMap
          className="minimap"
          pannable
          zoomable
          ariaLabel="Mini map"
          style={{ width: 150, height: 100 }}
          maskColor="rgba(240, 242, 245, 0.5)"
          nodeColor={(n) => MINIMAP_COLOURS[n.type ?? ''] ?? '#888'}
        />
        <Controls aria-label="Canvas controls" />
      </ReactFlow>
      {hint && (
        <div className="connection-hint" role="status" aria-live="assertive">
          Cannot connect: {hint}
        </div>
      )}
      {nodes.length === 0 && <EmptyCanvasHelp />}
    </div>
  );
}

function EmptyCanvasHelp() {
  return (
    <div className="empty-canvas" role="note" aria-label="How to start">
      <h2>Start your pipeline</h2>
      <ol>
        <li>
          Drag a <strong>source</strong> from the palette on the left onto the canvas (or click it).
        </li>
        <li>
          Add a <strong>transform</strong> such as SQL, and a <strong>sink</strong> where the rows should
          land.
        </li>
        <li>Connect them: drag from a node's right handle to the next node's left handle.</li>
        <li>
          Select a node to configure it in its panel, then press <strong>Run</strong>. Edits are kept in the
          draft as you go; <strong>Publish</strong> makes them a version.
        </li>
      </ol>
      <p className="muted">Press ? for keyboard shortcuts.</p>
    </div>
  );
}
