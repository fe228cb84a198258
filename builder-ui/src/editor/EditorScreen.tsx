// The pipeline editor: the canvas first (a palette that collapses to icons, the node panel over the
// canvas only while a node is selected, the bottom drawer (problems, the run) a bar until opened)
// and the toolbar. Validation (use-live-validation.ts) runs on every change, debounced; the run
// on screen is followed by use-run-follower.ts; leaving with unsaved changes asks first.
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { Api, ApiError, messageOf } from '../api/client.ts';
import { isFinished, type Workspace } from '../api/types.ts';
import { ErrorBox, Link, Loading } from '../components/ui.tsx';
import { initialConfig } from '../model/config.ts';
import { uniqueNodeId } from '../model/flow.ts';
import { placeNew } from '../model/placement.ts';
import { layoutPositions } from '../model/layout.ts';
import { type PipelineDocument } from '../model/types.ts';
import { useLocation } from '../router.ts';
import { catalogKind, useCatalog } from '../store/catalog.ts';
import { editorStore, useEditor } from '../store/editor.ts';
import { runToast, toast } from '../store/toasts.ts';
import { BottomDrawer, type DrawerTab } from './BottomDrawer.tsx';
import { Canvas, FIT_VIEW } from './Canvas.tsx';
import { ConfigPanel } from './ConfigPanel.tsx';
import { HistoryDialog } from './HistoryDialog.tsx';
import { Palette } from './Palette.tsx';
import { ProblemsList } from './ProblemsList.tsx';
import { PublishDialog } from './PublishDialog.tsx';
import { RunDialog, RunPanel } from './RunPanel.tsx';
import { ScheduleDialog } from './ScheduleDialog.tsx';
import { SettingsDialog } from './SettingsDialog.tsx';
import { ShortcutsHelp } from './ShortcutsHelp.tsx';
import { Toolbar, type EditorDialog } from './Toolbar.tsx';
import { useEditorShortcuts } from './use-editor-shortcuts.ts';
import { useLiveValidation } from './use-live-validation.ts';
import { useRunFollower } from './use-run-follower.ts';
import { useDraft } from './use-draft.ts';
import { useUnsavedChangesGuard } from './use-unsaved-changes-guard.ts';

const NO_PARAMS = {};

/** F2 or a double-click: the selected node's name field, ready to type over. */
function focusNameField() {
  window.setTimeout(() => {
    const field = document.querySelector<HTMLInputElement>('.config-panel input[name="node-name"]');
    field?.focus();
    field?.select();
  }, 30);
}

export function EditorScreen({ id }: { id: string }) {
  return (
    <ReactFlowProvider>
      <Editor key={id} id={id} />
    </ReactFlowProvider>
  );
}

