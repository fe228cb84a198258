// A per-pipeline lock for the `queue` concurrency policy: runs ask for it, it grants it to one run at
// a time in arrival order, and ends itself when nobody has wanted it for a while. Sandbox code.
import {
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  acquireLockSignal,
  lockGrantedSignal,
  lockStateQuery,
  releaseLockSignal,
  type LockState,
  type RunActivities,
} from '../model/run-contract.js';

const { runIsOpen } = proxyActivities<RunActivities>({ startToCloseTimeout: '30 seconds' });

const IDLE_LIFETIME = '10 minutes';
/** How often a holder is checked for being alive, so a terminated run cannot keep the lock. */
const HOLDER_CHECK = '1 minute';

export async function pipelineLock(initial: LockState = { holder: null, queue: [] }): Promise<void> {
  const state: LockState = { holder: initial.holder, queue: [...initial.queue] };
  setHandler(acquireLockSignal, ({ runId }) => {
    if (runId !== state.holder && !state.queue.includes(runId)) state.queue.push(runId);
  });
  setHandler(releaseLockSignal, ({ runId }) => {
    if (state.holder === runId) state.holder = null;
    else state.queue = state.queue.filter((q) => q !== runId);
  });
  setHandler(lockStateQuery, () => state);

  for (;;) {
    if (state.holder === null && state.queue.length === 0) {
      if (!(await condition(() => state.queue.length > 0, IDLE_LIFETIME))) return;
    }
    if (state.holder === null) {
      const next = state.queue.shift()!;
      try {
        await getExternalWorkflowHandle(next).signal(lockGrantedSignal);
        state.holder = next;
      } catch {
        continue; // that run has ended meanwhile: grant the next one
      }
    }
    const released = await condition(() => state.holder === null, HOLDER_CHECK);
    if (!released && state.holder && !(await runIsOpen({ runId: state.holder }))) state.holder = null;
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof pipelineLock>(state);
  }
}
