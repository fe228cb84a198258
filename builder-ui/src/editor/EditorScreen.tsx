// The pipeline editor: palette, canvas, config panel, problems and run panels, and the toolbar
// (save, undo/redo, layout, history, settings, run). Validation (use-live-validation.ts) runs on
// every change, debounced; leaving with unsaved changes asks first (use-unsaved-changes-guard.ts).
import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { Api, ApiError, followRun, messageOf } from '../api/client.ts';
import { ErrorBox, Link, Loading } from '../components/ui.tsx';
import { parseFragment, uniqueNodeId } from '../model/flow.ts';
import { layoutPositions } from '../model/layout.ts';
import { type PipelineDocument } from '../model/types.ts';
import { useLocation } from '../router.ts';
import { useCatalog } from '../store/catalog.ts';
import { editorStore, useEditor } from '../store/editor.ts';
import { toast } from '../store/toasts.ts';
import { Canvas } from './Canvas.tsx';
import { ConfigPanel } from './ConfigPanel.tsx';
import { HistoryDialog } from './HistoryDialog.tsx';
import { Palette } from './Palette.tsx';
import { RunDialog, RunPanel } from './RunPanel.tsx';
import { downloadJson, ProblemsList } from './ProblemsList.tsx';
import { SettingsDialog } from './SettingsDialog.tsx';
import { ShortcutsHelp } from './ShortcutsHelp.tsx';
import { useLiveValidation } from './use-live-validation.ts';
import { useUnsavedChangesGuard } from './use-unsaved-changes-guard.ts';
import { isFinished, type RunDetail } from '../api/types.ts';

const NO_PARAMS = {};

export function EditorScreen({ id }: { id: string }) {
  return (
    <ReactFlowProvider>
      <Editor key={id} id={id} />
    </ReactFlowProvider>
  );
}

const isEditable = (el: EventTarget | null) =>
  el instanceof HTMLElement &&
  (el.isContentEditable ||
    ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) ||
    !!el.closest('.cm-editor'));

