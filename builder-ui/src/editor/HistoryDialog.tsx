// Version history: every saved version, a side-by-side diff of any two, and rollback (which saves
// the chosen version again as the newest one).
import { useEffect, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import { Dialog, ErrorBox, Loading, timeAgo } from '../components/ui.tsx';
import { lineDiff, readableDocument } from '../model/diff.ts';
import type { PipelineDocument } from '../model/types.ts';
import type { PipelineDiff, VersionInfo, Workspace } from '../api/types.ts';

export function HistoryDialog(props: {
  pipelineId: string;
  /** In a branch the history is the branch's one copy. */
  workspace: Workspace;
  currentVersion: number | null;
  dirty: boolean;
  onClose: () => void;
  onRolledBack: (doc: PipelineDocument, version: number) => void;
  /** The editor holds an unpublished draft, which a restore discards. */
  drafted?: boolean;
}) {
  const [versions, setVersions] = useState<VersionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  /** The version whose restore waits for a yes: a restore replaces what the editor holds. */
  const [confirming, setConfirming] = useState<number | null>(null);

  useEffect(() => {
    Api.versions(props.workspace, props.pipelineId)
      .then((v) => {
        setVersions(v.items);
        setTo(v.current);
        setFrom(v.items.find((i) => i.version < v.current)?.version ?? v.current);
      })
      .catch((e: unknown) => setError(messageOf(e)));
  }, [props.pipelineId, props.workspace]);

  const ask = (version: number) => {
    setConfirming(version);
    // Show what the restore would change: the current version against the one to restore.
    if (props.currentVersion !== null) {
      setFrom(props.currentVersion);
      setTo(version);
    }
  };

  const rollback = async (version: number) => {
    setBusy(true);
    try {
      const saved = await Api.rollback(props.pipelineId, version, props.currentVersion);
      props.onRolledBack(saved.document, saved.version);
    } catch (e) {
      setError(messageOf(e));
      setBusy(false);
    }
  };

  return (
    <Dialog title="Version history" onClose={props.onClose} wide>
      {error && <ErrorBox error={error} />}
      {!versions && !error && <Loading what="versions" />}
      {versions && (
        <div className="history">
          <table className="versions-table" aria-label="Versions">
            <thead>
              <tr>
                <th>Version</th>
                <th>What changed</th>
                <th>Saved</th>
                <th>By</th>
                <th>Compare</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version} className={v.version === props.currentVersion ? 'current' : ''}>
                  <td>
                    v{v.version}
                    {v.version === props.currentVersion ? ' (current)' : ''}
                  </td>
                  <td className="version-message">{v.message ?? <span className="muted">—</span>}</td>
                  <td title={v.createdAt}>{timeAgo(v.createdAt)}</td>
                  <td>{v.createdBy}</td>
                  <td>
                    <label>
                      <input
                        type="radio"
                        name="diff-from"
                        aria-label={`Compare from version ${v.version}`}
                        checked={from === v.version}
                        onChange={() => setFrom(v.version)}
                      />{' '}
                      from
                    </label>{' '}
                    <label>
                      <input
                        type="radio"
                        name="diff-to"
                        aria-label={`Compare to version ${v.version}`}
                        checked={to === v.version}
                        onChange={() => setTo(v.version)}
                      />{' '}
                      to
                    </label>
                  </td>
                  <td>
                    {v.version !== props.currentVersion && (
                      <button
                        type="button"
                        disabled={busy}
                        onClick={() => ask(v.version)}
                        aria-label={`Restore version ${v.version}`}
                      >
                        Restore
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {confirming !== null && (
            <div className="confirm-box" role="alertdialog" aria-label={`Restore version ${confirming}?`}>
              <p>
                <strong>Restore version {confirming}?</strong> Its content is saved as a new version
                {props.currentVersion !== null ? ` after v${props.currentVersion}` : ''}, which stays in the
                history.
                {props.dirty || props.drafted ? ' Your unpublished draft is discarded.' : ''} The changes it
                makes are shown below.
              </p>
              <div className="button-row">
                <button type="button" onClick={() => setConfirming(null)}>
                  Cancel
                </button>
                <button
                  type="button"
                  className="danger"
                  disabled={busy}
                  onClick={() => void rollback(confirming)}
                >
                  Yes, restore v{confirming}
                </button>
              </div>
            </div>
          )}
          {from !== null && to !== null && <DiffView pipelineId={props.pipelineId} from={from} to={to} />}
        </div>
      )}
    </Dialog>
  );
}

function DiffView(props: { pipelineId: string; from: number; to: number }) {
  const [docs, setDocs] = useState<[string, string] | null>(null);
  const [summary, setSummary] = useState<PipelineDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setDocs(null);
    Promise.all([
      Api.version(props.pipelineId, props.from),
      Api.version(props.pipelineId, props.to),
      Api.diff(props.pipelineId, props.from, props.to).catch(() => null),
    ])
      .then(([a, b, d]) => {
        if (!live) return;
        setDocs([readableDocument(a.document), readableDocument(b.document)]);
        setSummary(d);
      })
      .catch((e: unknown) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, [props.pipelineId, props.from, props.to]);
  if (error) return <ErrorBox error={error} />;
  if (!docs) return <Loading what="the diff" />;
  const rows = lineDiff(docs[0], docs[1]);
  return (
    <section className="diff" aria-label={`Changes from version ${props.from} to version ${props.to}`}>
      {summary && <DiffSummary diff={summary} />}
      <div className="diff-grid" role="table" aria-label="Side-by-side diff">
        <div className="diff-head" role="row">
          <span role="columnheader">v{props.from}</span>
          <span role="columnheader">v{props.to}</span>
        </div>
        {rows.map((row, i) => (
          <div key={i} className={`diff-row diff-${row.kind}`} role="row">
            <pre role="cell">{row.left ?? ''}</pre>
            <pre role="cell">{row.right ?? ''}</pre>
          </div>
        ))}
      </div>
    </section>
  );
}

function DiffSummary({ diff }: { diff: PipelineDiff }) {
  const items = [
    ...diff.nodes.added.map((n) => `Added node ${n.id} (${n.type})`),
    ...diff.nodes.removed.map((n) => `Removed node ${n.id} (${n.type})`),
    ...diff.nodes.changed.map((n) => `Changed node ${n.id}: ${n.changes.map((c) => c.path).join(', ')}`),
    ...diff.edges.added.map((e) => `Added edge ${e}`),
    ...diff.edges.removed.map((e) => `Removed edge ${e}`),
    ...[...diff.params, ...diff.settings, ...diff.metadata].map((c) => `${c.kind} ${c.path}`),
  ];
  return items.length ? (
    <ul className="diff-summary" aria-label="Summary of changes">
      {items.map((t, i) => (
        <li key={i}>{t}</li>
      ))}
    </ul>
  ) : (
    <p className="muted">These versions are the same.</p>
  );
}
