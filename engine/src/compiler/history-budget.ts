// A run's Temporal history must stay well inside Temporal's limits (51,200 events, 50 MB per
// history, 2 MB per payload), or the run fails in the middle. What a run writes is known from its
// plan, so the compiler refuses a document whose run could come near them (docs/operations/run-records.md).
//
// Events: each step is one activity, whose retries Temporal runs on the server and records only
// once (scheduled, started for the last attempt, closed): 3 events, plus at most one workflow task
// (scheduled, started, completed) to react to it: 6 at most, whatever `retry.maximumAttempts` is.
// A run adds its lifecycle (start, staging, pipeline lock, cleanup, signals, close): under 60.
import type { CompileError } from './errors.js';

export const TEMPORAL_EVENT_LIMIT = 51_200;
/** Temporal refuses a payload over 2 MB; the run's input (the plan) is one. */
export const TEMPORAL_PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024;
export const EVENTS_PER_STEP = 6;
export const RUN_OVERHEAD_EVENTS = 60;
/** Half the limits: a run never comes near them, whatever it meets (cancels, queued lock). */
export const HISTORY_EVENT_BUDGET = TEMPORAL_EVENT_LIMIT / 2;
export const PLAN_BYTES_BUDGET = TEMPORAL_PAYLOAD_LIMIT_BYTES / 2;

export const worstCaseEvents = (steps: number) => steps * EVENTS_PER_STEP + RUN_OVERHEAD_EVENTS;

/** The problems of a plan whose run could exceed the budget: none for any pipeline within the node limit of small configs. */
export function historyBudgetErrors(steps: number, planBytes: number): CompileError[] {
  const errors: CompileError[] = [];
  const events = worstCaseEvents(steps);
  if (events > HISTORY_EVENT_BUDGET) {
    errors.push({
      code: 'history_budget',
      path: 'nodes',
      message:
        `A run of ${steps} steps could write ${events} Temporal history events, over the budget of ` +
        `${HISTORY_EVENT_BUDGET} (half Temporal's limit of ${TEMPORAL_EVENT_LIMIT}); split the pipeline`,
    });
  }
  if (planBytes > PLAN_BYTES_BUDGET) {
    errors.push({
      code: 'history_budget',
      path: 'nodes',
      message:
        `The compiled plan is ${(planBytes / 1024 / 1024).toFixed(1)} MB, over the budget of ` +
        `${PLAN_BYTES_BUDGET / 1024 / 1024} MB for a run's input (Temporal refuses payloads over ` +
        `${TEMPORAL_PAYLOAD_LIMIT_BYTES / 1024 / 1024} MB); move large SQL or inline data into files, or split the pipeline`,
    });
  }
  return errors;
}
