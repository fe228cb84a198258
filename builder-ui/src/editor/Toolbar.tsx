// The editor's toolbar: the pipeline's name, where its edits stand (published, editing, draft saved;
// checking, problems), edit actions, the pipeline's dialogs, and Publish / Run.
import { Link } from '../components/ui.tsx';
import { editorStore, useEditor } from '../store/editor.ts';
import { downloadJson } from './ProblemsList.tsx';
import type { DraftState } from './use-draft.ts';

export type EditorDialog = 'run' | 'history' | 'settings' | 'params' | 'help' | 'schedule' | 'publish';

export function Toolbar(props: {
  id: string;
  /** The branch the editor works in; null on main. */
  branch: { project: string; name: string } | null;
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
  return (
    <header className="toolbar" aria-label="Editor toolbar">
      <Link to="/pipelines" aria-label="Back to pipelines">
        ←
      </Link>
      <h1 className="pipeline-name">
        {name} <span className="muted small">{props.id}</span>
      </h1>
      {props.branch && (
        <span
          className="branch-badge"
          role="note"
          aria-label={`In branch ${props.branch.name}`}
          title={`Branch ${props.branch.name} of ${props.branch.project}: edits save to the branch's copy, runs run it in the branch, main is untouched until the branch is merged`}
        >
          ⑂ {props.branch.name}
        </span>
      )}
      <SaveState dirty={dirty} draft={props.draft} version={version} branch={props.branch?.name ?? null} />
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
      {props.branch ? (
        // In a branch there is no draft to discard or publish: merging the branch is what reaches main.
        <Link
          to={`/branches/${encodeURIComponent(props.branch.project)}/${encodeURIComponent(props.branch.name)}`}
          className="button secondary"
          aria-label="Review and merge the branch"
          title={`See what branch ${props.branch.name} changed (pipelines and the tables its runs wrote) and merge it into main`}
        >
          Review &amp; merge
        </Link>
      ) : (
        <>
          {props.draft !== 'published' && (
            <button
              type="button"
              className="link-button"
              onClick={props.onDiscard}
              aria-label="Discard draft"
            >
              Discard
            </button>
          )}
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
        </>
      )}
      <button
        type="button"
        className="primary"
        onClick={props.onRun}
        aria-label="Run"
        title={
          props.branch
            ? `Run the branch's copy in branch ${props.branch.name} (its sinks write to the branch's tables)`
            : 'Run what the editor shows (the draft, if any); no version is made'
        }
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

/** Where the edits stand: in the draft yet or not, and which version is published. */
function SaveState(props: {
  dirty: boolean;
  draft: DraftState;
  version: number | null;
  branch: string | null;
}) {
  const [text, label] = props.dirty
    ? ['● Editing…', 'Unsaved changes']
    : props.draft === 'saving'
      ? [props.branch ? 'Saving to the branch…' : 'Saving draft…', 'Saving draft']
      : props.draft === 'error'
        ? ['Draft not saved', 'Draft not saved']
        : props.branch
          ? // A save in a branch is a revision of the branch's copy; main keeps its version.
            props.draft === 'saved'
            ? [`Saved in ${props.branch} · main untouched`, `Saved in branch ${props.branch}`]
            : [`Branch ${props.branch} · main untouched`, `In branch ${props.branch}`]
          : props.draft === 'saved'
            ? [`Draft saved · v${props.version} published`, 'Draft saved']
            : [`Published · v${props.version}`, `Published, version ${props.version}`];
  return (
    <span
      className={`save-state${props.dirty || props.draft === 'error' ? ' unsaved' : ''}`}
      role="status"
      aria-label={label}
    >
      {text}
    </span>
  );
}
