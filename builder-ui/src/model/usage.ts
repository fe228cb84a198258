import type { UsageReport } from '../api/types.ts';
// Pure helpers for the telemetry and audit screens: date ranges as the API reads them, ranking, and
// compact summaries.

const DAY_MS = 86_400_000;

/** A UTC calendar date (YYYY-MM-DD), because the usage endpoint groups days by UTC date. */
export const utcDate = (d: Date): string => d.toISOString().slice(0, 10);

/** The default range: the last 30 days, today included. */
export function defaultRange(now = new Date()): { from: string; to: string } {
  return { from: utcDate(new Date(now.getTime() - 29 * DAY_MS)), to: utcDate(now) };
}

/**
 * The API's `to` is exclusive and a bare date means its midnight, so an inclusive "to" date the user
 * picks becomes the next day's midnight; otherwise runs of the last day would be left out.
 */
export function rangeQuery(range: { from: string; to: string }): { from: string; to: string } {
  return { from: range.from, to: utcDate(new Date(Date.parse(range.to) + DAY_MS)) };
}

export type UsageGroup = UsageReport['groups'][number];

export function topByCredits(groups: UsageGroup[], n = 10): UsageGroup[] {
  return [...groups].sort((a, b) => b.credits - a.credits || a.key.localeCompare(b.key)).slice(0, n);
}

/** One line of JSON, cut short so a table cell stays readable; the full text goes in a title. */
export function compactJson(value: unknown, max = 120): string {
  const text = JSON.stringify(value) ?? '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Rows for a stacked bar chart from a report grouped by day and split by project:
 * `[{ key: day, [project]: credits }]`, and the projects (series) in a stable order.
 */
export function stackedCredits(report: Pick<UsageReport, 'groups'>): {
  rows: Record<string, string | number>[];
  series: string[];
} {
  const series = [...new Set(report.groups.flatMap((g) => (g.splits ?? []).map((s) => s.key)))].sort();
  const rows = report.groups.map((g) => {
    const row: Record<string, string | number> = { key: g.key };
    for (const s of g.splits ?? []) row[s.key] = s.credits;
    return row;
  });
  return { rows, series };
}

/** The credit rates in words: "source 1, transform 3, sink 1; overridden for <kind>.<name> 5". */
export function describeRates(rates: UsageReport['creditRates']): string {
  const kinds = `source ${rates.source}, transform ${rates.transform}, sink ${rates.sink}`;
  const types = Object.entries(rates.types).map(([type, rate]) => `${type} ${rate}`);
  return types.length ? `${kinds}; overridden for ${types.join(', ')}` : kinds;
}
