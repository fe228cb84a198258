// Fair shares: one project's many slow steps do not delay another project's run. Project fair-a
// starts three runs of ten parallel sleeping steps (30 steps, more than the worker's 20 slots);
// with TRIBUTARY_PROJECT_MAX_ACTIVITIES at its default (half of 20) only ten of them hold a slot,
// the rest wait in Temporal (in fair-a's semaphore workflow), and fair-b's one-step run takes about
// as long as it does on an idle worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotsStateQuery, slotsWorkflowId } from '../../src/model/run-contract.js';
import { startFaultStack, type FaultStack } from './fault-stack.js';
import { createPipeline, pendingSteps, report, runResult, sleep, startRun } from './fault-kit.js';

const SLEEP_SECONDS = 8;
const PARALLEL = 10;

let stack: FaultStack;
beforeAll(async () => {
  stack = await startFaultStack();
  await stack.startWorker();
  for (const id of ['fair-a', 'fair-b', 'fair-c']) {
    const created = await stack.call('POST', '/api/projects', { id, name: id });
    expect(created.status).toBe(201);
  }
  await createPipeline(stack, {
    apiVersion: 'tributary/v1',
    id: 'fair-a-slow',
    name: 'many slow steps',
    project: 'fair-a',
    settings: { maxParallel: 20, concurrency: 'allow' },
    nodes: [
      {
        id: 'g',
        type: 'source.generate',
        config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
      },
      ...Array.from({ length: PARALLEL }, (_, i) => ({
        id: `s${i}`,
        type: 'transform.sql',
        config: { sql: `select n, pg_sleep(${SLEEP_SECONDS}) is null as slept from {{ inputs.g }}` },
      })),
    ],
    edges: Array.from({ length: PARALLEL }, (_, i) => ({ from: 'g', to: `s${i}` })),
  });
  await createPipeline(stack, {
    apiVersion: 'tributary/v1',
    id: 'fair-b-one',
    name: 'one step',
    project: 'fair-b',
    nodes: [
      {
        id: 'g',
        type: 'source.generate',
        config: { rows: 5, columns: [{ name: 'n', generator: 'sequence' }] },
      },
    ],
  });
  // A run that holds its project's whole share by itself: ten chains of three sleeping steps.
  const chains = Array.from({ length: PARALLEL }, (_, c) => [0, 1, 2].map((i) => `c${c}s${i}`));
  await createPipeline(stack, {
    apiVersion: 'tributary/v1',
    id: 'fair-c-chains',
    name: 'ten chains',
    project: 'fair-c',
    settings: { maxParallel: 20, concurrency: 'allow' },
    nodes: [
      {
        id: 'g',
        type: 'source.generate',
        config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
      },
      ...chains.flatMap((chain) =>
        chain.map((id, i) => ({
          id,
          type: 'transform.sql',
          config: {
            sql: `select n, pg_sleep(${CHAIN_SLEEP_SECONDS}) is null as slept from {{ inputs.${i === 0 ? 'g' : chain[i - 1]} }}`,
          },
        })),
      ),
    ],
    edges: chains.flatMap((chain) => chain.map((id, i) => ({ from: i === 0 ? 'g' : chain[i - 1]!, to: id }))),
  });
  await createPipeline(stack, {
    apiVersion: 'tributary/v1',
    id: 'fair-c-one',
    name: 'one step',
    project: 'fair-c',
    nodes: [
      {
        id: 'g',
        type: 'source.generate',
        config: { rows: 5, columns: [{ name: 'n', generator: 'sequence' }] },
      },
    ],
  });
});
afterAll(async () => stack?.stop());

const CHAIN_SLEEP_SECONDS = 2;

async function timedRun(pipelineId: string): Promise<{ ms: number; status: string }> {
  const t0 = performance.now();
  const runId = await startRun(stack, pipelineId);
  const result = await runResult(stack, runId, 120_000);
  return { ms: performance.now() - t0, status: result.status };
}

describe('fair shares', () => {
  it("project a's many slow steps do not delay project b's one-step run by more than ~2 s", async () => {
    await timedRun('fair-b-one'); // warm up (provisioning of b, first activity of its kind)
    const idle = await timedRun('fair-b-one');
    expect(idle.status).toBe('succeeded');

    const slowRuns = await Promise.all([0, 1, 2].map(() => startRun(stack, 'fair-a-slow')));
    // Wait until a holds its whole share and has more steps queued behind it.
    const slots = stack.temporal.workflow.getHandle(slotsWorkflowId('fair-a', 'tributary'));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = await slots.query(slotsStateQuery).catch(() => null);
      if (state && state.holders.length === 10 && state.queue.length > 0) break;
      if (Date.now() > deadline) throw new Error(`fair-a never filled its share: ${JSON.stringify(state)}`);
      await sleep(100);
    }
    // The queued steps wait in Temporal: no more than the share of a's activities are scheduled.
    const scheduled = (await Promise.all(slowRuns.map((r) => pendingSteps(stack.temporal, r)))).flat();
    expect(scheduled.filter((s) => s.activityType === 'transform.sql').length).toBeLessThanOrEqual(10);

    const busy = await timedRun('fair-b-one');
    expect(busy.status).toBe('succeeded');
    report(
      `fairness: b's one-step run took ${idle.ms.toFixed(0)} ms on an idle worker and ${busy.ms.toFixed(0)} ms ` +
        `while a had ${PARALLEL * 3} sleeping steps queued`,
    );
    expect(busy.ms).toBeLessThan(idle.ms + 2_000);

    const results = await Promise.all(slowRuns.map((r) => runResult(stack, r, 180_000)));
    expect(results.map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('a run that keeps its slots for its own next steps gives them back once another run of its project waits', async () => {
    // Slots as lanes (patched('fair-share-lanes')): a step's slot goes to the run's next step while
    // nobody else waits. Once another run of the project queues, the semaphore says so
    // (patched('slots-contention')) and each slot goes back when its step ends, so the waiting run
    // starts after a step of the first run (2 s), not after the whole first run (three steps, 6 s).
    const chains = await startRun(stack, 'fair-c-chains');
    const slots = stack.temporal.workflow.getHandle(slotsWorkflowId('fair-c', 'tributary'));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const state = await slots.query(slotsStateQuery).catch(() => null);
      if (state && state.holders.length === 10) break;
      if (Date.now() > deadline) throw new Error(`fair-c never filled its share: ${JSON.stringify(state)}`);
      await sleep(100);
    }
    const one = await startRun(stack, 'fair-c-one');
    // The semaphore tells the run holding the share that another waits.
    for (;;) {
      const state = await slots.query(slotsStateQuery);
      if (state.contended?.includes(chains)) break;
      if (Date.now() > deadline + 30_000) throw new Error(`never told contended: ${JSON.stringify(state)}`);
      await sleep(100);
    }
    const [first, second] = await Promise.all([
      runResult(stack, chains, 120_000),
      runResult(stack, one, 120_000),
    ]);
    expect([first.status, second.status]).toEqual(['succeeded', 'succeeded']);
    const endedAt = (run: typeof first) => Date.parse(String(run.endedAt));
    report(
      `fairness: the one-step run of fair-c ended ${((endedAt(first) - endedAt(second)) / 1000).toFixed(1)} s ` +
        `before the run that held fair-c's whole share`,
    );
    // At least one more round of the first run's chains (2 s) runs after the waiting run got its slot.
    expect(endedAt(second)).toBeLessThan(endedAt(first) - 1_000);
  });
});
