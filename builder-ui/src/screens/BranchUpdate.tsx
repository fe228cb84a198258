// Bringing a branch up to date with main: pipelines the branch did not change take main's latest
// version at once; each pipeline changed on both sides is shown with both versions and the user
// keeps the branch's or takes main's, then the whole update is applied in one go (or not at all).
import { useState } from 'react';
import { Api, ApiError, messageOf } from '../api/client.ts';
import type { UpdateChoices, UpdatePreview } from '../api/types.ts';
import { lineDiff, readableDocument, type DiffRow } from '../model/diff.ts';
import { toast } from '../store/toasts.ts';

type Conflict = UpdatePreview['conflicts'][number];

/**
 * One side of the two versions: the lines that differ (marked) with two lines around them, the
 * rest folded, so a long pipeline shows what the choice is about.
 */
function Side(props: { rows: DiffRow[]; side: 'left' | 'right'; label: string }) {
  const near = (i: number) => props.rows.slice(Math.max(0, i - 2), i + 3).some((r) => r.kind !== 'same');
  const lines: { text: string; changed: boolean }[] = [];
  props.rows.forEach((row, i) => {
    const text = row[props.side];
    if (!near(i)) {
      if (lines.at(-1)?.text !== '⋯') lines.push({ text: '⋯', changed: false });
    } else if (text !== null) lines.push({ text, changed: row.kind !== 'same' });
  });
  return (
    <pre aria-label={props.label}>
      {lines.map((l, i) =>
        l.changed ? <mark key={i}>{`${l.text}\n`}</mark> : <span key={i}>{`${l.text}\n`}</span>,
      )}
    </pre>
  );
}

const changeText: Record<string, string> = {
  updated: "took main's latest version",
  added: 'made on main, now in the branch',
  removed: 'deleted on main, gone from the branch',
  'took-main': "took main's version (the branch's change is dropped)",
  'kept-branch': "kept the branch's version, now over main's latest",
};

/** main's version (left) against the branch's (right), line by line. */
const rowsOf = (c: Conflict) =>
  lineDiff(c.main ? readableDocument(c.main) : '(deleted on main)', readableDocument(c.branch));

export function BranchUpdate(props: { project: string; name: string; onUpdated: () => void }) {
  const { project, name } = props;
  const [busy, setBusy] = useState(false);
  const [conflicts, setConflicts] = useState<Conflict[] | null>(null);
  const [choices, setChoices] = useState<Record<string, 'branch' | 'main'>>({});
  const [applied, setApplied] = useState<string[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const apply = async (chosen: UpdateChoices) => {
    const result = await Api.updateBranch(project, name, chosen);
    setConflicts(null);
    setChoices({});
    setApplied(result.applied.map((a) => `${a.pipelineId}: ${changeText[a.change] ?? a.change}`));
    toast('success', `Branch ${name} is up to date with main (${result.applied.length} pipeline(s))`);
    props.onUpdated();
  };

  const start = async () => {
    setBusy(true);
    setError(null);
    setApplied(null);
    try {
      const preview = await Api.branchUpdate(project, name);
      if (preview.upToDate) toast('info', `Branch ${name} is already up to date with main`);
      else if (preview.conflicts.length === 0) await apply({});
      else setConflicts(preview.conflicts);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const confirm = async () => {
    if (!conflicts) return;
    setBusy(true);
    setError(null);
    try {
      await apply(
        Object.fromEntries(
          conflicts.map((c) => [c.pipelineId, { take: choices[c.pipelineId]!, mainVersion: c.mainVersion }]),
        ),
      );
    } catch (e) {
      // main moved on while choosing: show the conflicts as they are now.
      if (e instanceof ApiError && e.status === 409) {
        setError(`${messageOf(e)} — the choices below are as main is now`);
        setConflicts((await Api.branchUpdate(project, name)).conflicts);
      } else setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const allChosen = !!conflicts && conflicts.every((c) => choices[c.pipelineId]);
  return (
    <section aria-label="Update from main" className="branch-update">
      <h2>Update from main</h2>
      <p className="muted">
        Pipelines the branch did not change take main&apos;s latest version, and pipelines made on main since
        the branch arrive. A pipeline changed on both sides is yours to choose.
      </p>
      {error && (
        <div role="alert" className="state state-error">
          {error}
        </div>
      )}
      {!conflicts && (
        <button type="button" disabled={busy} onClick={() => void start()}>
          Update from main
        </button>
      )}
      {conflicts && (
        <form
          aria-label="Choose versions"
          onSubmit={(e) => {
            e.preventDefault();
            void confirm();
          }}
        >
          <p>Changed on both sides: choose which version each pipeline keeps in the branch.</p>
          {conflicts.map((c) => (
            <fieldset key={c.pipelineId} aria-label={`Conflict ${c.pipelineId}`} className="branch-conflict">
              <legend>
                {c.pipelineId}:{' '}
                {c.mainVersion === null ? 'deleted on main' : `main is at version ${c.mainVersion}`}
                {c.baseVersion === null
                  ? ', made in the branch'
                  : `, the branch started from version ${c.baseVersion}`}
              </legend>
              <div className="branch-conflict-sides">
                <label>
                  <input
                    type="radio"
                    name={`take-${c.pipelineId}`}
                    value="branch"
                    disabled={c.mainVersion === null}
                    checked={choices[c.pipelineId] === 'branch'}
                    onChange={() => setChoices((all) => ({ ...all, [c.pipelineId]: 'branch' }))}
                  />{' '}
                  Keep the branch&apos;s version
                  <Side rows={rowsOf(c)} side="right" label={`Branch version of ${c.pipelineId}`} />
                </label>
                <label>
                  <input
                    type="radio"
                    name={`take-${c.pipelineId}`}
                    value="main"
                    checked={choices[c.pipelineId] === 'main'}
                    onChange={() => setChoices((all) => ({ ...all, [c.pipelineId]: 'main' }))}
                  />{' '}
                  {c.main ? `Take main's version ${c.mainVersion}` : 'Take main’s: drop it from the branch'}
                  <Side rows={rowsOf(c)} side="left" label={`Main version of ${c.pipelineId}`} />
                </label>
              </div>
            </fieldset>
          ))}
          <div className="branch-actions">
            <button type="submit" className="primary" disabled={busy || !allChosen}>
              Apply update
            </button>
            <button type="button" disabled={busy} onClick={() => setConflicts(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {applied && applied.length > 0 && (
        <ul aria-label="Updated from main" className="branch-merged">
          {applied.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
    </section>
  );
}
