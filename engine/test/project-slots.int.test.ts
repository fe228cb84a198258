// A project's fair share on the real dev server (patched('slots-batch')): the steps a run starts
// together ask for their slots in one request, the semaphore grants what is free and queues the
// rest in arrival order, and a run's last slots go back together at its end.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchRunHistory, type RunHistory } from '../src/audit/run-history.js';
import { RunsClient } from '../src/client/runs.js';
import type { PipelineInput } from '../src/model/pipeline.schema.js';
import { slotsStateQuery, slotsWorkflowId } from '../src/model/run-contract.js';
import { startHarness, type Harness } from './harness.js';
import { createTestSteps, testCatalog, type StepProbe } from './test-steps.js';

const SHARE = 3;

let h: Harness;
let probe: StepProbe;
let runs: RunsClient;
beforeAll(async () => {
  const steps = createTestSteps();
  probe = steps.probe;
  h = await startHarness({ catalog: testCatalog, extraActivities: steps.activities });
  runs = new RunsClient(h.platform.temporal, h.taskQueue, undefined, {
    maxStepTimeoutSeconds: 3600,
    projectMaxActivities: SHARE,
  });
});
afterAll(async () => h?.stop());
beforeEach(() => {
  Object.assign(probe, { running: 0, maxRunning: 0, started: [], attempts: {} });
});

function fanOut(id: string, leaves: number, sleepMs: number): PipelineInput {
  const ids = Array.from({ length: leaves }, (_, i) => `leaf-${i}`);
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { maxParallel: 10, concurrency: 'allow' },
    nodes: [
      { id: 'root', type: 'test.source', config: {} },
      ...ids.map((leaf) => ({ id: leaf, type: 'test.step', config: { sleepMs } })),
    ],
    edges: ids.map((leaf) => ({ from: 'root', to: leaf })),
  };
}

async function start(document: PipelineInput): Promise<string> {
  const { runId } = await runs.start(h.plan(document), { trigger: { type: 'manual', actor: 'test' } });
  return runId;
}

async function finish(runId: string): Promise<string> {
  await h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});
  return (await runs.get(runId)).status;
}

/** The keys of each signal of this name the run received, in history order. */
function signalled(history: RunHistory, name: string): unknown[] {
  return history.events.flatMap((e) => {
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName !== name) return [];
    return [history.decode(signal.input)];
  });
}

function lifecycle(history: RunHistory, activityType: string): number {
  return [...history.activities.values()].filter((a) => a.activityType === activityType).length;
}

describe('project slots asked for together', () => {
  it('grants what is free of a request for several slots and the rest, in arrival order, when a slot comes back', async () => {
    // A run holding one of the three slots for 3 s, then a fan-out of three: its source's slot is
    // kept for the first leaf, the other two leaves ask together, and only one slot is free.
    const holder = await start({
      apiVersion: 'tributary/v1',
      id: 'slots-holder',
      name: 'holder',
      nodes: [{ id: 'hold', type: 'test.source', config: { sleepMs: 3000 } }],
    });
    const slots = h.platform.temporal.workflow.getHandle(slotsWorkflowId('default', h.taskQueue));
    for (let i = 0; ; i++) {
      const state = await slots.query(slotsStateQuery).catch(() => null);
      if (state?.holders.some((s) => s.runId === holder) && probe.started.includes('hold')) break;
      if (i > 200) throw new Error(`the holder never got its slot: ${JSON.stringify(state)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const fan = await start(fanOut('slots-fan-out', 3, 500));

    expect(await finish(fan)).toBe('succeeded');
    expect(await finish(holder)).toBe('succeeded');
    expect(probe.maxRunning).toBeLessThanOrEqual(SHARE);

    const history = await fetchRunHistory(h.platform.temporal, fan);
    // One request for the two leaves, answered in two rounds: the free slot at once, the holder's
    // when it came back.
    expect(lifecycle(history, 'requestProjectSlots')).toBe(1);
    expect(signalled(history, 'slotsGranted')).toEqual([
      { keys: [`${fan}/leaf-1`] },
      { keys: [`${fan}/leaf-2`] },
    ]);
    // The queued leaf started only once a slot had come back: the first leaf's (the queue was the
    // run's own, so it was given back when no step took it) or the holder's.
    const holderEnded = Date.parse((await runs.get(holder)).progress!.steps.hold!.endedAt!);
    const fanSteps = (await runs.get(fan)).progress!.steps;
    const firstEnded = Date.parse(fanSteps['leaf-0']!.endedAt!);
    expect(Date.parse(fanSteps['leaf-2']!.startedAt!)).toBeGreaterThanOrEqual(
      Math.min(firstEnded, holderEnded),
    );
    // Every slot is back once both runs have ended.
    for (let i = 0; ; i++) {
      const after = await slots.query(slotsStateQuery);
      if (after.holders.length === 0 && after.queue.length === 0) break;
      if (i > 100) throw new Error(`slots still held: ${JSON.stringify(after)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('asks for all of a wide pass in one request and gives its last slots back together', async () => {
    const runId = await start(fanOut('slots-wide', 6, 200));
    expect(await finish(runId)).toBe('succeeded');
    expect(probe.maxRunning).toBe(SHARE);

    const history = await fetchRunHistory(h.platform.temporal, runId);
    // The source's slot went to the first leaf; the other two asked together, granted together.
    expect(lifecycle(history, 'requestProjectSlot')).toBe(1); // the run's first slot
    expect(lifecycle(history, 'requestProjectSlots')).toBe(1);
    expect(signalled(history, 'slotsGranted')).toEqual([{ keys: [`${runId}/leaf-1`, `${runId}/leaf-2`] }]);
    // The three lanes ran the six leaves. A slot no step will take goes back as its step ends (a
    // signal), except those still kept when the last step ends: one request for them, at the end.
    expect(lifecycle(history, 'releaseProjectSlots')).toBe(1);
    const released = history.events.filter(
      (e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === 'releaseSlot',
    );
    expect(released.length).toBeLessThan(SHARE);
    const slots = h.platform.temporal.workflow.getHandle(slotsWorkflowId('default', h.taskQueue));
    for (let i = 0; ; i++) {
      const after = await slots.query(slotsStateQuery);
      if (after.holders.length === 0) break;
      if (i > 100) throw new Error(`slots still held: ${JSON.stringify(after)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
