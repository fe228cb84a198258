import { describe, expect, it } from 'vitest';
import { runDurationMs, runVersionLabel } from './run-facts.ts';

const base = {
  status: 'succeeded',
  pipelineVersion: 1,
  draft: false,
  startedAt: '2026-12-07T10:00:00.000Z',
  endedAt: '2026-12-07T10:00:00.855Z',
};

describe('run facts', () => {
  it('labels a version run by its version and a draft run as the draft with its saved time', () => {
    expect(runVersionLabel(base)).toBe('v1');
    const draft = runVersionLabel({ ...base, draft: true, draftSavedAt: '2026-12-07T09:58:00.000Z' });
    expect(draft).toMatch(/^draft \(saved .+\) over v1$/);
    expect(draft).not.toMatch(/^v1/);
    expect(runVersionLabel({ ...base, draft: true, draftSavedAt: null })).toBe('draft over v1');
  });

  it("takes an ended run's duration from the server's timestamps, whatever the browser's clock says", () => {
    const later = Date.parse('2026-12-07T10:00:45.000Z');
    expect(runDurationMs(base, later)).toBe(855);
    expect(runDurationMs({ ...base, durationMs: 855, endedAt: null }, later)).toBe(855);
    // Ended, but its end is not known yet: nothing rather than a number that keeps growing.
    expect(runDurationMs({ ...base, endedAt: null }, later)).toBeNull();
  });

  it('counts a running run from its server start time', () => {
    const run = { ...base, status: 'running', endedAt: null };
    expect(runDurationMs(run, Date.parse('2026-12-07T10:00:02.000Z'))).toBe(2000);
  });
});
