// A pipeline's triggers: its schedule (shown in words, edited in the editor's schedule dialog) and its webhooks
// (created with the token shown once, deleted).
import { useId, useState } from 'react';
import { useResource } from '../../api/use-resource.ts';
import { Api, ApiError, messageOf } from '../../api/client.ts';
import { Empty, ErrorBox, Loading, timeAgo } from '../../components/ui.tsx';
import { toast } from '../../store/toasts.ts';
import type { CreatedWebhook } from '../../api/types.ts';
import { ScheduleDialog } from '../../editor/ScheduleDialog.tsx';
import { formatInZone } from '../../model/cron.ts';

export function PipelineTriggers(props: { initial: string }) {
  const { data: pipelines, error, reload } = useResource(() => Api.pipelines({}).then((r) => r.items), []);
  const [chosen, setPipeline] = useState(props.initial);
  // Without a pipeline asked for, the first one is shown.
  const pipeline = chosen || pipelines?.[0]?.id || '';
  const id = useId();
  return (
    <section className="card" aria-labelledby="triggers-title">
      <h2 id="triggers-title">Schedule and webhooks</h2>
      {error && <ErrorBox error={error} onRetry={reload} />}
      {!pipelines && !error && <Loading what="pipelines" />}
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
          {pipeline && <ScheduleSummary key={`s-${pipeline}`} pipelineId={pipeline} />}
          {pipeline && <Webhooks key={`w-${pipeline}`} pipelineId={pipeline} />}
        </>
      )}
    </section>
  );
}

/** The schedule in words, edited in the same dialog as from the editor. */
function ScheduleSummary({ pipelineId }: { pipelineId: string }) {
  const [editing, setEditing] = useState(false);
  // Wrapped: useResource's data is null while loading, and a pipeline without a schedule is null too.
  const { data, error, reload } = useResource(
    () =>
      Api.schedule(pipelineId).then(
        (schedule) => ({ schedule }),
        (e: unknown) => {
          if (e instanceof ApiError && e.status === 404) return { schedule: null };
          throw e;
        },
      ),
    [pipelineId],
  );
  const schedule = data?.schedule;
  return (
    <div className="subsection" aria-label="Schedule">
      <h3>Schedule</h3>
      {!data && !error && <Loading what="the schedule" />}
      {error && <ErrorBox error={error} />}
      {schedule === null && <p className="muted">Not scheduled.</p>}
      {schedule && (
        <p className="muted small">
          <code>{schedule.cron}</code> ({schedule.timezone}), runs version {schedule.pipelineVersion}
          {schedule.paused ? ' — paused' : ''}. Next:{' '}
          {schedule.nextRunTimes
            .slice(0, 3)
            .map((t) => formatInZone(new Date(t), schedule.timezone))
            .join(', ') || '—'}
        </p>
      )}
      <button type="button" onClick={() => setEditing(true)}>
        {schedule ? 'Edit schedule' : 'Schedule it'}
      </button>
      {editing && (
        <ScheduleDialog
          pipelineId={pipelineId}
          onClose={() => {
            setEditing(false);
            reload();
          }}
        />
      )}
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
