// The data quality report: what a failing gate says, and what a passing one notes.
import { describe, expect, it } from 'vitest';
import {
  describeViolation,
  failureReport,
  MAX_EXAMPLE_CHARS,
  passNotes,
  type AssertionOutcome,
} from './assert-report.js';

const outcome = (over: Partial<AssertionOutcome>): AssertionOutcome => ({
  name: 'id_not_null',
  severity: 'error',
  violations: 0,
  examples: [],
  ...over,
});

describe('data quality report', () => {
  it('passes when only warn-level assertions are violated', () => {
    expect(
      failureReport([outcome({}), outcome({ name: 'soft', severity: 'warn', violations: 2 })]),
    ).toBeUndefined();
  });

  it('names each failed assertion with its count, description and example rows', () => {
    const report = failureReport([
      outcome({ violations: 1, examples: ['{"id": null}'], description: 'every order has an id' }),
      outcome({ name: 'status_accepted', violations: 12, examples: ['{"status": "x"}', '{"status": "y"}'] }),
      outcome({ name: 'row_count', violations: 0 }),
    ]);
    expect(report).toBe(
      [
        'data quality check failed: 2 of 3 assertions did not hold, so nothing after this step ran',
        '- id_not_null (every order has an id): 1 violating row: {"id": null}',
        '- status_accepted: 12 violating rows; first 2: {"status": "x"}, {"status": "y"}',
      ].join('\n'),
    );
  });

  it('lists warn-level violations after the failures that stopped the run', () => {
    const report = failureReport([
      outcome({ violations: 3 }),
      outcome({ name: 'soft', severity: 'warn', violations: 1, examples: ['{"a": 1}'] }),
    ]);
    expect(report?.split('\n').at(-1)).toBe('- (warning) soft: 1 violating row: {"a": 1}');
  });

  it('cuts a very wide example row', () => {
    const wide = `{"text": "${'x'.repeat(1000)}"}`;
    const line = describeViolation(outcome({ violations: 1, examples: [wide] }));
    expect(line.length).toBeLessThan(MAX_EXAMPLE_CHARS + 60);
    expect(line.endsWith('…')).toBe(true);
  });

  it('notes how many assertions held and each warning on a passing step', () => {
    expect(
      passNotes([outcome({}), outcome({ name: 'soft', severity: 'warn', violations: 1_200, examples: [] })]),
    ).toEqual(['1 of 2 assertions held', 'warning: soft: 1,200 violating rows']);
  });
});
