// One run: status, version, params, who started it, a Gantt-like timeline of its steps, the step
// table with errors and data previews; live while it runs.
import { useEffect, useState } from 'react';
import { Api, followRun, messageOf } from '../api/client.ts';
import {
  Empty,
  ErrorBox,
  formatDuration,
  Link,
  Loading,
  StatusBadge,
  temporalRunUrl,
} from '../components/ui.tsx';
import { useReloadOn, useResource } from '../api/use-resource.ts';
import { StepsTable } from '../editor/RunPanel.tsx';
import { catalogKind, useCatalog } from '../store/catalog.ts';
import { runDurationMs, runVersionLabel } from '../model/run-facts.ts';
import { navigate } from '../router.ts';
import { type NodeKind } from '../model/types.ts';
import {
  isFinished,
  type RunAuditEvent,
  type RunDelivery,
  type RunDetail,
  type StepProgress,
} from '../api/types.ts';

export function RunDetailScreen({ runId }: { runId: string }) {
  const loaded = useResource(() => Api.run(runId), [runId]);
  // What the run's event stream told since the run was read; read again (the stream ended), the
  // run shows the new reading.
  const [progress, setProgress] = useState<{ of: RunDetail; run: RunDetail } | null>(null);
  const run = loaded.data && progress?.of === loaded.data ? progress.run : loaded.data;
  // Errors of the stream, a cancel or a re-run, told beside the run.
  const [actionError, setActionError] = useState<string | null>(null);
  const error = loaded.error ?? actionError;
  const temporalUi = useResource(() => Api.health(), []).data?.temporalUi;
  // The version's document and the node catalogue say which steps are sinks (no output to preview).
  const pipelineId = run?.pipelineId;
  const pipelineVersion = run?.pipelineVersion;
  const kinds =
    useResource(
      () =>
        pipelineId === undefined
          ? Promise.resolve({})
          : Promise.all([
              Api.version(pipelineId, Number(pipelineVersion)),
              useCatalog.getState().load(),
            ]).then(
              ([v]) =>
                Object.fromEntries(v.document.nodes.map((n) => [n.id, catalogKind(n.type)])) as Record<
                  string,
                  NodeKind
                >,
            ),
      [pipelineId, pipelineVersion],
    ).data ?? {};
  const [, tick] = useState(0);
  const [rerunning, setRerunning] = useState(false);

  // A run that was running when read is followed live until its stream ends; then it is read again.
  const first = loaded.data?.runId === runId ? loaded.data : null;
  const follow = first !== null && !isFinished(first.status);
  const { reload } = loaded;
  useEffect(() => {
    if (!follow || !first) return;
    let live = true;
    const stop = followRun(
      runId,
      (next) => live && setProgress({ of: first, run: next }),
      reload,
      (message) => live && setActionError(message),
    );
    return () => {
      live = false;
      stop();
    };
    // Followed once per run read as running: the reading after the stream ends does not follow again.
  }, [runId, follow]);

  useEffect(() => {
    if (!run || isFinished(run.status)) return;
    const timer = window.setInterval(() => tick((n) => n + 1), 1000);
    return () => window.clearInterval(timer);
  }, [run]);

  if (error && !run)
    return (
      <main className="screen">
        <ErrorBox error={error} />
      </main>
    );
  if (!run)
    return (
      <main className="screen">
        <Loading what="the run" />
      </main>
    );

  const cancel = async () => {
    try {
      await Api.cancelRun(runId);
    } catch (e) {
      setActionError(messageOf(e));
    }
  };
  // Re-run: the same version (or the draft, as it is now) with the same params; "Re-run failed"
  // runs only what failed and what follows it, reusing the rest. A branch's runs re-run from its editor.
  const rerun = async (failedOnly: boolean) => {
    setRerunning(true);
    try {
      const started = failedOnly
        ? await Api.rerun(run.runId, 'failed', run.draft)
        : await Api.startRun(
            // A branch's run runs the branch's copy again (a branch has one copy, no versions).
            { branch: run.branch ?? null, runDraft: true },
            run.pipelineId,
            (run.params ?? {}) as Record<string, unknown>,
            run.branch ? {} : run.draft ? { draft: true } : { version: run.pipelineVersion },
          );
      navigate(`/runs/${encodeURIComponent(started.runId)}`);
    } catch (e) {
      setActionError(`Could not re-run: ${messageOf(e)}`);
    } finally {
      setRerunning(false);
    }
  };
  const params = Object.entries(run.params ?? {});
  return (
    <main className="screen" aria-labelledby="run-title">
      <header className="screen-header">
        <h1 id="run-title">
          Run <code>{run.runId}</code>
        </h1>
        <StatusBadge status={run.status} label={`Run status: ${run.status.replace(/_/g, ' ')}`} />
        <span className="spacer" />
        {!isFinished(run.status) && (
          <button type="button" className="danger" onClick={() => void cancel()}>
            Cancel run
          </button>
        )}
        {isFinished(run.status) && !run.branch && run.status === 'failed' && (
          <button type="button" className="primary" disabled={rerunning} onClick={() => void rerun(true)}>
            ↻ Re-run failed
          </button>
        )}
        {isFinished(run.status) && !run.branch && (
          <button
            type="button"
            disabled={rerunning}
            onClick={() => void rerun(false)}
            title={
              run.draft
                ? 'A new run of the draft as it is now, with the same params'
                : `A new run of v${run.pipelineVersion} with the same params`
            }
          >
            ↻ Re-run
          </button>
        )}
        <Link
          to={`/pipelines/${encodeURIComponent(run.pipelineId)}?run=${encodeURIComponent(run.runId)}`}
          className="button"
        >
          Open in editor
        </Link>
        <a className="button" href={temporalRunUrl(run.runId, temporalUi)} target="_blank" rel="noreferrer">
          Open in Temporal
        </a>
      </header>
      {error && <ErrorBox error={error} />}
      <dl className="facts" aria-label="Run facts">
        <div>
          <dt>Pipeline</dt>
          <dd>
            <Link to={`/pipelines/${encodeURIComponent(run.pipelineId)}`}>{run.pipelineId}</Link> (project{' '}
            {run.project})
          </dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{runVersionLabel(run)}</dd>
        </div>
        <div>
          <dt>Trigger</dt>
          <dd>{run.trigger.type}</dd>
        </div>
        <div>
          <dt>Started by</dt>
          <dd>{run.trigger.actor}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{new Date(run.startedAt).toLocaleString()}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(runDurationMs(run))}</dd>
        </div>
      </dl>
      <section aria-label="Params">
        <h2>Params</h2>
        {params.length === 0 ? (
          <p className="muted">No params.</p>
        ) : (
          <table className="list-table compact" aria-label="Run params">
            <tbody>
              {params.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>
                    <code>{JSON.stringify(v)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section aria-label="Timeline">
        <h2>Timeline</h2>
        <Gantt run={run} />
      </section>
      <section aria-label="Step details">
        <h2>Steps</h2>
        <StepsTable runId={run.runId} steps={run.steps ?? {}} order={[]} kinds={kinds} />
      </section>
      <section aria-label="Audit trail">
        <h2>Audit trail</h2>
        <AuditTrail runId={run.runId} status={run.status} />
      </section>
      <section aria-label="Notifications">
        <h2>Notifications</h2>
        <Deliveries runId={run.runId} status={run.status} />
      </section>
    </main>
  );
}

/** Who was told about the run, through which channel, and how each delivery went. */
function Deliveries({ runId, status }: { runId: string; status: string }) {
  const {
    data: items,
    error,
    reload,
  } = useResource<RunDelivery[]>(() => Api.runNotifications(runId).then((r) => r.items), [runId]);
  // Deliveries go on after the run has ended (retries with back-off): look again for a while, and
  // at once when the run's status changes.
  useReloadOn(reload, [status]);
  useEffect(() => {
    const timer = window.setInterval(reload, 3_000);
    return () => window.clearInterval(timer);
  }, [reload]);

  if (error) return <ErrorBox error={error} onRetry={reload} />;
  if (!items) return <Loading what="the notifications" />;
  if (items.length === 0) return <Empty title="No notifications for this run" />;
  return (
    <table className="list-table" aria-label="Notification deliveries">
      <thead>
        <tr>
          <th>Event</th>
          <th>Channel</th>
          <th>Status</th>
          <th>Tries</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {items.map((d) => (
          <tr key={d.id}>
            <td>
              <code>{d.event}</code>
            </td>
            <td>
              {d.channel.type}
              <div className="muted small">{d.channel.target}</div>
            </td>
            <td>
              <span className={`badge delivery-${d.status}`}>{d.status}</span>
            </td>
            <td>
              {d.attempts} of {d.maxAttempts}
            </td>
            <td>
              {d.title}
              {d.lastError && <div className="muted small">{d.lastError}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The run's audit events; read again when the status changes, since a running run keeps adding events. */
function AuditTrail({ runId, status }: { runId: string; status: string }) {
  const {
    data: events,
    error,
    reload,
  } = useResource<RunAuditEvent[]>(() => Api.runAudit(runId).then((trail) => trail.events), [runId]);
  // The events shown stay while the trail is read again after a change of status.
  useReloadOn(reload, [status]);

  if (error) return <ErrorBox error={error} onRetry={reload} />;
  if (!events) return <Loading what="the audit trail" />;
  if (events.length === 0) return <Empty title="No audit events yet" />;
  return (
    <table className="list-table" aria-label="Run audit trail">
      <thead>
        <tr>
          <th>Time</th>
          <th>What</th>
          <th>Who</th>
          <th>Attempt</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {events.map((e) => (
          <tr key={e.eventId}>
            <td title={e.at}>{new Date(e.at).toLocaleString()}</td>
            <td>
              <code>{e.type}</code>
              {e.nodeId && <div className="muted small">{e.nodeId}</div>}
            </td>
            <td>{e.actor ?? <span className="muted">platform</span>}</td>
            <td>{e.attempt ?? '—'}</td>
            <td>{e.message}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Gantt({ run }: { run: RunDetail }) {
  const steps = Object.entries(run.steps ?? {}) as [string, StepProgress][];
  if (steps.length === 0) return <p className="muted">No steps have started yet.</p>;
  const start = Date.parse(run.startedAt);
  const now = Date.now();
  const end = Math.max(
    run.endedAt ? Date.parse(run.endedAt) : now,
    ...steps.map(([, s]) => (s.endedAt ? Date.parse(s.endedAt) : s.startedAt ? now : start)),
  );
  const total = Math.max(1, end - start);
  const sorted = [...steps].sort(
    ([, a], [, b]) =>
      (a.startedAt ? Date.parse(a.startedAt) : Infinity) - (b.startedAt ? Date.parse(b.startedAt) : Infinity),
  );
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <div className="gantt" role="list" aria-label="Step timeline">
      <div className="gantt-axis" aria-hidden="true">
        {ticks.map((t) => (
          <span key={t} style={{ left: `${t * 100}%` }}>
            {formatDuration(t * total)}
          </span>
        ))}
      </div>
      {sorted.map(([id, s]) => {
        const from = s.startedAt ? Date.parse(s.startedAt) - start : 0;
        const to = s.endedAt ? Date.parse(s.endedAt) - start : s.startedAt ? now - start : 0;
        const duration = s.startedAt ? to - from : null;
        return (
          <div
            className="gantt-row"
            role="listitem"
            key={id}
            aria-label={`${id}: ${s.status}, ${formatDuration(duration)}`}
          >
            <span className="gantt-label">{id}</span>
            <div className="gantt-track">
              {s.startedAt ? (
                <div
                  className={`gantt-bar status-${s.status}`}
                  style={{
                    left: `${(from / total) * 100}%`,
                    width: `${Math.max(0.5, ((to - from) / total) * 100)}%`,
                  }}
                  title={`${id}: ${s.status}, ${formatDuration(duration)}`}
                />
              ) : (
                <span className="muted small gantt-none">{s.status}</span>
              )}
            </div>
            <span className="gantt-duration">{formatDuration(duration)}</span>
          </div>
        );
      })}
    </div>
  );
}
