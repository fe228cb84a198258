// A branch against main: the pipelines it changed (graph and SQL, and whether main moved on since),
// the tables it wrote with their row counts beside main's, bringing it up to date with main
// (BranchUpdate.tsx), and merging it (optionally rebuilding the merged pipelines on main) or deleting it.
import { useState } from 'react';
import { Api, ApiError, messageOf } from '../api/client.ts';
import type { BranchDiff, BranchMerge } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { ErrorBox, Link, Loading, formatNumber } from '../components/ui.tsx';
import { navigate } from '../router.ts';
import { useBranch } from '../store/branch.ts';
import { toast } from '../store/toasts.ts';
import { BranchUpdate } from './BranchUpdate.tsx';

type PipelineChange = BranchDiff['pipelines'][number];

function nodeLines(change: PipelineChange): string[] {
  const { nodes, edges } = change.diff;
  return [
    ...nodes.added.map((n) => `+ node ${n.id} (${n.type})`),
    ...nodes.removed.map((n) => `− node ${n.id} (${n.type})`),
    ...nodes.changed.map((n) => `~ node ${n.id}: ${n.changes.map((c) => c.path).join(', ')}`),
    ...edges.added.map((e) => `+ edge ${e}`),
    ...edges.removed.map((e) => `− edge ${e}`),
  ];
}

export function BranchScreen({ project, name }: { project: string; name: string }) {
  const diff = useResource(() => Api.branchDiff(project, name), [project, name]);
  const [rebuild, setRebuild] = useState(false);
  const [busy, setBusy] = useState(false);
  const [conflicts, setConflicts] = useState<string[] | null>(null);
  const [merged, setMerged] = useState<BranchMerge | null>(null);
  const current = useBranch((s) => s.current);
  const switchTo = useBranch((s) => s.switchTo);

  const merge = async () => {
    setBusy(true);
    setConflicts(null);
    try {
      const result = await Api.mergeBranch(project, name, rebuild);
      setMerged(result);
      toast('success', `Merged ${result.merged.length} pipeline(s) of ${name} into main`);
      diff.reload();
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) setConflicts(error.errors.map((e) => e.message));
      else toast('error', messageOf(error));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!confirm(`Delete branch ${name}? Its pipeline copies and the tables it wrote are dropped.`)) return;
    try {
      await Api.deleteBranch(project, name);
      if (current?.project === project && current.name === name) switchTo(null);
      toast('success', `Branch ${name} deleted`);
      navigate('/pipelines');
    } catch (error) {
      toast('error', messageOf(error));
    }
  };

  return (
    <main className="screen branch-screen">
      <header className="screen-header">
        <h1>
          Branch {name} <small>of {project}</small>
        </h1>
      </header>
      {diff.error && <ErrorBox error={diff.error} onRetry={diff.reload} />}
      {!diff.data && !diff.error && <Loading what="the branch's changes" />}
      {diff.data && (
        <>
          <section aria-label="Changed pipelines">
            <h2>Changed pipelines</h2>
            {diff.data.pipelines.length === 0 && <p>No pipeline differs from main.</p>}
            <ul className="branch-changes">
              {diff.data.pipelines.map((p) => (
                <li key={p.pipelineId} aria-label={`Pipeline ${p.pipelineId}`}>
                  <h3>
                    <Link to={`/pipelines/${p.pipelineId}`}>{p.pipelineId}</Link>{' '}
                    <span className={`badge ${p.conflict ? 'badge-error' : ''}`}>
                      {p.status === 'added' ? 'new in the branch' : `from main version ${p.baseVersion}`}
                      {p.conflict ? ` · main is at ${p.mainVersion ?? 'deleted'}: conflict` : ''}
                    </span>
                  </h3>
                  <ul className="branch-node-lines">
                    {nodeLines(p).map((line) => (
                      <li key={line}>{line}</li>
                    ))}
                  </ul>
                  {p.sql.map((s) => (
                    <div key={s.nodeId} className="branch-sql" aria-label={`SQL of ${s.nodeId}`}>
                      <h4>SQL of {s.nodeId}</h4>
                      <pre className="branch-sql-from">{s.from ?? '(none)'}</pre>
                      <pre className="branch-sql-to">{s.to ?? '(removed)'}</pre>
                    </div>
                  ))}
                </li>
              ))}
            </ul>
          </section>
          <section aria-label="Tables written">
            <h2>Tables written</h2>
            {diff.data.tables.length === 0 ? (
              <p>The branch has written no table yet.</p>
            ) : (
              <table aria-label="Tables the branch wrote">
                <thead>
                  <tr>
                    <th>Table</th>
                    <th>Rows in the branch</th>
                    <th>Rows on main</th>
                  </tr>
                </thead>
                <tbody>
                  {diff.data.tables.map((t) => (
                    <tr key={`${t.schema}.${t.table}`}>
                      <td>
                        <code>
                          {t.schema}.{t.table}
                        </code>{' '}
                        <small>({t.branchSchema})</small>
                      </td>
                      <td>{formatNumber(t.branchRows)}</td>
                      <td>{t.mainRows === null ? 'not on main' : formatNumber(t.mainRows)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <BranchUpdate
            project={project}
            name={name}
            onUpdated={() => {
              setConflicts(null);
              diff.reload();
            }}
          />
          <section aria-label="Merge" className="branch-merge">
            <h2>Merge into main</h2>
            {conflicts && (
              <div role="alert" className="state state-error">
                <p>
                  Not merged: main changed since the branch was made. Update from main (above) and choose
                  which version each keeps, then merge.
                </p>
                <ul aria-label="Conflicts">
                  {conflicts.map((c) => (
                    <li key={c}>{c}</li>
                  ))}
                </ul>
              </div>
            )}
            <label>
              <input type="checkbox" checked={rebuild} onChange={(e) => setRebuild(e.target.checked)} /> Run
              the merged pipelines on main
            </label>
            <div className="branch-actions">
              <button
                type="button"
                className="primary"
                disabled={busy || diff.data.pipelines.length === 0}
                onClick={() => void merge()}
              >
                Merge into main
              </button>
              <button type="button" className="danger" onClick={() => void remove()}>
                Delete branch
              </button>
            </div>
            {merged && (
              <ul aria-label="Merged" className="branch-merged">
                {merged.merged.map((m) => (
                  <li key={m.pipelineId}>
                    {m.pipelineId}: {m.created ? 'created on main' : `main version ${m.version}`}
                    {merged.runs
                      .filter((r) => r.pipelineId === m.pipelineId)
                      .map((r) =>
                        r.runId ? (
                          <span key={r.runId}>
                            {' '}
                            · <Link to={`/runs/${r.runId}`}>run on main</Link>
                          </span>
                        ) : (
                          <span key="error"> · not run: {r.error}</span>
                        ),
                      )}
                  </li>
                ))}
              </ul>
            )}
          </section>
        </>
      )}
    </main>
  );
}
