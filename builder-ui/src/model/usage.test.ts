// The date arithmetic and ranking behind the telemetry screen, and the audit log's compact summaries.
import { describe, expect, it } from 'vitest';
import {
  compactJson,
  defaultRange,
  describeRates,
  rangeQuery,
  stackedCredits,
  topByCredits,
  type UsageGroup,
} from './usage.ts';

const group = (key: string, credits: number): UsageGroup => ({
  key,
  credits,
  runs: 1,
  steps: 1,
  wallSeconds: 1,
  activitySeconds: 1,
  attempts: 1,
  retries: 0,
  rowsIn: 0,
  rowsOut: 0,
  bytes: 0,
});

describe('usage helpers', () => {
  it('defaults to the last 30 days including today', () => {
    expect(defaultRange(new Date('2025-03-31T12:00:00Z'))).toEqual({ from: '2025-03-02', to: '2025-03-31' });
  });

  it('makes the inclusive to date an exclusive next-day bound', () => {
    expect(rangeQuery({ from: '2025-02-01', to: '2025-02-28' })).toEqual({
      from: '2025-02-01',
      to: '2025-03-01',
    });
  });

  it('ranks by credits, highest first, and keeps the top n', () => {
    const groups = [group('a', 1), group('b', 5), group('c', 3), group('d', 5)];
    expect(topByCredits(groups, 3).map((g) => g.key)).toEqual(['b', 'd', 'c']);
  });

  it('shortens long JSON', () => {
    expect(compactJson({ version: 2 })).toBe('{"version":2}');
    expect(compactJson({ text: 'x'.repeat(200) }, 20)).toHaveLength(20);
  });

  it('turns days split by project into rows of a stacked chart, one series per project', () => {
    const days = [
      { ...group('2026-12-01', 5), splits: [group('alpha', 2), group('beta', 3)] },
      { ...group('2026-12-02', 4), splits: [group('beta', 4)] },
    ];
    expect(stackedCredits({ groups: days })).toEqual({
      rows: [
        { key: '2026-12-01', alpha: 2, beta: 3 },
        { key: '2026-12-02', beta: 4 },
      ],
      series: ['alpha', 'beta'],
    });
  });

  it('says the credit rates in words, with the node types that override their kind', () => {
    expect(describeRates({ source: 1, transform: 3, sink: 1, types: {} })).toBe(
      'source 1, transform 3, sink 1',
    );
    expect(describeRates({ source: 1, transform: 1, sink: 1, types: { 'transform.sql': 5 } })).toBe(
      'source 1, transform 1, sink 1; overridden for transform.sql 5',
    );
  });
});