function Editor({ id }: { id: string }) {
  const [loadError, setLoadError] = useState<string | null>(null);
  const [ready, setReady] = useState(false);
  const [secrets, setSecrets] = useState<string[] | null>(null);
  const [temporalUi, setTemporalUi] = useState<string | undefined>(undefined);
  const [dialog, setDialog] = useState<null | 'run' | 'history' | 'settings' | 'params' | 'help'>(null);
  const [bottom, setBottom] = useState<'problems' | 'run' | null>('problems');
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<string | null>(null);
  const [runId, setRunId] = useState<string | null>(null);
  const [run, setRun] = useState<RunDetail | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const stopFollowing = useRef<(() => void) | null>(null);
  const clipboard = useRef<string | null>(null);
  const { query } = useLocation();
  const initialRun = useRef(query.get('run'));

  const connectors = useCatalog((s) => s.connectors);
  const catalogError = useCatalog((s) => s.error);
  const dirty = useEditor((s) => s.dirty);
  const name = useEditor((s) => s.meta.name);
  const version = useEditor((s) => s.version);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const problems = useEditor((s) => s.problems);
  const validating = useEditor((s) => s.validating);
  const nodeCount = useEditor((s) => s.nodes.length);
  const params = useEditor((s) => s.meta.params) ?? NO_PARAMS;
  const keepStaging = useEditor((s) => !!s.meta.settings?.keepStaging);
  const flow = useReactFlow();

  // Load the pipeline and the catalogue.
  const load = useCallback(async () => {
    setLoadError(null);
    setReady(false);
    try {
      const [view] = await Promise.all([Api.pipeline(id), useCatalog.getState().load()]);
      editorStore.getState().load(view.document, view.version);
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
    Api.health()
      .then((h) => setTemporalUi(h.temporalUi))
      .catch(() => undefined);
    return () => {
      stopFollowing.current?.();
      editorStore.getState().setRunSteps({});
    };
  }, [load]);

  useLiveValidation(ready);
  useUnsavedChangesGuard(dirty);

  const save = useCallback(async (force = false): Promise<boolean> => {
    const s = editorStore.getState();
    const doc = s.document();
    setSaving(true);
    try {
      const saved = await Api.savePipeline(doc, force ? null : s.version);
      editorStore.getState().markSaved(doc, saved.version);
      setConflict(null);
      toast(
        'success',
        saved.created ? `Saved version ${saved.version}` : `No changes since version ${saved.version}`,
      );
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setConflict(messageOf(e));
      else toast('error', `Could not save: ${messageOf(e)}`);
      return false;
    } finally {
      setSaving(false);
    }
  }, []);

  const reloadAfterConflict = async () => {
    setConflict(null);
    editorStore.getState().markSaved(editorStore.getState().document(), version ?? 0);
    await load();
  };

  const centre = () => {
    const rect = document.querySelector('.canvas')?.getBoundingClientRect();
    if (!rect) return { x: 100, y: 100 };
    const p = flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 });
    // Successive clicks should not stack nodes exactly on top of each other.
    const n = editorStore.getState().nodes.length;
    return { x: p.x - 110 + (n % 5) * 24, y: p.y - 40 + (n % 5) * 24 };
  };

  const addNode = (type: string, position?: { x: number; y: number }) => {
    const s = editorStore.getState();
    const nodeId = uniqueNodeId(
      type,
      s.nodes.map((n) => n.id),
    );
    s.addNode(type, position ?? centre(), nodeId, {});
  };

  const duplicate = () => {
    const fragment = editorStore.getState().copySelection();
    if (fragment) editorStore.getState().paste(fragment);
  };

  const autoLayout = () => {
    const s = editorStore.getState();
    s.setPositions(layoutPositions(s.nodes, s.edges));
    window.setTimeout(() => void flow.fitView({ padding: 0.2, maxZoom: 1.1, duration: 200 }), 50);
  };

  const focusNode = useCallback(
    (nodeId: string) => {
      const node = editorStore.getState().nodes.find((n) => n.id === nodeId);
      if (!node) return;
      editorStore.getState().selectOnly(nodeId);
      void flow.setCenter(node.position.x + 110, node.position.y + 40, {
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

  // Runs: follow the event stream; fall back to polling if the stream breaks.
  const openRun = useCallback((newRunId: string) => {
    stopFollowing.current?.();
    setRunId(newRunId);
    setRun(null);
    setRunError(null);
    setBottom('run');
    const url = new URL(location.href);
    url.searchParams.set('run', newRunId);
    history.replaceState(null, '', url.pathname + url.search);
    const show = (r: RunDetail) => {
      setRun(r);
      editorStore.getState().setRunSteps(r.steps ?? {});
    };
    let polling: number | undefined;
    const poll = () => {
      Api.run(newRunId)
        .then((r) => {
          show(r);
          if (!isFinished(r.status)) polling = window.setTimeout(poll, 1500);
        })
        .catch((e: unknown) => setRunError(messageOf(e)));
    };
    const stop = followRun(
      newRunId,
      show,
      () => poll(),
      () => poll(),
    );
    stopFollowing.current = () => {
      stop();
      window.clearTimeout(polling);
    };
  }, []);

  useEffect(() => {
    if (ready && initialRun.current) {
      openRun(initialRun.current);
      initialRun.current = null;
    }
  }, [ready, openRun]);

  const startRun = async (runParams: Record<string, unknown>, keep: boolean) => {
    const s = editorStore.getState();
    if (keep && !s.meta.settings?.keepStaging)
      s.updateMeta({ settings: { ...s.meta.settings, keepStaging: true } });
    if (editorStore.getState().dirty && !(await save()))
      throw new Error('The pipeline could not be saved, so the run was not started.');
    const started = await Api.startRun(id, runParams);
    setDialog(null);
    toast('info', `Run started: ${started.runId}`);
    openRun(started.runId);
  };

  const closeRun = () => {
    stopFollowing.current?.();
    setRunId(null);
    setRun(null);
    editorStore.getState().setRunSteps({});
    setBottom('problems');
    history.replaceState(null, '', location.pathname);
  };

  // Keyboard shortcuts (not while typing in a field, except Ctrl+S).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = editorStore.getState();
      const mod = e.ctrlKey || e.metaKey;
      const key = e.key.toLowerCase();
      if (mod && key === 's') {
        e.preventDefault();
        void save();
        return;
      }
      if (document.querySelector('dialog[open]')) return;
      if (isEditable(e.target)) return;
      if (mod && key === 'z') {
        e.preventDefault();
        if (e.shiftKey) s.redo();
        else s.undo();
      } else if (mod && key === 'y') {
        e.preventDefault();
        s.redo();
      } else if (mod && key === 'a') {
        e.preventDefault();
        s.selectAll();
      } else if (mod && key === 'd') {
        e.preventDefault();
        duplicate();
      } else if (mod && key === 'enter') {
        e.preventDefault();
        setDialog('run');
      } else if (!mod && (e.key === 'Delete' || e.key === 'Backspace')) {
        e.preventDefault();
        s.deleteSelection();
      } else if (!mod && e.shiftKey && key === 'l') {
        autoLayout();
      } else if (!mod && e.shiftKey && key === 'f') {
        void flow.fitView({ padding: 0.2, maxZoom: 1.1, duration: 200 });
      } else if (e.key === '?') {
        setDialog((d) => (d === 'help' ? null : 'help'));
      } else if (e.key === 'Escape') {
        setDialog(null);
        s.selectOnly(null);
      }
    };
    const onCopy = (e: ClipboardEvent) => {
      if (isEditable(e.target) || window.getSelection()?.toString()) return;
      const fragment = editorStore.getState().copySelection();
      if (!fragment) return;
      const text = JSON.stringify(fragment, null, 2);
      clipboard.current = text;
      e.clipboardData?.setData('text/plain', text);
      e.preventDefault();
      toast('info', `Copied ${fragment.nodes.length} node${fragment.nodes.length > 1 ? 's' : ''}`);
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isEditable(e.target)) return;
      const text = e.clipboardData?.getData('text/plain');
      const fragment =
        (text && parseFragment(text)) || (clipboard.current && parseFragment(clipboard.current));
      if (!fragment) return;
      e.preventDefault();
      editorStore.getState().paste(fragment);
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('copy', onCopy);
    document.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('paste', onPaste);
    };
  }, [save, flow]);

  if (loadError) {
    return (
      <main className="screen">
        <ErrorBox error={loadError} onRetry={() => void load()} />
        <Link to="/pipelines">Back to pipelines</Link>
      </main>
    );
  }
  if (!ready || !connectors) {
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
      <header className="toolbar" aria-label="Editor toolbar">
        <Link to="/pipelines" aria-label="Back to pipelines">
          ←
        </Link>
        <h1 className="pipeline-name">
          {name} <span className="muted small">{id}</span>
        </h1>
        <span
          className={`save-state${dirty ? ' unsaved' : ''}`}
          role="status"
          aria-label={dirty ? 'Unsaved changes' : `Saved, version ${version}`}
        >
          {dirty ? '● Unsaved changes' : `Saved · v${version}`}
        </span>
        <span className="validity" aria-live="polite">
          {validating
            ? 'Checking…'
            : problems.length
              ? `${problems.length} problem${problems.length > 1 ? 's' : ''}`
              : nodeCount
                ? '✓ Valid'
                : ''}
        </span>
        <span className="spacer" />
        <div className="toolbar-group" role="group" aria-label="Edit">
          <button
            type="button"
            aria-label="Undo"
            title="Undo (Ctrl+Z)"
            disabled={!canUndo}
            onClick={() => editorStore.getState().undo()}
          >
            ↶
          </button>
          <button
            type="button"
            aria-label="Redo"
            title="Redo (Ctrl+Shift+Z)"
            disabled={!canRedo}
            onClick={() => editorStore.getState().redo()}
          >
            ↷
          </button>
          <button type="button" aria-label="Auto-layout" title="Auto-layout (Shift+L)" onClick={autoLayout}>
            Layout
          </button>
        </div>
        <div className="toolbar-group" role="group" aria-label="Pipeline">
          <button type="button" onClick={() => setDialog('params')} aria-label="Params">
            Params
          </button>
          <button type="button" onClick={() => setDialog('settings')} aria-label="Pipeline settings">
            Settings
          </button>
          <button type="button" onClick={() => setDialog('history')} aria-label="Version history">
            History
          </button>
          <Link to={`/settings?pipeline=${encodeURIComponent(id)}`} aria-label="Schedule and webhooks">
            Schedule
          </Link>
          <a
            href={`/api/pipelines/${encodeURIComponent(id)}`}
            onClick={(e) => {
              e.preventDefault();
              downloadJson(editorStore.getState().document());
            }}
            aria-label="Export JSON"
          >
            Export
          </a>
          <button
            type="button"
            aria-label="Keyboard shortcuts"
            title="Keyboard shortcuts (?)"
            onClick={() => setDialog(dialog === 'help' ? null : 'help')}
          >
            ?
          </button>
        </div>
        <button
          type="button"
          className="secondary"
          disabled={saving}
          onClick={() => void save()}
          aria-label="Save"
        >
          {saving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="primary" onClick={() => setDialog('run')} aria-label="Run">
          ▶ Run
        </button>
      </header>
      {conflict && (
        <div className="banner banner-error" role="alert">
          <span>Someone saved a newer version while you were editing: {conflict}</span>
          <button type="button" onClick={() => void reloadAfterConflict()}>
            Discard mine and reload
          </button>
          <button type="button" className="danger" onClick={() => void save(true)}>
            Save mine anyway
          </button>
        </div>
      )}
      <div className="editor-body">
        <Palette connectors={connectors} onAdd={(type) => addNode(type)} />
        <div className="editor-centre">
          <Canvas onDropType={(type, position) => addNode(type, position)} />
          {bottom && (
            <div className="bottom-panel">
              <div role="tablist" aria-label="Bottom panel" className="tabs">
                <button
                  type="button"
                  role="tab"
                  aria-selected={bottom === 'problems'}
                  onClick={() => setBottom('problems')}
                >
                  Problems ({problems.length})
                </button>
                {runId && (
                  <button
                    type="button"
                    role="tab"
                    aria-selected={bottom === 'run'}
                    onClick={() => setBottom('run')}
                  >
                    Run
                  </button>
                )}
                <span className="spacer" />
                <button
                  type="button"
                  className="icon-button"
                  aria-label="Hide bottom panel"
                  onClick={() => setBottom(null)}
                >
                  ⌄
                </button>
              </div>
              {bottom === 'problems' && <ProblemsList onFocus={focusNode} />}
              {bottom === 'run' && runId && (
                <RunPanel
                  run={run}
                  runId={runId}
                  order={order}
                  error={runError}
                  onClose={closeRun}
                  onFocusNode={focusNode}
                  temporalUi={temporalUi}
                  kinds={kinds}
                />
              )}
            </div>
          )}
          {!bottom && (
            <button
              type="button"
              className="show-bottom"
              onClick={() => setBottom(runId ? 'run' : 'problems')}
            >
              Show {runId ? 'run' : `problems (${problems.length})`}
            </button>
          )}
        </div>
        <ConfigPanel secrets={secrets} onDuplicate={duplicate} />
      </div>
      {dialog === 'help' && <ShortcutsHelp onClose={() => setDialog(null)} />}
      {(dialog === 'settings' || dialog === 'params') && (
        <SettingsDialog tab={dialog === 'params' ? 'params' : 'settings'} onClose={() => setDialog(null)} />
      )}
      {dialog === 'history' && (
        <HistoryDialog
          pipelineId={id}
          currentVersion={version}
          dirty={dirty}
          onClose={() => setDialog(null)}
          onRolledBack={(doc: PipelineDocument, v: number) => {
            editorStore.getState().load(doc, v);
            setDialog(null);
            toast('success', `Restored as version ${v}`);
          }}
        />
      )}
      {dialog === 'run' && (
        <RunDialog
          params={params}
          keepStaging={keepStaging}
          dirty={dirty}
          onClose={() => setDialog(null)}
          onStart={startRun}
        />
      )}
    </main>
  );
}
