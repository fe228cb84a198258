import { describe, expect, it } from 'vitest';
import { formatKept, parseKept } from './kept-staging.js';

describe('kept staging comments', () => {
  it('round-trips the expiry and the leases', () => {
    const kept = { until: new Date('2026-01-02T03:04:05.000Z'), leases: ['run-a', 'run-b', 'run-a'] };
    expect(formatKept(kept)).toBe(
      'tributary staging kept until 2026-01-02T03:04:05.000Z; reused by run-a run-b',
    );
    expect(parseKept(formatKept(kept))).toEqual({ until: kept.until, leases: ['run-a', 'run-b'] });
  });

  it('reads the comments written before leases, and nothing else', () => {
    expect(parseKept('tributary staging kept until 2026-01-02T03:04:05.000Z')).toEqual({
      until: new Date('2026-01-02T03:04:05.000Z'),
      leases: [],
    });
    expect(parseKept('tributary staging')).toBeUndefined();
    expect(parseKept('tributary staging kept until soon')).toBeUndefined();
    expect(parseKept(null)).toBeUndefined();
  });
});
