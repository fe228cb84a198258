// Usage over a date range: what a credit is, credits per day stacked by project, the costliest
// pipelines and node types, and retries.
import { useId, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Api } from '../api/client.ts';
import { useResource } from '../api/use-resource.ts';
import { Empty, ErrorBox, formatNumber, Link, Loading } from '../components/ui.tsx';
import { defaultRange, describeRates, rangeQuery, stackedCredits, topByCredits } from '../model/usage.ts';
import type { UsageReport } from '../api/types.ts';

const credits = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });
const seconds = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
/** Series colours that read on the light and the dark theme alike. */
const SERIES = ['#4c6ef5', '#f76707', '#2f9e44', '#ae3ec9', '#1098ad', '#e8590c', '#d6336c', '#74b816'];

interface Reports {
  days: UsageReport;
  pipelines: UsageReport;
  nodeTypes: UsageReport;
}

export function TelemetryScreen() {
  const [range, setRange] = useState(defaultRange);
  const ids = { from: useId(), to: useId() };
  const {
    data: reports,
    error,
    reload: load,
  } = useResource<Reports>(() => {
    // A half-typed date is empty or after `to`; asking then would only earn a 400.
    if (!range.from || !range.to || range.from > range.to)
      return Promise.reject(new Error('Pick a from date on or before the to date.'));
    const query = rangeQuery(range);
    return Promise.all([
      Api.usage({ groupBy: 'day', split: 'project', ...query }),
      Api.usage({ groupBy: 'pipeline', ...query }),
      Api.usage({ groupBy: 'nodeType', ...query }),
    ]).then(([days, pipelines, nodeTypes]) => ({ days, pipelines, nodeTypes }));
  }, [range]);

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
      {!error && !reports && <Loading what="usage" />}
      {reports && <Usage {...reports} />}
    </main>
  );
}

function Usage({ days, pipelines, nodeTypes }: Reports) {
  const { totals } = days;
  const stacked = stackedCredits(days);
  const topPipelines = topByCredits(pipelines.groups);
  const topTypes = topByCredits(nodeTypes.groups);
  return (
    <>
      <CreditExplanation rates={days.creditRates} />
      <p className="muted" aria-label="Usage totals">
        {formatNumber(totals.runs)} runs, {credits(totals.credits)} credits, {seconds(totals.activitySeconds)}{' '}
        activity-seconds, {formatNumber(totals.retries)} {totals.retries === 1 ? 'retry' : 'retries'}.
        {days.truncated && ' Only the most recent runs of this range were counted.'}
      </p>
      <section aria-labelledby="credits-per-day-title">
        <h2 id="credits-per-day-title">Credits per day, by project</h2>
        {days.groups.length === 0 ? (
          <Empty title="No runs in this range" />
        ) : (
          <figure aria-label="Credits per day" className="chart" style={{ margin: 0, height: 280 }}>
            <ResponsiveContainer width="100%" height="100%">
              <BarChart data={stacked.rows} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--chart-grid)" />
                <XAxis dataKey="key" stroke="var(--muted)" tick={{ fill: 'var(--muted)' }} />
                <YAxis stroke="var(--muted)" tick={{ fill: 'var(--muted)' }} />
                <Tooltip
                  formatter={(v) => credits(Number(v))}
                  contentStyle={{ background: 'var(--panel)', borderColor: 'var(--border)' }}
                  labelStyle={{ color: 'var(--text)' }}
                  cursor={{ fill: 'var(--subtle)' }}
                />
                <Legend />
                {stacked.series.map((project, i) => (
                  <Bar
                    key={project}
                    dataKey={project}
                    name={project}
                    stackId="credits"
                    fill={SERIES[i % SERIES.length]}
                  />
                ))}
              </BarChart>
            </ResponsiveContainer>
          </figure>
        )}
      </section>
      <div className="telemetry-tables">
        <section aria-labelledby="top-pipelines-title">
          <h2 id="top-pipelines-title">Costliest pipelines</h2>
          {topPipelines.length === 0 ? (
            <Empty title="No pipeline ran in this range" />
          ) : (
            <table className="list-table" aria-label="Top pipelines by credits">
              <thead>
                <tr>
                  <th>Pipeline</th>
                  <th>Credits</th>
                  <th>Runs</th>
                  <th>Activity seconds</th>
                  <th>Retries</th>
                  <th>Rows out</th>
                </tr>
              </thead>
              <tbody>
                {topPipelines.map((g) => (
                  <tr key={g.key}>
                    <td>
                      <Link to={`/pipelines/${encodeURIComponent(g.key)}`}>{g.key}</Link>
                    </td>
                    <td>{credits(g.credits)}</td>
                    <td>{formatNumber(g.runs)}</td>
                    <td>{seconds(g.activitySeconds)}</td>
                    <td>{formatNumber(g.retries)}</td>
                    <td>{formatNumber(g.rowsOut)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby="top-node-types-title">
          <h2 id="top-node-types-title">Costliest node types</h2>
          {topTypes.length === 0 ? (
            <Empty title="No step ran in this range" />
          ) : (
            <table className="list-table" aria-label="Top node types by credits">
              <thead>
                <tr>
                  <th>Node type</th>
                  <th>Credits</th>
                  <th>Steps</th>
                  <th>Activity seconds</th>
                  <th>Retries</th>
                </tr>
              </thead>
              <tbody>
                {topTypes.map((g) => (
                  <tr key={g.key}>
                    <td>
                      <code>{g.key}</code>
                    </td>
                    <td>{credits(g.credits)}</td>
                    <td>{formatNumber(g.steps)}</td>
                    <td>{seconds(g.activitySeconds)}</td>
                    <td>{formatNumber(g.retries)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
    </>
  );
}

/** What a credit is, in the words of engine/src/telemetry (run-usage.ts, credit-rates.ts). */
function CreditExplanation({ rates }: { rates: UsageReport['creditRates'] }) {
  return (
    <aside className="note credit-explanation" aria-label="What a credit is">
      <strong>What is a credit?</strong> One second of a step doing its work, at rate 1. A step&apos;s credits
      are the seconds its activity ran (from its start to its end, as Temporal recorded them) times the rate
      of its kind. A retried step counts the attempt that Temporal recorded (the last one); waiting in a queue
      or between retries costs nothing, and so does the run&apos;s own bookkeeping (staging, cleanup, locks).
      Rates on this server: {describeRates(rates)} (set with <code>TRIBUTARY_CREDIT_RATES</code>).
    </aside>
  );
}
