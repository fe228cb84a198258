// The editor's one store: the graph being edited, undo/redo history, the dirty flag, and the
// run-time overlays (validation problems, run progress) that are shown on nodes but never saved.
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from '@xyflow/react';
import { useStore } from 'zustand';
import { createStore } from 'zustand/vanilla';
import {
  edgeIdOf,
  fragmentOf,
  fromPipeline,
  pasteFragment,
  renameInputRefs,
  toPipeline,
  type FlowEdge,
  type FlowNode,
  type KindOf,
  type NodeData,
} from '../model/flow.ts';
import type { PipelineDocument, PipelineMeta } from '../model/types.ts';
import type { CompileError, StepProgress } from '../api/types.ts';
import { catalogKind } from './catalog.ts';

interface Snapshot {
  meta: PipelineMeta;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

const HISTORY_LIMIT = 100;
/** Keystrokes into one field within this window are one undo step. */
const COALESCE_MS = 1_000;

export interface EditorState extends Snapshot {
  /** The stored version the editor started from (for If-Match); null before the first save. */
  version: number | null;
  past: Snapshot[];
  future: Snapshot[];
  dirty: boolean;
  /** The document as last saved, serialised: dirty is "differs from this". */
  savedJson: string;
  problems: CompileError[];
  /** The document the problems were found in. */
  validated: PipelineDocument | null;
  validating: boolean;
  /** Progress of the run shown on the canvas, by node id. */
  runSteps: Record<string, StepProgress>;
  /**
   * Each node as it was when the shown run started (serialised): a node edited since then no
   * longer shows that run's status, which would describe a node that is not there any more.
   */
  runBaseline: Record<string, string>;
  /**
   * Nodes added in this session, with the config fields the user has visited: their empty fields
   * are not flagged before the user has been in them. Nodes not listed show every error.
   */
  newNodes: Record<string, string[]>;
  /** Why the connection being drawn is refused. */
  connectionHint: string | null;
  /** Internal: the snapshot before a drag began, and the last coalescing key. */
  dragStart: Snapshot | null;
  lastCommit: { key: string; at: number } | null;
}

export interface EditorActions {
  load(doc: PipelineDocument, version: number | null): void;
  onNodesChange(changes: NodeChange<FlowNode>[]): void;
  onEdgesChange(changes: EdgeChange<FlowEdge>[]): void;
  /** `output`: the source handle the edge leaves (a deciding node's route, or "failure"). */
  connect(source: string, target: string, output?: string | null): void;
  addNode(
    type: string,
    position: { x: number; y: number },
    id: string,
    config?: Record<string, unknown>,
  ): void;
  updateNodeData(id: string, patch: Partial<NodeData>, coalesceKey?: string): void;
  setNodeConfig(id: string, config: Record<string, unknown>, coalesceKey?: string): void;
  renameNode(from: string, to: string): void;
  updateMeta(patch: Partial<PipelineMeta>, coalesceKey?: string): void;
  deleteNodes(ids: readonly string[]): void;
  deleteSelection(): void;
  selectAll(): void;
  selectOnly(id: string | null): void;
  setPositions(positions: ReadonlyMap<string, { x: number; y: number }>): void;
  paste(fragment: Pick<PipelineDocument, 'nodes' | 'edges'>, offset?: { x: number; y: number }): string[];
  copySelection(): ReturnType<typeof fragmentOf> | null;
  undo(): void;
  redo(): void;
  markSaved(doc: PipelineDocument, version: number): void;
  /** The validator's problems, and the document they are about (so a changed field hides a stale one). */
  setProblems(problems: CompileError[], validated?: PipelineDocument): void;
  setValidating(validating: boolean): void;
  /** Shows a run's progress; `baseline` marks the graph it ran (the current one when omitted). */
  setRunSteps(steps: Record<string, StepProgress>, baseline?: Record<string, string>): void;
  touchField(nodeId: string, path: string): void;
  /** Shows every error of every node (a run or publish was asked for). */
  revealProblems(): void;
  setConnectionHint(hint: string | null): void;
  document(): PipelineDocument;
}

export type EditorStore = EditorState & EditorActions;

/** A node's meaning (not its place or selection), to tell whether it changed since a run. */
export const nodeFingerprint = (n: FlowNode) => JSON.stringify(n.data);
export const baselineOf = (nodes: readonly FlowNode[]) =>
  Object.fromEntries(nodes.map((n) => [n.id, nodeFingerprint(n)]));

// Per-node lookups every canvas node makes on each store change, built once per array: a scan per
// node made each change quadratic in the size of the pipeline (1,000 nodes: a million steps).
const byIdCache = new WeakMap<readonly FlowNode[], Map<string, FlowNode>>();
const problemsCache = new WeakMap<readonly CompileError[], Map<string, CompileError[]>>();
const failureCache = new WeakMap<readonly FlowEdge[], Set<string>>();

/** A node of the graph by id. */
export function nodeById(nodes: readonly FlowNode[], id: string): FlowNode | undefined {
  let map = byIdCache.get(nodes);
  if (!map) byIdCache.set(nodes, (map = new Map(nodes.map((n) => [n.id, n]))));
  return map.get(id);
}

const NO_PROBLEMS: CompileError[] = [];
/** The validator's problems about one node. */
export function problemsOf(problems: readonly CompileError[], id: string): CompileError[] {
  let map = problemsCache.get(problems);
  if (!map) {
    map = new Map();
    for (const p of problems) if (p.nodeId) map.set(p.nodeId, [...(map.get(p.nodeId) ?? []), p]);
    problemsCache.set(problems, map);
  }
  return map.get(id) ?? NO_PROBLEMS;
}

/** Whether an edge leaves this node's failure output. */
export function hasFailureEdge(edges: readonly FlowEdge[], id: string): boolean {
  let set = failureCache.get(edges);
  if (!set) {
    set = new Set(edges.filter((e) => e.sourceHandle === 'failure').map((e) => e.source));
    failureCache.set(edges, set);
  }
  return set.has(id);
}

/**
 * Whether the nodes differ as the document has them (type, config, name, position…), not only in
 * what React Flow measures or selects: a measured size or a selection creates new node objects but
 * keeps each one's `data` and `position`, so the validator and the draft need not look again.
 */
export function documentNodesChanged(next: readonly FlowNode[], prev: readonly FlowNode[]): boolean {
  if (next === prev) return false;
  if (next.length !== prev.length) return true;
  for (let i = 0; i < next.length; i++) {
    const a = next[i]!;
    const b = prev[i]!;
    if (a !== b && (a.id !== b.id || a.data !== b.data || a.position !== b.position || a.type !== b.type))
      return true;
  }
  return false;
}

/** The shown run's progress of a node, unless the node changed since that run started. */
export function visibleStep(s: EditorState, id: string): StepProgress | undefined {
  const step = s.runSteps[id];
  if (!step) return undefined;
  const node = nodeById(s.nodes, id);
  return node && s.runBaseline[id] === nodeFingerprint(node) ? step : undefined;
}

const serialise = (s: Snapshot) => JSON.stringify(toPipeline(s.meta, s.nodes, s.edges));
const snapshotOf = (s: Snapshot): Snapshot => ({ meta: s.meta, nodes: s.nodes, edges: s.edges });
const emptyMeta: PipelineMeta = { apiVersion: 'tributary/v1', id: '', name: '' };

/** `kindOf`: the node catalogue's kinds (a test hands in its own). */
export function createEditorStore(kindOf: KindOf = catalogKind) {
  return createStore<EditorStore>()((set, get) => {
    /**
     * Applies a change to the graph as one undo step. With a coalescing key, a change right after
     * another with the same key (typing into one field) joins that step.
     */
    const commit = (next: Partial<Snapshot>, coalesceKey?: string) => {
      const state = get();
      const now = Date.now();
      const joins =
        coalesceKey !== undefined &&
        state.lastCommit?.key === coalesceKey &&
        now - state.lastCommit.at < COALESCE_MS &&
        state.past.length > 0;
      const merged: Snapshot = { ...snapshotOf(state), ...next };
      set({
        ...next,
        past: joins ? state.past : [...state.past, snapshotOf(state)].slice(-HISTORY_LIMIT),
        future: [],
        dirty: serialise(merged) !== state.savedJson,
        lastCommit: coalesceKey !== undefined ? { key: coalesceKey, at: now } : null,
      });
    };

    const restore = (target: Snapshot, past: Snapshot[], future: Snapshot[]) => {
      set({
        ...target,
        past,
        future,
        dirty: serialise(target) !== get().savedJson,
        lastCommit: null,
        dragStart: null,
      });
    };

    return {
      meta: emptyMeta,
      nodes: [],
      edges: [],
      version: null,
      past: [],
      future: [],
      dirty: false,
      savedJson: '',
      problems: [],
      validated: null,
      validating: false,
      runSteps: {},
      runBaseline: {},
      newNodes: {},
      connectionHint: null,
      dragStart: null,
      lastCommit: null,

      load(doc, version) {
        const graph = fromPipeline(doc, kindOf);
        const snapshot = { meta: graph.meta, nodes: graph.nodes, edges: graph.edges };
        set({
          ...snapshot,
          version,
          past: [],
          future: [],
          dirty: false,
          savedJson: serialise(snapshot),
          problems: [],
          runSteps: {},
          runBaseline: {},
          newNodes: {},
          connectionHint: null,
          dragStart: null,
          lastCommit: null,
        });
      },

      onNodesChange(changes) {
        const state = get();
        const meaningful = changes.filter((c) => c.type !== 'select' && c.type !== 'dimensions');
        const nodes = applyNodeChanges(changes, state.nodes);
        if (meaningful.length === 0) {
          set({ nodes });
          return;
        }
        const removals = meaningful.filter((c) => c.type === 'remove');
        if (removals.length > 0) {
          const gone = new Set(removals.map((c) => c.id));
          commit({ nodes, edges: state.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target)) });
          return;
        }
        const positions = meaningful.filter((c) => c.type === 'position');
        if (positions.length === meaningful.length) {
          const dragging = positions.some((c) => c.dragging);
          if (dragging) {
            // The whole drag is one undo step: remember where it started.
            set({ nodes, dragStart: state.dragStart ?? snapshotOf(state), dirty: true });
            return;
          }
          const before = state.dragStart ?? snapshotOf(state);
          const after = { ...snapshotOf(state), nodes };
          const moved = serialise(before) !== serialise(after);
          set({
            nodes,
            dragStart: null,
            past: moved ? [...state.past, before].slice(-HISTORY_LIMIT) : state.past,
            future: moved ? [] : state.future,
            dirty: serialise(after) !== state.savedJson,
            lastCommit: null,
          });
          return;
        }
        commit({ nodes });
      },

      onEdgesChange(changes) {
        const state = get();
        const edges = applyEdgeChanges(changes, state.edges);
        if (changes.every((c) => c.type === 'select')) set({ edges });
        else commit({ edges });
      },

      connect(source, target, output) {
        const state = get();
        if (state.edges.some((e) => e.source === source && e.target === target)) return;
        const edge = {
          id: edgeIdOf(source, target),
          source,
          target,
          ...(output ? { sourceHandle: output, label: output } : {}),
        };
        commit({ edges: [...state.edges, edge] });
      },

      addNode(type, position, id, config = {}) {
        const state = get();
        const node: FlowNode = {
          id,
          type: kindOf(type),
          position,
          data: { type, config },
          selected: true,
        };
        commit({ nodes: [...state.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node] });
        set({ newNodes: { ...get().newNodes, [id]: [] } });
      },

      updateNodeData(id, patch, coalesceKey) {
        const state = get();
        commit(
          {
            nodes: state.nodes.map((n) => {
              if (n.id !== id) return n;
              const data: NodeData = { ...n.data, ...patch };
              for (const key of Object.keys(patch)) {
                if ((patch as Record<string, unknown>)[key] === undefined) delete data[key];
              }
              return { ...n, data };
            }),
          },
          coalesceKey,
        );
      },

      setNodeConfig(id, config, coalesceKey) {
        get().updateNodeData(id, { config }, coalesceKey);
      },

      renameNode(from, to) {
        const state = get();
        if (from === to || state.nodes.some((n) => n.id === to)) return;
        const renamed = new Map([[from, to]]);
        const downstream = new Set(state.edges.filter((e) => e.source === from).map((e) => e.target));
        commit({
          nodes: state.nodes.map((n) => {
            if (n.id === from) return { ...n, id: to };
            if (downstream.has(n.id))
              return { ...n, data: { ...n.data, config: renameInputRefs(n.data.config, renamed) } };
            return n;
          }),
          edges: state.edges.map((e) => {
            if (e.source !== from && e.target !== from) return e;
            const source = e.source === from ? to : e.source;
            const target = e.target === from ? to : e.target;
            return { ...e, id: edgeIdOf(source, target), source, target };
          }),
        });
      },

      updateMeta(patch, coalesceKey) {
        const state = get();
        const meta = { ...state.meta, ...patch };
        for (const key of Object.keys(patch) as (keyof PipelineMeta)[]) {
          if (patch[key] === undefined) delete meta[key];
        }
        commit({ meta }, coalesceKey);
      },

      deleteNodes(ids) {
        const state = get();
        const gone = new Set(ids);
        if (!state.nodes.some((n) => gone.has(n.id))) return;
        commit({
          nodes: state.nodes.filter((n) => !gone.has(n.id)),
          edges: state.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target)),
        });
      },

