// The facts a run shows wherever it is listed: what it ran (a version, or the draft as saved at a
// time) and how long it took, measured by the server's clock, never the browser's.

export interface RunFacts {
  status: string;
  pipelineVersion: number;
  draft: boolean;
  draftSavedAt?: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs?: number | null;
}

const time = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });

/** "v3", or "draft (saved Dec 7, 14:02) over v3": a draft run is not the version it was based on. */
export function runVersionLabel(run: RunFacts): string {
  if (!run.draft) return `v${run.pipelineVersion}`;
  const base = run.pipelineVersion ? ` over v${run.pipelineVersion}` : '';
  return run.draftSavedAt ? `draft (saved ${time(run.draftSavedAt)})${base}` : `draft${base}`;
}

/**
 * How long a run took (or has taken so far). An ended run's duration is the server's: its
 * `durationMs`, or end minus start; it never grows with the browser's clock. A running run counts
 * from the server's start time to now; an ended run whose end time is not known yet shows nothing.
 */
export function runDurationMs(run: RunFacts, now = Date.now()): number | null {
  if (run.durationMs !== undefined && run.durationMs !== null) return run.durationMs;
  if (run.endedAt) return Date.parse(run.endedAt) - Date.parse(run.startedAt);
  if (run.status !== 'running') return null;
  return Math.max(0, now - Date.parse(run.startedAt));
}
