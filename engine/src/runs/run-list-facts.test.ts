// What the runs list says about a failed run, from its progress: the failed steps and an excerpt.
import { describe, expect, it } from 'vitest';
import type { StepProgress } from '../model/plan.js';
import { ERROR_EXCERPT_CHARS, excerpt, failureOf, RunFailureCache } from './run-list-facts.js';

const step = (status: StepProgress['status'], error: string | null = null): StepProgress => ({
  status,
  attempt: 1,
  startedAt: null,
  endedAt: null,
  rowsIn: null,
  rowsOut: null,
  bytes: null,
  error,
});

describe('run list facts', () => {
  it('names every failed step and quotes the first error, on one line', () => {
    const failure = failureOf({
      progress: {
        status: 'failed',
        startedAt: '2026-12-01T00:00:00Z',
        endedAt: null,
        steps: {
          gen: step('succeeded'),
          a: step('failed', 'Step "a" (transform.sql):\n  division by zero'),
          b: step('failed', 'Step "b" failed too'),
          c: step('skipped'),
        },
      },
    });
    expect(failure).toEqual({
      failedSteps: ['a', 'b'],
      errorExcerpt: 'Step "a" (transform.sql): division by zero',
    });
  });

  it('cuts a long error to the excerpt length with an ellipsis, and has nothing for a run without progress', () => {
    const cut = excerpt('x'.repeat(1000));
    expect(cut).toHaveLength(ERROR_EXCERPT_CHARS);
    expect(cut.endsWith('…')).toBe(true);
    expect(failureOf({ progress: null })).toEqual({ failedSteps: [], errorExcerpt: null });
  });

  it('keeps at most its capacity of failures, dropping the oldest', () => {
    const cache = new RunFailureCache(2);
    for (const id of ['r1', 'r2', 'r3']) cache.set(id, { failedSteps: [id], errorExcerpt: null });
    expect(cache.get('r1')).toBeUndefined();
    expect(cache.get('r3')).toEqual({ failedSteps: ['r3'], errorExcerpt: null });
  });
});