      deleteSelection() {
        const state = get();
        const nodeIds = state.nodes.filter((n) => n.selected).map((n) => n.id);
        const selectedEdges = new Set(state.edges.filter((e) => e.selected).map((e) => e.id));
        if (nodeIds.length === 0 && selectedEdges.size === 0) return;
        const gone = new Set(nodeIds);
        commit({
          nodes: state.nodes.filter((n) => !gone.has(n.id)),
          edges: state.edges.filter(
            (e) => !selectedEdges.has(e.id) && !gone.has(e.source) && !gone.has(e.target),
          ),
        });
      },

      selectAll() {
        set((s) => ({
          nodes: s.nodes.map((n) => (n.selected ? n : { ...n, selected: true })),
          edges: s.edges.map((e) => (e.selected ? e : { ...e, selected: true })),
        }));
      },

      selectOnly(id) {
        set((s) => ({
          nodes: s.nodes.map((n) => ((n.id === id) === !!n.selected ? n : { ...n, selected: n.id === id })),
          edges: s.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
        }));
      },

      setPositions(positions) {
        const state = get();
        commit({
          nodes: state.nodes.map((n) => {
            const p = positions.get(n.id);
            return p ? { ...n, position: p } : n;
          }),
        });
      },

      paste(fragment, offset = { x: 40, y: 40 }) {
        const state = get();
        const pasted = pasteFragment(
          fragment,
          state.nodes.map((n) => n.id),
          offset,
          kindOf,
        );
        commit({
          nodes: [...state.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted.nodes],
          edges: [...state.edges, ...pasted.edges],
        });
        return pasted.nodes.map((n) => n.id);
      },

