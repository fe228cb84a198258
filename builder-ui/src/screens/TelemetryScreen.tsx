// Usage over a date range: credits per day as a bar chart, and the pipelines that used the most.
import { useCallback, useEffect, useId, useState } from 'react';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Api, messageOf } from '../api/client.ts';
import { Empty, ErrorBox, formatNumber, Link, Loading } from '../components/ui.tsx';
import { defaultRange, rangeQuery, topByCredits } from '../model/usage.ts';
import type { UsageReport } from '../api/types.ts';

const credits = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

export function TelemetryScreen() {
  const [range, setRange] = useState(defaultRange);
  const [days, setDays] = useState<UsageReport | null>(null);
  const [pipelines, setPipelines] = useState<UsageReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = { from: useId(), to: useId() };

  const load = useCallback(() => {
    // A half-typed date is empty or after `to`; asking then would only earn a 400.
    if (!range.from || !range.to || range.from > range.to) {
      setError('Pick a from date on or before the to date.');
      return;
    }
    let live = true;
    setError(null);
    setDays(null);
    setPipelines(null);
    const query = rangeQuery(range);
    Promise.all([Api.usage({ groupBy: 'day', ...query }), Api.usage({ groupBy: 'pipeline', ...query })])
      .then(([d, p]) => {
        if (!live) return;
        setDays(d);
        setPipelines(p);
      })
      .catch((e: unknown) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, [range]);

  useEffect(load, [load]);

  const top = pipelines ? topByCredits(pipelines.groups) : [];
  return (
    <main className="screen" aria-labelledby="telemetry-title">
      <header className="screen-header">
        <h1 id="telemetry-title">Telemetry</h1>
        <span className="spacer" />
        <button type="button" onClick={load}>
          Refresh
        </button>
      </header>
      <div className="filters">
        <div className="field">
          <label htmlFor={ids.from}>From</label>
          <input
            id={ids.from}
            type="date"
            value={range.from}
            max={range.to}
            onChange={(e) => setRange((r) => ({ ...r, from: e.target.value }))}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.to}>To</label>
          <input
            id={ids.to}
            type="date"
            value={range.to}
            min={range.from}
            onChange={(e) => setRange((r) => ({ ...r, to: e.target.value }))}
          />
        </div>
      </div>
      {error && <ErrorBox error={error} onRetry={load} />}
      {!error && (!days || !pipelines) && <Loading what="usage" />}
      {days && pipelines && (
        <>
          <p className="muted">
            {formatNumber(days.totals.runs)} runs, {credits(days.totals.credits)} credits,{' '}
            {formatNumber(days.totals.activitySeconds)} activity-seconds.
            {days.truncated && ' Only the most recent runs of this range were counted.'}
          </p>
          <section aria-labelledby="credits-per-day-title">
            <h2 id="credits-per-day-title">Credits per day</h2>
            {days.groups.length === 0 ? (
              <Empty title="No runs in this range" />
            ) : (
              <figure aria-label="Credits per day" style={{ margin: 0, height: 260 }}>
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart data={days.groups} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" vertical={false} />
                    <XAxis dataKey="key" />
                    <YAxis />
                    <Tooltip formatter={(v) => credits(Number(v))} />
                    <Bar dataKey="credits" name="Credits" fill="var(--accent)" />
                  </BarChart>
                </ResponsiveContainer>
              </figure>
            )}
          </section>
          <section aria-labelledby="top-pipelines-title">
            <h2 id="top-pipelines-title">Top pipelines by credits</h2>
            {top.length === 0 ? (
              <Empty title="No pipeline ran in this range" />
            ) : (
              <table className="list-table" aria-label="Top pipelines by credits">
                <thead>
                  <tr>
                    <th>Pipeline</th>
                    <th>Credits</th>
                    <th>Runs</th>
                    <th>Activity seconds</th>
                    <th>Rows out</th>
                  </tr>
                </thead>
                <tbody>
                  {top.map((g) => (
                    <tr key={g.key}>
                      <td>
                        <Link to={`/pipelines/${encodeURIComponent(g.key)}`}>{g.key}</Link>
                      </td>
                      <td>{credits(g.credits)}</td>
                      <td>{formatNumber(g.runs)}</td>
                      <td>{g.activitySeconds.toLocaleString('en-US', { maximumFractionDigits: 1 })}</td>
                      <td>{formatNumber(g.rowsOut)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </main>
  );
}
