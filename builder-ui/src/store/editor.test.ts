// The editor store: undo/redo of every kind of edit, and a dirty flag that means "differs from saved".
import { beforeEach, describe, expect, it } from 'vitest';
import type { NodeKind, PipelineDocument } from '../model/types.ts';
import {
  baselineOf,
  createEditorStore,
  documentNodesChanged,
  hasFailureEdge,
  problemsOf,
  visibleStep,
} from './editor.ts';

const doc: PipelineDocument = {
  apiVersion: 'tributary/v1',
  id: 'p',
  name: 'P',
  project: 'default',
  nodes: [
    { id: 'gen', type: 'source.generate', config: { rows: 3 }, position: { x: 0, y: 0 } },
    { id: 'sql', type: 'transform.sql', config: { sql: 'select 1' }, position: { x: 300, y: 0 } },
  ],
  edges: [{ from: 'gen', to: 'sql' }],
};

/** The node catalogue's kinds for the types these tests use. */
const kindOf = (type: string): NodeKind =>
  type.startsWith('source.') ? 'source' : type.startsWith('sink.') ? 'sink' : 'transform';

let store: ReturnType<typeof createEditorStore>;
beforeEach(() => {
  store = createEditorStore(kindOf);
  store.getState().load(doc, 1);
});

const ids = () => store.getState().nodes.map((n) => n.id);

describe('editor store', () => {
  it('starts clean, with nothing to undo', () => {
    const s = store.getState();
    expect(s.dirty).toBe(false);
    expect(s.past).toEqual([]);
    expect(s.document()).toEqual(doc);
  });

  it('undoes and redoes adding a node, and is dirty only while it differs from the save', () => {
    store.getState().addNode('sink.postgres', { x: 600, y: 0 }, 'out', { table: 't' });
    expect(ids()).toEqual(['gen', 'sql', 'out']);
    expect(store.getState().dirty).toBe(true);
    store.getState().undo();
    expect(ids()).toEqual(['gen', 'sql']);
    expect(store.getState().dirty).toBe(false);
    store.getState().redo();
    expect(ids()).toEqual(['gen', 'sql', 'out']);
    expect(store.getState().dirty).toBe(true);
  });

  it('brings back a deleted node together with its edges', () => {
    store.getState().selectOnly('gen');
    store.getState().deleteSelection();
    expect(ids()).toEqual(['sql']);
    expect(store.getState().edges).toEqual([]);
    store.getState().undo();
    expect(ids()).toEqual(['gen', 'sql']);
    expect(store.getState().edges.map((e) => e.id)).toEqual(['gen->sql']);
  });

  it('makes one undo step of a burst of typing into one field', () => {
    const { setNodeConfig } = store.getState();
    setNodeConfig('sql', { sql: 'select 1 a' }, 'sql.sql');
    setNodeConfig('sql', { sql: 'select 1 ab' }, 'sql.sql');
    setNodeConfig('sql', { sql: 'select 1 abc' }, 'sql.sql');
    expect(store.getState().past).toHaveLength(1);
    store.getState().undo();
    expect(store.getState().nodes[1]!.data.config).toEqual({ sql: 'select 1' });
  });

  it('makes one undo step of a drag, however many moves it had', () => {
    const { onNodesChange } = store.getState();
    for (const x of [10, 20, 30])
      onNodesChange([{ type: 'position', id: 'gen', position: { x, y: 0 }, dragging: true }]);
    onNodesChange([{ type: 'position', id: 'gen', position: { x: 30, y: 0 }, dragging: false }]);
    expect(store.getState().past).toHaveLength(1);
    expect(store.getState().dirty).toBe(true);
    store.getState().undo();
    expect(store.getState().nodes[0]!.position).toEqual({ x: 0, y: 0 });
    expect(store.getState().dirty).toBe(false);
  });

  it('does not count selection as an edit', () => {
    store.getState().onNodesChange([{ type: 'select', id: 'gen', selected: true }]);
    store.getState().selectAll();
    expect(store.getState().past).toEqual([]);
    expect(store.getState().dirty).toBe(false);
  });

  it('renames a node, following its edges and the SQL that reads it', () => {
    store.getState().setNodeConfig('sql', { sql: 'select * from {{ inputs.gen }}' });
    store.getState().renameNode('gen', 'orders');
    const d = store.getState().document();
    expect(d.nodes.map((n) => n.id)).toEqual(['orders', 'sql']);
    expect(d.edges).toEqual([{ from: 'orders', to: 'sql' }]);
    expect(d.nodes[1]!.config!.sql).toBe('select * from {{ inputs.orders }}');
  });

  it('is clean after a save, and dirty again on the next edit', () => {
    store.getState().updateMeta({ name: 'Renamed' });
    const saved = store.getState().document();
    store.getState().markSaved(saved, 2);
    expect(store.getState().dirty).toBe(false);
    expect(store.getState().version).toBe(2);
    store.getState().connect('gen', 'sql'); // already there: no change
    expect(store.getState().dirty).toBe(false);
    store.getState().updateMeta({ description: 'Now with a description' });
    expect(store.getState().dirty).toBe(true);
    store.getState().undo();
    expect(store.getState().dirty).toBe(false);
  });

  it('pastes a copied selection as new nodes, undoable in one step', () => {
    store.getState().selectAll();
    const fragment = store.getState().copySelection()!;
    const pasted = store.getState().paste(fragment);
    expect(pasted).toEqual(['gen_2', 'sql_2']);
    expect(store.getState().edges.map((e) => e.id)).toEqual(['gen->sql', 'gen_2->sql_2']);
    store.getState().undo();
    expect(ids()).toEqual(['gen', 'sql']);
  });
});

