// Scheduling from the editor: a cron expression with its meaning in words and its next runs in the
// chosen time zone, worked out while typing; saved through the schedule API, which runs the
// pipeline's published version.
import { useEffect, useId, useMemo, useState } from 'react';
import { Api, ApiError, messageOf } from '../api/client.ts';
import type { Schedule } from '../api/types.ts';
import { Dialog, ErrorBox, Loading } from '../components/ui.tsx';
import { explainCron, formatInZone, timeZones } from '../model/cron.ts';
import { toast } from '../store/toasts.ts';

const PRESETS = [
  { label: 'Every hour', cron: '0 * * * *' },
  { label: 'Daily at 06:00', cron: '0 6 * * *' },
  { label: 'Weekdays at 07:30', cron: '30 7 * * 1-5' },
  { label: 'Mondays at 09:00', cron: '0 9 * * 1' },
];

export function ScheduleDialog(props: { pipelineId: string; onClose: () => void }) {
  const [schedule, setSchedule] = useState<Schedule | null | undefined>(undefined);
  const [cron, setCron] = useState('0 6 * * *');
  const [timezone, setTimezone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [paused, setPaused] = useState(false);
  const [params, setParams] = useState('{}');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { cron: useId(), tz: useId(), paused: useId(), meaning: useId(), params: useId() };
  const zones = useMemo(timeZones, []);
  const explained = useMemo(() => explainCron(cron, timezone), [cron, timezone]);

  useEffect(() => {
    Api.schedule(props.pipelineId)
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
  }, [props.pipelineId]);

  const save = async () => {
    setError(null);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(params.trim() || '{}') as Record<string, unknown>;
    } catch (e) {
      setError(`Schedule params are not valid JSON: ${(e as Error).message}`);
      return;
    }
    setBusy(true);
    try {
      const saved = await Api.putSchedule(props.pipelineId, {
        cron: cron.trim(),
        timezone,
        paused,
        params: parsed,
      });
      setSchedule(saved);
      toast('success', `Schedule saved: ${explained.meaning ?? saved.cron} (${saved.timezone})`);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await Api.deleteSchedule(props.pipelineId);
      setSchedule(null);
      toast('success', 'Schedule removed');
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Schedule"
      onClose={props.onClose}
      footer={
        <>
          {schedule && (
            <button type="button" className="danger" disabled={busy} onClick={() => void remove()}>
              Remove schedule
            </button>
          )}
          <span className="spacer" />
          <button type="button" onClick={props.onClose}>
            Close
          </button>
          <button
            type="button"
            className="primary"
            disabled={busy || !!explained.error}
            onClick={() => void save()}
          >
            {schedule ? 'Update schedule' : 'Create schedule'}
          </button>
        </>
      }
    >
      {schedule === undefined && !error && <Loading what="the schedule" />}
      {schedule === null && <p className="muted">This pipeline is not scheduled yet.</p>}
      {schedule && (
        <p className="muted small">
          Scheduled runs use the published version (now v{schedule.pipelineVersion})
          {schedule.paused ? '; the schedule is paused' : ''}.
        </p>
      )}
      <div className="button-row" role="group" aria-label="Presets">
        {PRESETS.map((p) => (
          <button key={p.cron} type="button" onClick={() => setCron(p.cron)}>
            {p.label}
          </button>
        ))}
      </div>
      <div className={`field${explained.error ? ' field-error' : ''}`}>
        <label htmlFor={ids.cron}>Cron</label>
        <input
          id={ids.cron}
          className="code"
          value={cron}
          aria-describedby={ids.meaning}
          onChange={(e) => setCron(e.target.value)}
        />
        <p className="field-help">minute hour day-of-month month weekday, or @daily, @hourly, @every 15m</p>
        <p id={ids.meaning} className={explained.error ? 'field-message' : 'cron-meaning'} aria-live="polite">
          {explained.error ?? explained.meaning}
        </p>
      </div>
      <div className="field">
        <label htmlFor={ids.tz}>Time zone</label>
        <select id={ids.tz} value={timezone} onChange={(e) => setTimezone(e.target.value)}>
          {!zones.includes(timezone) && <option value={timezone}>{timezone}</option>}
          {zones.map((z) => (
            <option key={z} value={z}>
              {z}
            </option>
          ))}
        </select>
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
      {explained.next.length > 0 && (
        <section aria-label="Next runs">
          <h3 className="small">Next runs ({timezone})</h3>
          <ol className="next-runs">
            {explained.next.map((d) => (
              <li key={d.toISOString()}>{formatInZone(d, timezone)}</li>
            ))}
          </ol>
        </section>
      )}
      {error && <ErrorBox error={error} />}
    </Dialog>
  );
}
