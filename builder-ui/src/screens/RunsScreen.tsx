// Runs across pipelines, newest first, filtered by status, pipeline and trigger.
import { useCallback, useEffect, useId, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import { Empty, ErrorBox, formatDuration, Link, Loading, StatusBadge, timeAgo } from '../components/ui.tsx';
import { useLocation } from '../router.ts';
import type { PipelineSummary, RunSummary } from '../api/types.ts';

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
  const [pipelines, setPipelines] = useState<PipelineSummary[]>([]);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const ids = { status: useId(), pipeline: useId(), trigger: useId() };

  useEffect(() => {
    Api.pipelines({})
      .then((r) => setPipelines(r.items))
      .catch(() => undefined);
  }, []);

  // The API filters running/closed; finer statuses and the trigger are filtered here.
  const fetchPage = useCallback(
    (after?: string) =>
      Api.runs({
        pipeline: pipeline || undefined,
        status: status ? (status === 'running' ? 'running' : 'closed') : undefined,
        cursor: after,
        limit: 50,
      }),
    [pipeline, status],
  );

  const load = useCallback(() => {
    setError(null);
    fetchPage()
      .then((page) => {
        setRuns(page.items);
        setCursor(page.nextCursor);
      })
      .catch((e: unknown) => setError(messageOf(e)));
  }, [fetchPage]);

  useEffect(load, [load]);

  const anyRunning = runs?.some((r) => r.status === 'running');
  useEffect(() => {
    if (!anyRunning) return;
    const timer = window.setInterval(load, 3000);
    return () => window.clearInterval(timer);
  }, [anyRunning, load]);

  const more = async () => {
    if (!cursor) return;
    setLoadingMore(true);
    try {
      const page = await fetchPage(cursor);
      setRuns((prev) => [...(prev ?? []), ...page.items]);
      setCursor(page.nextCursor);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setLoadingMore(false);
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
        <table className="list-table" aria-label="Runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Pipeline</th>
              <th>Version</th>
              <th>Status</th>
              <th>Trigger</th>
              <th>Started</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.runId}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</Link>
                </td>
                <td>
                  <Link to={`/pipelines/${encodeURIComponent(r.pipelineId)}`}>{r.pipelineId}</Link>
                </td>
                <td>v{r.pipelineVersion}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>
                  {r.trigger.type}
                  <div className="muted small">{r.trigger.actor}</div>
                </td>
                <td title={r.startedAt}>{timeAgo(r.startedAt)}</td>
                <td>
                  {formatDuration(r.durationMs ?? (r.endedAt ? null : Date.now() - Date.parse(r.startedAt)))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" disabled={loadingMore} onClick={() => void more()}>
          {loadingMore ? 'Loading…' : 'Load more runs'}
        </button>
      )}
    </main>
  );
}
