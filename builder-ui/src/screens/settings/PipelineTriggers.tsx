// A pipeline's triggers: its schedule (cron, time zone, params, paused) and its webhooks
// (created with the token shown once, deleted).
import { useCallback, useEffect, useId, useState } from 'react';
import { useResource } from '../../api/use-resource.ts';
import { Api, ApiError, messageOf } from '../../api/client.ts';
import { Empty, ErrorBox, Loading, timeAgo } from '../../components/ui.tsx';
import { toast } from '../../store/toasts.ts';
import type { CreatedWebhook, PipelineSummary, Schedule } from '../../api/types.ts';

export function PipelineTriggers(props: { initial: string }) {
  const [pipelines, setPipelines] = useState<PipelineSummary[] | null>(null);
  const [pipeline, setPipeline] = useState(props.initial);
  const id = useId();
  useEffect(() => {
    Api.pipelines({})
      .then((r) => {
        setPipelines(r.items);
        if (!props.initial && r.items[0]) setPipeline(r.items[0].id);
      })
      .catch(() => setPipelines([]));
  }, [props.initial]);
  return (
    <section className="card" aria-labelledby="triggers-title">
      <h2 id="triggers-title">Schedule and webhooks</h2>
      {!pipelines && <Loading what="pipelines" />}
      {pipelines && pipelines.length === 0 && <Empty title="No pipelines yet" />}
      {pipelines && pipelines.length > 0 && (
        <>
          <div className="field">
            <label htmlFor={id}>Pipeline</label>
            <select id={id} value={pipeline} onChange={(e) => setPipeline(e.target.value)}>
              {pipelines.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </div>
          {pipeline && <ScheduleForm key={`s-${pipeline}`} pipelineId={pipeline} />}
          {pipeline && <Webhooks key={`w-${pipeline}`} pipelineId={pipeline} />}
        </>
      )}
    </section>
  );
}

function ScheduleForm({ pipelineId }: { pipelineId: string }) {
  const [schedule, setSchedule] = useState<Schedule | null | undefined>(undefined);
  const [cron, setCron] = useState('0 6 * * *');
  const [timezone, setTimezone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [paused, setPaused] = useState(false);
  const [params, setParams] = useState('{}');
  const [error, setError] = useState<string | null>(null);
  const ids = { cron: useId(), tz: useId(), paused: useId(), params: useId() };
  const load = useCallback(() => {
    Api.schedule(pipelineId)
      .then((s) => {
        setSchedule(s);
        setCron(s.cron);
        setTimezone(s.timezone);
        setPaused(s.paused);
        setParams(JSON.stringify(s.params ?? {}, null, 2));
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) setSchedule(null);
        else setError(messageOf(e));
      });
  }, [pipelineId]);
  useEffect(load, [load]);
  const save = async () => {
    setError(null);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(params || '{}') as Record<string, unknown>;
    } catch (e) {
      setError(`Params are not valid JSON: ${(e as Error).message}`);
      return;
    }
    try {
      setSchedule(await Api.putSchedule(pipelineId, { cron, timezone, paused, params: parsed }));
      toast('success', 'Schedule saved');
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <div className="subsection" aria-label="Schedule">
      <h3>Schedule</h3>
      {schedule === undefined && !error && <Loading what="the schedule" />}
      {schedule === null && <p className="muted">Not scheduled.</p>}
      {schedule && (
        <p className="muted small">
          Runs version {schedule.pipelineVersion}
          {schedule.paused ? ' — paused' : ''}. Next:{' '}
          {schedule.nextRunTimes
            .slice(0, 3)
            .map((t) => new Date(t).toLocaleString())
            .join(', ') || '—'}
        </p>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="field">
          <label htmlFor={ids.cron}>Cron</label>
          <input id={ids.cron} value={cron} onChange={(e) => setCron(e.target.value)} />
          <p className="field-help">5 fields (“0 6 * * *”), or @daily, @hourly, @every 15m</p>
        </div>
        <div className="field">
          <label htmlFor={ids.tz}>Time zone</label>
          <input id={ids.tz} value={timezone} onChange={(e) => setTimezone(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.params}>Schedule params (JSON)</label>
          <textarea
            id={ids.params}
            rows={2}
            className="code"
            value={params}
            onChange={(e) => setParams(e.target.value)}
          />
        </div>
        <div className="field field-inline">
          <input
            id={ids.paused}
            type="checkbox"
            checked={paused}
            onChange={(e) => setPaused(e.target.checked)}
          />
          <label htmlFor={ids.paused}>Paused</label>
        </div>
        <button type="submit">{schedule ? 'Update schedule' : 'Create schedule'}</button>
        {schedule && (
          <button
            type="button"
            className="danger"
            onClick={() =>
              Api.deleteSchedule(pipelineId)
                .then(() => setSchedule(null))
                .catch((e: unknown) => setError(messageOf(e)))
            }
          >
            Remove schedule
          </button>
        )}
      </form>
      {error && <ErrorBox error={error} />}
    </div>
  );
}

function Webhooks({ pipelineId }: { pipelineId: string }) {
  const [actionError, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [name, setName] = useState('');
  const nameId = useId();
  const hooksResource = useResource(() => Api.webhooks(pipelineId).then((r) => r.items), [pipelineId]);
  const { data: hooks, reload: load } = hooksResource;
  const error = hooksResource.error ?? actionError;
  return (
    <div className="subsection" aria-label="Webhooks">
      <h3>Webhooks</h3>
      {error && <ErrorBox error={error} />}
      {hooks && hooks.length === 0 && <p className="muted">No webhooks.</p>}
      {hooks && hooks.length > 0 && (
        <table className="list-table compact" aria-label="Webhooks">
          <tbody>
            {hooks.map((h) => (
              <tr key={h.id}>
                <td>{h.name ?? h.id}</td>
                <td>
                  <code>{h.url}</code>
                </td>
                <td>last used {timeAgo(h.lastUsedAt)}</td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Delete webhook ${h.name ?? h.id}`}
                    onClick={() =>
                      Api.deleteWebhook(pipelineId, h.id)
                        .then(load)
                        .catch((e: unknown) => toast('error', messageOf(e)))
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {created && (
        <div className="banner" role="alert">
          <p>
            Webhook created. POST to <code>{created.url}</code> with{' '}
            <code>Authorization: Bearer {created.token}</code> — the token is shown only now.
          </p>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          Api.createWebhook(pipelineId, name.trim() || undefined)
            .then((h) => {
              setCreated(h);
              setName('');
              load();
            })
            .catch((err: unknown) => setError(messageOf(err)));
        }}
      >
        <div className="field">
          <label htmlFor={nameId}>Webhook name</label>
          <input id={nameId} value={name} onChange={(e) => setName(e.target.value)} placeholder="optional" />
        </div>
        <button type="submit">Create webhook</button>
      </form>
    </div>
  );
}
