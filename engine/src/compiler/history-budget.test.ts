// The history budget: the largest pipeline the compiler accepts stays well inside Temporal's
// limits, and a document whose run could come near them is refused with a message saying why.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { compile, type NodeCatalog } from './compile.js';
import {
  HISTORY_EVENT_BUDGET,
  historyBudgetErrors,
  TEMPORAL_EVENT_LIMIT,
  worstCaseEvents,
} from './history-budget.js';

const catalog: NodeCatalog = {
  get: (type) =>
    ({
      'source.test': {
        kind: 'source' as const,
        config: z.object({ text: z.string() }),
        inputs: { min: 0, max: 0 },
      },
    })[type],
};

describe('history budget', () => {
  it('keeps the largest accepted pipeline (2,000 nodes, any retries) under half the event limit', () => {
    expect(worstCaseEvents(2_000)).toBeLessThan(HISTORY_EVENT_BUDGET);
    expect(HISTORY_EVENT_BUDGET).toBe(TEMPORAL_EVENT_LIMIT / 2);
    expect(historyBudgetErrors(2_000, 100_000)).toEqual([]);
  });

  it('refuses a step count whose run could write more events than the budget, naming both numbers', () => {
    const [error] = historyBudgetErrors(5_000, 1_000);
    expect(error).toMatchObject({ code: 'history_budget', path: 'nodes' });
    expect(error!.message).toContain('30060 Temporal history events');
    expect(error!.message).toContain(String(TEMPORAL_EVENT_LIMIT));
  });

  it('refuses a document whose plan is too large to be a run input, with a clear message', () => {
    const big = 'x'.repeat(300_000);
    const document = {
      apiVersion: 'tributary/v1',
      id: 'big',
      name: 'Big',
      nodes: Array.from({ length: 4 }, (_, i) => ({
        id: `s${i}`,
        type: 'source.test',
        config: { text: big },
      })),
    };
    const result = compile(document, { catalog });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      expect.objectContaining({
        code: 'history_budget',
        message: expect.stringMatching(
          /compiled plan is 1\.\d MB, over the budget of 1 MB .*refuses payloads over 2 MB/,
        ),
      }),
    ]);
    // The same document with small configs compiles.
    const small = { ...document, nodes: document.nodes.map((n) => ({ ...n, config: { text: 'x' } })) };
    expect(compile(small, { catalog }).ok).toBe(true);
  });
});
