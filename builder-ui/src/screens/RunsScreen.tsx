// Runs across pipelines, newest first, filtered by status, pipeline and trigger: each with its
// pipeline's name, what failed and the start of the error; refreshed while any run is running.
import { useEffect, useId, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import { usePagedResource, useReloadOn, useResource } from '../api/use-resource.ts';
import { runDurationMs, runVersionLabel } from '../model/run-facts.ts';
import { Empty, ErrorBox, formatDuration, Link, Loading, StatusBadge, timeAgo } from '../components/ui.tsx';
import { useLocation } from '../router.ts';
import { toast } from '../store/toasts.ts';

const STATUSES = [
  'running',
  'succeeded',
  'succeeded_with_warnings',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
];
const TRIGGERS = ['manual', 'api', 'schedule', 'webhook'];

export function RunsScreen() {
  const { query } = useLocation();
  const [status, setStatus] = useState('');
  const [pipeline, setPipeline] = useState(query.get('pipeline') ?? '');
  const [trigger, setTrigger] = useState('');
  const pipelines = useResource(() => Api.pipelines({}).then((r) => r.items), []).data ?? [];
  const ids = { status: useId(), pipeline: useId(), trigger: useId() };

  // The API filters running/closed; finer statuses and the trigger are filtered here. A change of
  // filter reads the list again while the runs shown stay.
  const {
    items: runs,
    error,
    reload: load,
    hasMore,
    loadingMore,
    more,
    fail,
  } = usePagedResource(
    (after?: string) =>
      Api.runs({
        pipeline: pipeline || undefined,
        status: status ? (status === 'running' ? 'running' : 'closed') : undefined,
        cursor: after,
        limit: 50,
      }),
    [],
  );
  useReloadOn(load, [pipeline, status]);

  const [rerunning, setRerunning] = useState<string | null>(null);
  /** A run just started here, which the list (Temporal's visibility) may not show for a moment. */
  const [awaiting, setAwaiting] = useState<string | null>(null);
  // Live refresh: poll while any run shown is running, or a run started here is not listed yet.
  const anyRunning = runs?.some((r) => r.status === 'running');
  const waiting = !!awaiting && !runs?.some((r) => r.runId === awaiting);
  useEffect(() => {
    if (!anyRunning && !waiting) return;
    const timer = window.setInterval(load, waiting ? 1000 : 3000);
    return () => window.clearInterval(timer);
  }, [anyRunning, waiting, load]);

  const rerun = async (runId: string) => {
    setRerunning(runId);
    try {
      const started = await Api.rerun(runId);
      toast('success', `Re-running ${runId} from its failed steps: run ${started.runId}`);
      setAwaiting(started.runId);
      load();
    } catch (e) {
      fail(messageOf(e));
    } finally {
      setRerunning(null);
    }
  };

  const shown = (runs ?? []).filter(
    (r) => (!status || r.status === status) && (!trigger || r.trigger.type === trigger),
  );

  return (
    <main className="screen" aria-labelledby="runs-title">
      <header className="screen-header">
        <h1 id="runs-title">Runs</h1>
        <span className="spacer" />
        <button type="button" onClick={load}>
          Refresh
        </button>
      </header>
      <div className="filters">
        <div className="field">
          <label htmlFor={ids.status}>Status</label>
          <select id={ids.status} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.pipeline}>Pipeline</label>
          <select id={ids.pipeline} value={pipeline} onChange={(e) => setPipeline(e.target.value)}>
            <option value="">All pipelines</option>
            {pipelines.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.id})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.trigger}>Trigger</label>
          <select id={ids.trigger} value={trigger} onChange={(e) => setTrigger(e.target.value)}>
            <option value="">Any trigger</option>
            {TRIGGERS.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
      </div>
      {error && <ErrorBox error={error} onRetry={load} />}
      {!runs && !error && <Loading what="runs" />}
      {runs && shown.length === 0 && (
        <Empty title="No runs match">
          <p>Runs appear here when a pipeline is run from the editor, the API, a schedule or a webhook.</p>
        </Empty>
      )}
      {shown.length > 0 && (
        <table className="list-table runs-table" aria-label="Runs">
          <thead>
            <tr>
              <th>Pipeline</th>
              <th>Status</th>
              <th>Trigger</th>
              <th>What failed</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Run</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.runId} aria-label={`Run ${r.runId}`}>
                <td>
                  <Link to={`/pipelines/${encodeURIComponent(r.pipelineId)}`}>
                    {r.pipelineName ?? r.pipelineId}
                  </Link>
                  <div className="muted small">
                    {r.pipelineId} · {runVersionLabel(r)}
                  </div>
                </td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  {r.trigger.type}
                  <div className="muted small">{r.trigger.actor}</div>
                </td>
                <td className="run-failure">
                  {r.failedSteps.length > 0 && (
                    <div>
                      <span className="muted small">{r.failedSteps.length === 1 ? 'Step ' : 'Steps '}</span>
                      {r.failedSteps.map((id, i) => (
                        <span key={id}>
                          {i > 0 && ', '}
                          <code aria-label={`Failed step ${id}`}>{id}</code>
                        </span>
                      ))}
                    </div>
                  )}
                  {r.errorExcerpt && (
                    <div
                      className="error-excerpt small"
                      title={r.errorExcerpt}
                      aria-label={`Error of run ${r.runId}`}
                    >
                      {r.errorExcerpt}
                    </div>
                  )}
                </td>
                <td title={r.startedAt}>{timeAgo(r.startedAt)}</td>
                <td>{formatDuration(runDurationMs(r))}</td>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.runId)}`} aria-label={r.runId} className="small">
                    {shortRunId(r.runId, r.pipelineId)}
                  </Link>
                  {r.rerunOf && (
                    <div className="muted small" title={r.rerunOf}>
                      re-run of {shortRunId(r.rerunOf, r.pipelineId)}
                    </div>
                  )}
                </td>
                <td>
                  {r.status === 'failed' && (
                    <button
                      type="button"
                      disabled={rerunning === r.runId}
                      onClick={() => void rerun(r.runId)}
                      aria-label={`Re-run ${r.runId} from its failed steps`}
                      title="Runs the failed steps and everything after them again; the steps that succeeded are reused"
                    >
                      {rerunning === r.runId ? 'Starting…' : 'Re-run'}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hasMore && (
        <button type="button" disabled={loadingMore} onClick={more}>
          {loadingMore ? 'Loading…' : 'Load more runs'}
        </button>
      )}
    </main>
  );
}

/** The part of a run id after `run-<pipeline>-`, which is what tells runs of one pipeline apart. */
function shortRunId(runId: string, pipelineId: string): string {
  const prefix = `run-${pipelineId}-`;
  const rest = runId.startsWith(prefix) ? runId.slice(prefix.length) : runId;
  return rest.length > 14 ? `${rest.slice(0, 13)}…` : rest;
}