      copySelection() {
        const state = get();
        const selected = state.nodes.filter((n) => n.selected);
        return selected.length ? fragmentOf(selected, state.edges) : null;
      },

      undo() {
        const state = get();
        const previous = state.past.at(-1);
        if (!previous) return;
        restore(previous, state.past.slice(0, -1), [snapshotOf(state), ...state.future]);
      },

      redo() {
        const state = get();
        const next = state.future[0];
        if (!next) return;
        restore(next, [...state.past, snapshotOf(state)], state.future.slice(1));
      },

      markSaved(doc, version) {
        const state = get();
        const savedJson = JSON.stringify(doc);
        set({ version, savedJson, dirty: serialise(state) !== savedJson });
      },

      setProblems: (problems, validated) => set({ problems, validated: validated ?? null }),
      setValidating: (validating) => set({ validating }),
      setRunSteps: (runSteps, baseline) => set({ runSteps, runBaseline: baseline ?? get().runBaseline }),
      touchField(nodeId, path) {
        const seen = get().newNodes[nodeId];
        if (seen && !seen.includes(path)) set({ newNodes: { ...get().newNodes, [nodeId]: [...seen, path] } });
      },
      revealProblems: () => set({ newNodes: {} }),
      setConnectionHint: (connectionHint) => set({ connectionHint }),
      document: () => {
        const s = get();
        return toPipeline(s.meta, s.nodes, s.edges);
      },
    };
  });
}

export const editorStore = createEditorStore();

export function useEditor<T>(selector: (state: EditorStore) => T): T {
  return useStore(editorStore, selector);
}

/**
 * Which steps of the run on screen have ended, as a key: a step that ends may have kept an output
 * whose columns the panels, the completion and the checks can use from then on (draft runs too).
 */
export const endedStepsKey = (s: { runSteps: Record<string, StepProgress> }): string =>
  Object.entries(s.runSteps)
    .filter(([, step]) => step.status !== 'pending' && step.status !== 'running')
    .map(([id, step]) => `${id}:${step.status}`)
    .sort()
    .join(',');