function Editor({ id }: { id: string }) {
  const [loadError, setLoadError] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [secrets, setSecrets] = useState<string[] | null>(null);
  const [temporal, setTemporal] = useState<{ ui?: string | undefined; namespace?: string }>({});
  const [dialog, setDialog] = useState<EditorDialog | null>(null);
  const [drawer, setDrawer] = useState<DrawerTab | null>(null);
  const [drafted, setDrafted] = useState(false);
  // Where the pipeline was read (main or a branch) and what save, run and publish do there: the
  // server says (the view's `workspace`), and the toolbar, autosave and Run follow it.
  const [workspace, setWorkspace] = useState<Workspace | null>(null);
  const [project, setProject] = useState('default');
  const { query } = useLocation();
  const initialRun = useRef(query.get('run'));
  const runs = useRunFollower();

  const connectors = useCatalog((s) => s.connectors);
  const byType = useCatalog((s) => s.byType);
  const catalogError = useCatalog((s) => s.error);
  const dirty = useEditor((s) => s.dirty);
  const name = useEditor((s) => s.meta.name);
  const version = useEditor((s) => s.version);
  const problemCount = useEditor((s) => s.problems.length);
  const params = useEditor((s) => s.meta.params) ?? NO_PARAMS;
  const flow = useReactFlow();

  // Load the pipeline and the catalogue.
  const load = useCallback(async () => {
    setLoadError(null);
    setReady(false);
    try {
      const [view] = await Promise.all([Api.pipeline(id), useCatalog.getState().load()]);
      // Unpublished edits live in the draft: the editor opens on it, over the version it was based on.
      const draft = view.draft ? await Api.draft(id) : null;
      editorStore.getState().load(draft?.document ?? view.document, view.version);
      setDrafted(!!draft);
      setWorkspace(view.workspace);
      setProject(view.project);
      if (view.document.nodes.some((n) => !n.position) && view.document.nodes.length > 0) {
        const s = editorStore.getState();
        s.setPositions(layoutPositions(s.nodes, s.edges));
        s.markSaved(s.document(), view.version);
      }
      setReady(true);
      Api.secrets(view.document.project ?? 'default')
        .then((r) => setSecrets(r.items.map((i) => i.name)))
        .catch(() => setSecrets(null));
    } catch (e) {
      setLoadError(
        e instanceof ApiError && e.status === 404 ? `Pipeline "${id}" does not exist.` : messageOf(e),
      );
    }
  }, [id]);

  useEffect(() => {
    void load();
    // The Temporal UI's address comes from the server, which knows TEMPORAL_UI_PORT / _URL.
    Api.health()
      .then((h) => setTemporal({ ui: h.temporalUi, namespace: h.temporalNamespace }))
      .catch(() => undefined);
  }, [load]);

  useLiveValidation(ready);
  useUnsavedChangesGuard(dirty);
  const draft = useDraft(ready, drafted, workspace);

  const publish = async (message: string) => {
    editorStore.getState().revealProblems();
    const published = await draft.publish(message.trim() || undefined);
    setDialog(null);
    if (published) toast('success', `Published version ${published.version}`);
  };

  const discardDraft = async (ask = true) => {
    if (ask && !window.confirm('Discard the draft? The editor goes back to the published version.')) return;
    if (await draft.discard()) {
      editorStore.getState().markSaved(editorStore.getState().document(), version ?? 0);
      await load();
      toast('info', 'Draft discarded');
    }
  };

  const centre = () => {
    const rect = document.querySelector('.canvas')?.getBoundingClientRect();
    if (!rect) return { x: 100, y: 100 };
    return flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 });
  };

  /** A drop lands where it was dropped; a click goes after the selected node, connected (placement.ts). */
  const addNode = (type: string, position?: { x: number; y: number }) => {
    const s = editorStore.getState();
    const nodeId = uniqueNodeId(
      type,
      s.nodes.map((n) => n.id),
    );
    const placed = position ? { position, from: null } : placeNew(catalogKind(type), s.nodes, centre());
    s.addNode(type, placed.position, nodeId, initialConfig(byType.get(type)?.config));
    if (placed.from) s.connect(placed.from, nodeId);
  };

  const duplicate = () => {
    const fragment = editorStore.getState().copySelection();
    if (fragment) editorStore.getState().paste(fragment);
  };

  const fit = () => void flow.fitView({ ...FIT_VIEW, duration: 200 });
  const autoLayout = () => {
    const s = editorStore.getState();
    s.setPositions(layoutPositions(s.nodes, s.edges));
    window.setTimeout(fit, 50);
  };

  const focusNode = useCallback(
    (nodeId: string) => {
      const node = editorStore.getState().nodes.find((n) => n.id === nodeId);
      if (!node) return;
      editorStore.getState().selectOnly(nodeId);
      void flow.setCenter(node.position.x + 120, node.position.y + 40, {
        zoom: Math.max(flow.getZoom(), 1),
        duration: 250,
      });
      window.setTimeout(() => {
        const el = document.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(nodeId)}"]`);
        el?.focus();
      }, 260);
    },
    [flow],
  );

  const openRun = useCallback(
    (runId: string) => {
      runs.open(runId);
      setDrawer('run');
    },
    [runs.open],
  );

  useEffect(() => {
    if (ready && initialRun.current) {
      openRun(initialRun.current);
      initialRun.current = null;
    }
  }, [ready, openRun]);

  const startRun = async (runParams: Record<string, unknown>) => {
    const s = editorStore.getState();
    s.revealProblems();
    // A run of the editor runs what the editor shows: the draft when there is one. No version is made,
    // and the draft is not edited (the server keeps a manual run's step outputs for previews).
    if (!(await draft.flush()))
      throw new Error(`The draft could not be saved, so the run was not started: ${draft.error ?? ''}`);
    const started = await Api.startRun(workspace!, id, runParams, { draft: draft.hasDraftNow() });
    setDialog(null);
    runToast(started.runId, `Run started: ${started.runId}`);
    openRun(started.runId);
  };

  /** A new run from the failed steps or a node of the run on screen; the rest reuse its outputs. */
  const rerun = async (from: string) => {
    if (!runs.runId) return;
    if (!(await draft.flush())) return;
    try {
      const started = await Api.rerun(runs.runId, from, draft.hasDraftNow());
      const reused = Object.keys(started.reused).length;
      runToast(
        started.runId,
        `Re-run started: ${started.runId}${reused ? ` (${reused} step${reused > 1 ? 's' : ''} reused)` : ''}`,
      );
      openRun(started.runId);
    } catch (e) {
      toast('error', `Could not re-run: ${messageOf(e)}`);
    }
  };
  const runFinished = !!runs.run && isFinished(runs.run.status);

  // Run starts at once with the params' defaults; only a param that needs a value asks first.
  const run = () => {
    const needsValue = Object.values(editorStore.getState().meta.params ?? {}).some(
      (p) => p.required && p.default === undefined,
    );
    if (needsValue) {
      setDialog('run');
      return;
    }
    startRun({}).catch((e: unknown) => toast('error', `Could not start the run: ${messageOf(e)}`));
  };

  const closeRun = () => {
    runs.close();
    setDrawer(null);
  };

  useEditorShortcuts({
    save: () => void draft.flush(),
    run,
    rename: () => focusNameField(),
    duplicate,
    autoLayout,
    fit,
    toggleHelp: () => setDialog((d) => (d === 'help' ? null : 'help')),
    closeDialog: () => setDialog(null),
  });

  if (loadError) {
    return (
      <main className="screen">
        <ErrorBox error={loadError} onRetry={() => void load()} />
        <Link to="/pipelines">Back to pipelines</Link>
      </main>
    );
  }
  if (!ready || !connectors || !workspace) {
    return (
      <main className="screen">
        {catalogError ? (
          <ErrorBox error={`Could not load node types: ${catalogError}`} />
        ) : (
          <Loading what="the pipeline" />
        )}
      </main>
    );
  }

  const order = editorStore.getState().nodes.map((n) => n.id);
  const kinds = Object.fromEntries(editorStore.getState().nodes.map((n) => [n.id, n.type ?? 'transform']));
  return (
    <main className="editor" aria-label={`Editor: ${name}`}>
      <Toolbar
        id={id}
        project={project}
        workspace={workspace}
        draft={draft.state}
        onPublish={() => setDialog('publish')}
        onDiscard={() => void discardDraft()}
        onRun={run}
        onRunWithParams={() => setDialog('run')}
        onDialog={(d) => setDialog((open) => (open === d && d === 'help' ? null : d))}
        onAutoLayout={autoLayout}
      />
      {draft.error && draft.outage && (
        // Something is down (the shell's banner says what): nothing is wrong with the edits, so
        // nothing here offers to throw them away; they are saved when it is back.
        <div className="banner banner-warning" role="status">
          <span>
            Your edits are kept in this page and will be saved to the draft when the server is back.
          </span>
          <button type="button" onClick={() => void draft.flush()}>
            Save now
          </button>
        </div>
      )}
      {draft.error && !draft.outage && (
        <div className="banner banner-error" role="alert">
          <span>{draft.error}</span>
          <button type="button" onClick={() => void draft.flush()}>
            Try again
          </button>
          <button type="button" onClick={() => void discardDraft(false)}>
            Discard my draft
          </button>
        </div>
      )}
      <div className="editor-body">
        <Palette connectors={connectors} onAdd={(type) => addNode(type)} />
        <div className="editor-centre">
          <div className="canvas-area">
            <Canvas
              onDropType={(type, position) => addNode(type, position)}
              onRename={(nodeId) => {
                editorStore.getState().selectOnly(nodeId);
                focusNameField();
              }}
            />
            <ConfigPanel
              secrets={secrets}
              onDuplicate={duplicate}
              runId={runs.runId}
              onRunFrom={runFinished ? (nodeId) => void rerun(nodeId) : undefined}
            />
          </div>
          <BottomDrawer
            open={drawer}
            onOpen={setDrawer}
            problemCount={problemCount}
            runLabel={runs.runId ? `Run${runs.run ? ` · ${runs.run.status.replace(/_/g, ' ')}` : ''}` : null}
          >
            {drawer === 'problems' && <ProblemsList onFocus={focusNode} />}
            {drawer === 'run' && runs.runId && (
              <RunPanel
                run={runs.run}
                runId={runs.runId}
                order={order}
                error={runs.error}
                onClose={closeRun}
                onFocusNode={focusNode}
                temporalUi={temporal.ui}
                temporalNamespace={temporal.namespace}
                kinds={kinds}
                onRerunFailed={() => void rerun('failed')}
              />
            )}
          </BottomDrawer>
        </div>
      </div>
      {dialog === 'help' && <ShortcutsHelp onClose={() => setDialog(null)} />}
      {dialog === 'publish' && (
        <PublishDialog
          next={(version ?? 0) + 1}
          onClose={() => setDialog(null)}
          onPublish={(message) => publish(message)}
        />
      )}
      {(dialog === 'settings' || dialog === 'params') && (
        <SettingsDialog tab={dialog === 'params' ? 'params' : 'settings'} onClose={() => setDialog(null)} />
      )}
      {dialog === 'schedule' && <ScheduleDialog pipelineId={id} onClose={() => setDialog(null)} />}
      {dialog === 'history' && (
        <HistoryDialog
          pipelineId={id}
          workspace={workspace}
          currentVersion={version}
          dirty={dirty}
          onClose={() => setDialog(null)}
          drafted={draft.hasDraft}
          onRolledBack={(doc: PipelineDocument, v: number) => {
            // The restored version is what the editor shows now; a draft over the old one would hide it.
            void draft.discard().then(() => {
              editorStore.getState().load(doc, v);
              setDialog(null);
              toast('success', `Restored as version ${v}`);
            });
          }}
        />
      )}
      {dialog === 'run' && (
        <RunDialog
          params={params}
          dirty={dirty || draft.hasDraft}
          onClose={() => setDialog(null)}
          onStart={startRun}
        />
      )}
    </main>
  );
}