describe('run overlay and new nodes', () => {
  const step = {
    status: 'failed',
    attempt: 1,
    rowsIn: null,
    rowsOut: null,
    bytes: null,
    startedAt: null,
    endedAt: null,
  } as never;

  it("drops a run's status from a node edited since the run, and only from it", () => {
    const s = store.getState();
    s.setRunSteps({ gen: step, sql: step }, baselineOf(s.nodes));
    expect(visibleStep(store.getState(), 'sql')).toBe(step);
    store.getState().setNodeConfig('sql', { sql: 'select 2' });
    expect(visibleStep(store.getState(), 'sql')).toBeUndefined();
    expect(visibleStep(store.getState(), 'gen')).toBe(step);
    // Moving a node is no change to what it does.
    store.getState().setPositions(new Map([['gen', { x: 50, y: 50 }]]));
    expect(visibleStep(store.getState(), 'gen')).toBe(step);
  });

  it('remembers the fields a new node has had visited, until problems are revealed', () => {
    store.getState().addNode('transform.sql', { x: 0, y: 0 }, 'q', {});
    expect(store.getState().newNodes.q).toEqual([]);
    store.getState().touchField('q', 'sql');
    store.getState().touchField('q', 'sql');
    expect(store.getState().newNodes.q).toEqual(['sql']);
    store.getState().touchField('gen', 'rows'); // a loaded node shows every error already
    expect(store.getState().newNodes.gen).toBeUndefined();
    store.getState().revealProblems();
    expect(store.getState().newNodes).toEqual({});
  });

  it("tells a measurement or a selection from a change of the document's nodes", () => {
    const before = store.getState().nodes;
    store.getState().onNodesChange([
      { type: 'dimensions', id: 'gen', dimensions: { width: 200, height: 60 } },
      { type: 'select', id: 'sql', selected: true },
    ]);
    const measured = store.getState().nodes;
    expect(measured).not.toBe(before);
    expect(documentNodesChanged(measured, before)).toBe(false);
    store.getState().onNodesChange([{ type: 'position', id: 'gen', position: { x: 5, y: 5 } }]);
    expect(documentNodesChanged(store.getState().nodes, measured)).toBe(true);
    const moved = store.getState().nodes;
    store.getState().setNodeConfig('sql', { sql: 'select 2' });
    expect(documentNodesChanged(store.getState().nodes, moved)).toBe(true);
    store.getState().deleteNodes(['sql']);
    expect(documentNodesChanged(store.getState().nodes, moved)).toBe(true);
  });

  it("finds a node's problems and failure edges without a scan per node", () => {
    const problems = [
      { code: 'a', message: 'one', nodeId: 'sql' },
      { code: 'b', message: 'two' },
      { code: 'c', message: 'three', nodeId: 'sql' },
    ];
    expect(problemsOf(problems, 'sql').map((p) => p.message)).toEqual(['one', 'three']);
    expect(problemsOf(problems, 'gen')).toEqual([]);
    expect(hasFailureEdge(store.getState().edges, 'gen')).toBe(false);
    store.getState().addNode('sink.postgres', { x: 600, y: 0 }, 'alert', { table: 't' });
    store.getState().connect('sql', 'alert', 'failure');
    expect(hasFailureEdge(store.getState().edges, 'sql')).toBe(true);
    expect(hasFailureEdge(store.getState().edges, 'gen')).toBe(false);
  });
});
