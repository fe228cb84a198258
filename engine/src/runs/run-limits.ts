// What an operator bounds every run by, applied where every run starts (RunsClient.start and the
// Temporal Schedules' action): a ceiling on a step's timeouts, and a project's fair share of the
// deployment's step slots, which caps a run's maxParallel and is handed to the interpreter.
import type { ExecutionPlan } from '../model/plan.js';

export interface RunLimits {
  /** TRIBUTARY_MAX_STEP_TIMEOUT_SECONDS: no step's timeoutSeconds or statementTimeoutSeconds above it. */
  maxStepTimeoutSeconds: number;
  /** TRIBUTARY_PROJECT_MAX_ACTIVITIES: steps of one project running at once, across its runs. */
  projectMaxActivities: number;
}

/** 6 hours; half of a worker's 20 slots. */
export const DEFAULT_RUN_LIMITS: RunLimits = { maxStepTimeoutSeconds: 6 * 3600, projectMaxActivities: 10 };

export const MAX_STEP_TIMEOUT_VARIABLE = 'TRIBUTARY_MAX_STEP_TIMEOUT_SECONDS';

/** A plan past a limit the operator set: the request's fault (400), naming the node and the variable. */
export class RunLimitError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly nodeId: string,
  ) {
    super(message);
  }
}

/** The plan with the project's share recorded and maxParallel capped by it; refuses a timeout past the ceiling. */
export function applyRunLimits(plan: ExecutionPlan, limits: RunLimits): ExecutionPlan {
  for (const step of plan.steps) {
    for (const field of ['timeoutSeconds', 'statementTimeoutSeconds'] as const) {
      if (step[field] > limits.maxStepTimeoutSeconds) {
        throw new RunLimitError(
          `step "${step.id}": ${field} ${step[field]} is above this deployment's ceiling of ` +
            `${limits.maxStepTimeoutSeconds} s (${MAX_STEP_TIMEOUT_VARIABLE}); lower it, or ask the operator`,
          `nodes.${step.id}.${field}`,
          step.id,
        );
      }
    }
  }
  const share = Math.max(1, limits.projectMaxActivities);
  return { ...plan, maxParallel: Math.min(plan.maxParallel, share), projectShare: share };
}
