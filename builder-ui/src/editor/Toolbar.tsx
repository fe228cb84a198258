// The editor's toolbar: the pipeline's name, where its edits stand (published, editing, draft saved;
// checking, problems), edit actions, the pipeline's dialogs, and Publish / Run.
import type { Workspace } from '../api/types.ts';
import { Link } from '../components/ui.tsx';
import { editorStore, useEditor } from '../store/editor.ts';
import { downloadJson } from './ProblemsList.tsx';
import type { DraftState } from './use-draft.ts';

export type EditorDialog = 'run' | 'history' | 'settings' | 'params' | 'help' | 'schedule' | 'publish';

export function Toolbar(props: {
  id: string;
  project: string;
  /** Where the editor works and what save, run, publish and merge do there (from the server). */
  workspace: Workspace;
  draft: DraftState;
  onPublish: () => void;
  onDiscard: () => void;
  onRun: () => void;
  onRunWithParams: () => void;
  onDialog: (dialog: EditorDialog) => void;
  onAutoLayout: () => void;
}) {
  const dirty = useEditor((s) => s.dirty);
  const name = useEditor((s) => s.meta.name);
  const version = useEditor((s) => s.version);
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const problems = useEditor((s) => s.problems.length);
  const validating = useEditor((s) => s.validating);
  const nodeCount = useEditor((s) => s.nodes.length);
  const hasParams = useEditor((s) => Object.keys(s.meta.params ?? {}).length > 0);
  const { workspace } = props;
  const branch = workspace.branch;
  return (
    <header className="toolbar" aria-label="Editor toolbar">
      <Link to="/pipelines" aria-label="Back to pipelines">
        ←
      </Link>
      <h1 className="pipeline-name">
        {name} <span className="muted small">{props.id}</span>
      </h1>
      {branch && (
        <span
          className="branch-badge"
          role="note"
          aria-label={`In branch ${branch}`}
          title={`Branch ${branch} of ${props.project}: ${workspace.says.save}`}
        >
          ⑂ {branch}
        </span>
      )}
      <SaveState dirty={dirty} draft={props.draft} version={version} workspace={workspace} />
      <span className="validity" aria-live="polite">
        {validating
          ? 'Checking…'
          : problems
            ? `${problems} problem${problems > 1 ? 's' : ''}`
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
        <button
          type="button"
          aria-label="Auto-layout"
          title="Auto-layout (Shift+L)"
          onClick={props.onAutoLayout}
        >
          Layout
        </button>
      </div>
      <div className="toolbar-group" role="group" aria-label="Pipeline">
        <button type="button" onClick={() => props.onDialog('params')} aria-label="Params">
          Params
        </button>
        <button type="button" onClick={() => props.onDialog('settings')} aria-label="Pipeline settings">
          Settings
        </button>
        <button type="button" onClick={() => props.onDialog('history')} aria-label="Version history">
          History
        </button>
        <button type="button" onClick={() => props.onDialog('schedule')} aria-label="Schedule">
          Schedule
        </button>
        <a
          href={`/api/pipelines/${encodeURIComponent(props.id)}`}
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
          onClick={() => props.onDialog('help')}
        >
          ?
        </button>
      </div>
      {workspace.merge && branch && (
        <Link
          to={`/branches/${encodeURIComponent(props.project)}/${encodeURIComponent(branch)}`}
          className="button secondary"
          aria-label="Review and merge the branch"
          title={workspace.says.merge ?? undefined}
        >
          Review &amp; merge
        </Link>
      )}
      {workspace.discard && props.draft !== 'published' && (
        <button type="button" className="link-button" onClick={props.onDiscard} aria-label="Discard draft">
          Discard
        </button>
      )}
      {workspace.publish && (
        <button
          type="button"
          className="secondary"
          disabled={props.draft === 'published' && !dirty}
          onClick={props.onPublish}
          aria-label="Publish"
          title="Make the draft the next version: schedules, webhooks and API runs use it from then on"
        >
          Publish
        </button>
      )}
      <button
        type="button"
        className="primary"
        onClick={props.onRun}
        aria-label="Run"
        title={workspace.says.run}
      >
        ▶ Run
      </button>
      {hasParams && (
        <button
          type="button"
          onClick={props.onRunWithParams}
          aria-label="Run with params"
          title="Choose the params of this run first"
        >
          ▶ with params…
        </button>
      )}
    </header>
  );
}

/** Where the edits stand: saved where the workspace saves (main's draft, a branch's copy) or not. */
function SaveState(props: {
  dirty: boolean;
  draft: DraftState;
  version: number | null;
  workspace: Workspace;
}) {
  const branch = props.workspace.branch;
  const [text, label] = props.dirty
    ? ['● Editing…', 'Unsaved changes']
    : props.draft === 'saving'
      ? [branch ? 'Saving to the branch…' : 'Saving draft…', 'Saving draft']
      : props.draft === 'error'
        ? ['Draft not saved', 'Draft not saved']
        : props.workspace.save === 'copy'
          ? // A save in a branch is a revision of the branch's copy; main keeps its version.
            props.draft === 'saved'
            ? [`Saved in ${branch} · main untouched`, `Saved in branch ${branch}`]
            : [`Branch ${branch} · main untouched`, `In branch ${branch}`]
          : props.draft === 'saved'
            ? [`Draft saved · v${props.version} published`, 'Draft saved']
            : [`Published · v${props.version}`, `Published, version ${props.version}`];
  return (
    <span
      className={`save-state${props.dirty || props.draft === 'error' ? ' unsaved' : ''}`}
      role="status"
      aria-label={label}
      title={props.workspace.says.save}
    >
      {text}
    </span>
  );
}
