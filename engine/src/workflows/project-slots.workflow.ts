// A project's fair share of the deployment's step slots: a counting semaphore, one workflow per
// project. A run asks for a slot before it schedules a step's activity and gives it back when the
// step ends; past the share (TRIBUTARY_PROJECT_MAX_ACTIVITIES) the step waits here, in Temporal, in
// arrival order, instead of in a worker's activity slot. Other projects have semaphores of their
// own, so a project's queue never delays them. Sandbox code.
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  acquireSlotSignal,
  acquireSlotsSignal,
  releaseSlotSignal,
  releaseSlotsSignal,
  slotGrantedSignal,
  slotsContendedSignal,
  slotsGrantedSignal,
  slotsStateQuery,
  type RunActivities,
  type SlotRequest,
  type SlotsState,
} from '../model/run-contract.js';

export type { SlotRequest, SlotsState } from '../model/run-contract.js';

const { runIsOpen } = proxyActivities<RunActivities>({ startToCloseTimeout: '30 seconds' });

const IDLE_LIFETIME = '10 minutes';
/** How often holders are checked for being alive, so a terminated run cannot keep its slots. */
const HOLDER_CHECK = '1 minute';

export async function projectSlots(initial: SlotsState): Promise<void> {
  const state: SlotsState = {
    capacity: initial.capacity,
    holders: [...initial.holders],
    queue: [...initial.queue],
    ...(initial.contended ? { contended: [...initial.contended] } : {}),
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
  // Several slots of one run (a fan-out's steps that became ready together): queued one by one in
  // the order given, behind every earlier request, so partial grants and arrival order are as for
  // single requests. Only interpreters past patched('slots-batch') send it.
  setHandler(acquireSlotsSignal, ({ runId, keys, capacity }) => {
    state.capacity = Math.max(1, capacity);
    for (const key of keys) if (!known(key)) state.queue.push({ runId, key, together: true });
    changed += 1;
  });
  setHandler(releaseSlotSignal, ({ key }) => {
    state.holders = state.holders.filter((h) => h.key !== key);
    state.queue = state.queue.filter((q) => q.key !== key);
    changed += 1;
  });
  // A run's last slots, given back together at its end (patched('slots-batch') in the interpreter).
  setHandler(releaseSlotsSignal, ({ keys }) => {
    const gone = new Set(keys);
    state.holders = state.holders.filter((h) => !gone.has(h.key));
    state.queue = state.queue.filter((q) => !gone.has(q.key));
    changed += 1;
  });
  setHandler(slotsStateQuery, () => state);

  for (;;) {
    while (state.holders.length < state.capacity && state.queue.length > 0) {
      if (patched('slots-grant-together')) {
        // Every free slot granted at once, the signals sent together (one workflow task, not one
        // per grant); a run that has ended meanwhile gives its slot to the next request.
        const batch = state.queue.splice(0, state.capacity - state.holders.length);
        state.holders.push(...batch);
        // Keys asked for together go to their run together: one signal per run, not one per key.
        // Checked here, in the loop, so a semaphore running when the change deploys takes it up; only
        // batches holding such keys reach it, so older histories replay as they were.
        const together = batch.some((r) => r.together) && patched('slots-batch');
        const groups = together ? byRun(batch) : batch.map((r) => [r]);
        const sent = await Promise.allSettled(groups.map((g) => grant(g, together)));
        const ended = new Set(
          groups.filter((_, i) => sent[i]!.status === 'rejected').flatMap((g) => g.map((r) => r.key)),
        );
        if (ended.size > 0) state.holders = state.holders.filter((h) => !ended.has(h.key));
        continue;
      }
      const next = state.queue.shift()!;
      try {
        await getExternalWorkflowHandle(next.runId).signal(slotGrantedSignal, { key: next.key });
        state.holders.push(next);
      } catch {
        // That run has ended meanwhile: grant the next request.
      }
    }
    // A run may keep a slot for its own next step (patched('fair-share-lanes') in the interpreter)
    // only while no other run of the project waits: holders are told once that one does, and from
    // then on give each slot back when its step ends, so a waiting run is served in arrival order as
    // before. Checked in the loop, so a semaphore already running picks it up after the deploy.
    if (state.queue.length > 0 && patched('slots-contention')) await tellContended(state);
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

/**
 * Tells a run it has these slots: a single request as before, keys asked for together in one signal
 * (unless the semaphore is replaying its history from before patched('slots-batch')).
 */
function grant(requests: SlotRequest[], together: boolean): Promise<void> {
  const first = requests[0]!;
  const run = getExternalWorkflowHandle(first.runId);
  return together && first.together
    ? run.signal(slotsGrantedSignal, { keys: requests.map((r) => r.key) })
    : run.signal(slotGrantedSignal, { key: first.key });
}

/**
 * The requests granted in one round, grouped: the keys a run asked for together in one group per
 * run (at its first key's place), every single request alone.
 */
function byRun(batch: SlotRequest[]): SlotRequest[][] {
  const groups: SlotRequest[][] = [];
  const together = new Map<string, SlotRequest[]>();
  for (const request of batch) {
    if (!request.together) {
      groups.push([request]);
      continue;
    }
    const group = together.get(request.runId);
    if (group) group.push(request);
    else {
      const fresh = [request];
      together.set(request.runId, fresh);
      groups.push(fresh);
    }
  }
  return groups;
}

/** Signals each holding run that another run waits (once per run); forgets runs no longer here. */
async function tellContended(state: SlotsState): Promise<void> {
  const present = new Set([...state.holders, ...state.queue].map((r) => r.runId));
  const told = new Set((state.contended ?? []).filter((runId) => present.has(runId)));
  const tell = [...new Set(state.holders.map((h) => h.runId))].filter(
    (runId) => !told.has(runId) && state.queue.some((q) => q.runId !== runId),
  );
  for (const runId of tell) told.add(runId);
  state.contended = [...told];
  await Promise.all(
    tell.map((runId) =>
      // A run that has ended meanwhile needs telling no more.
      getExternalWorkflowHandle(runId)
        .signal(slotsContendedSignal)
        .catch(() => undefined),
    ),
  );
}
