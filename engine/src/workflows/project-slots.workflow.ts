// A project's fair share of the deployment's step slots: a counting semaphore, one workflow per
// project. A run asks for a slot before it schedules a step's activity and gives it back when the
// step ends; past the share (TRIBUTARY_PROJECT_MAX_ACTIVITIES) the step waits here, in Temporal, in
// arrival order, instead of in a worker's activity slot. Other projects have semaphores of their
// own, so a project's queue never delays them. Sandbox code.
import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { RunActivities } from '../worker/run-activities.js';

export interface SlotRequest {
  runId: string;
  /** Unique per request: `<runId>/<step id>`. */
  key: string;
}

export interface SlotsState {
  capacity: number;
  holders: SlotRequest[];
  queue: SlotRequest[];
}

export const acquireSlotSignal = defineSignal<[SlotRequest & { capacity: number }]>('acquireSlot');
export const releaseSlotSignal = defineSignal<[{ key: string }]>('releaseSlot');
/** Sent by the semaphore to the run whose request it grants. */
export const slotGrantedSignal = defineSignal<[{ key: string }]>('slotGranted');
export const slotsStateQuery = defineQuery<SlotsState>('slotsState');

export const slotsWorkflowId = (project: string): string => `slots-${project}`;

const { runIsOpen } = proxyActivities<RunActivities>({ startToCloseTimeout: '30 seconds' });

const IDLE_LIFETIME = '10 minutes';
/** How often holders are checked for being alive, so a terminated run cannot keep its slots. */
const HOLDER_CHECK = '1 minute';

export async function projectSlots(initial: SlotsState): Promise<void> {
  const state: SlotsState = {
    capacity: initial.capacity,
    holders: [...initial.holders],
    queue: [...initial.queue],
  };
  const known = (key: string) =>
    state.holders.some((h) => h.key === key) || state.queue.some((q) => q.key === key);
  let changed = 0;
  setHandler(acquireSlotSignal, ({ runId, key, capacity }) => {
    // The latest request carries the operator's current setting.
    state.capacity = Math.max(1, capacity);
    if (!known(key)) state.queue.push({ runId, key });
    changed += 1;
  });
  setHandler(releaseSlotSignal, ({ key }) => {
    state.holders = state.holders.filter((h) => h.key !== key);
    state.queue = state.queue.filter((q) => q.key !== key);
    changed += 1;
  });
  setHandler(slotsStateQuery, () => state);

  for (;;) {
    while (state.holders.length < state.capacity && state.queue.length > 0) {
      const next = state.queue.shift()!;
      try {
        await getExternalWorkflowHandle(next.runId).signal(slotGrantedSignal, { key: next.key });
        state.holders.push(next);
      } catch {
        // That run has ended meanwhile: grant the next request.
      }
    }
    if (state.holders.length === 0 && state.queue.length === 0) {
      if (!(await condition(() => state.queue.length > 0, IDLE_LIFETIME))) return;
      continue;
    }
    const seen = changed;
    const woke = await condition(() => changed !== seen, HOLDER_CHECK);
    if (!woke) {
      for (const runId of new Set(state.holders.map((h) => h.runId))) {
        if (!(await runIsOpen({ runId }))) state.holders = state.holders.filter((h) => h.runId !== runId);
      }
    }
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof projectSlots>(state);
  }
}
