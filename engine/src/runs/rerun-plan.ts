// Which steps a re-run runs and which it reuses, from the earlier run's plan, step statuses and
// output tables. Pure: the use case (rerun.ts) reads those facts and checks the tables are kept.
import { canonicalJson } from '../compiler/canonical.js';
import type { ExecutionPlan, PlanStep, ReusedStep, StepProgress } from '../model/plan.js';

export interface EarlierRun {
  runId: string;
  plan: ExecutionPlan;
  steps: Record<string, StepProgress>;
  /** Each step's output as the earlier run had it: its own table, or the one it reused. */
  outputs: Record<string, Omit<ReusedStep, 'rowsIn' | 'rowsOut' | 'bytes'>>;
}

export interface RerunSelection {
  /** Steps the re-run runs, in plan order. */
  run: string[];
  /** Steps it takes from earlier runs. */
  reused: Record<string, ReusedStep>;
  /** Reused steps a running step reads: their tables must still be kept. */
  needed: string[];
}

export class RerunRefusal extends Error {
  constructor(
    message: string,
    readonly status: 400 | 409,
    readonly nodeIds: string[] = [],
  ) {
    super(message);
  }
}

const STAGING = /^tr_run_/;
const DONE = new Set(['succeeded', 'reused']);

/**
 * `from` is "failed" (the steps that did not succeed) or a node id of the new plan; that start set
 * and everything downstream of it runs, and so does every step that did not succeed before, changed
 * (type, config, inputs, or a param it names), whose output was not in a staging schema, or that
 * read something outside the pipeline which changed since (`changedOutside`: a file written since).
 */
export function selectRerun(
  earlier: EarlierRun,
  plan: ExecutionPlan,
  from: string,
  changedOutside: ReadonlySet<string> = new Set(),
): RerunSelection {
  const start = new Set<string>();
  if (from === 'failed') {
    for (const step of plan.steps) {
      const before = earlier.steps[step.id]?.status;
      if (before === 'failed') start.add(step.id);
    }
    // A failed step the draft removed starts nothing, but its skipped descendants still run.
    if (!Object.values(earlier.steps).some((s) => s.status === 'failed')) {
      throw new RerunRefusal(
        `Run "${earlier.runId}" has no failed step to re-run from; name a node id in "from" instead`,
        409,
      );
    }
  } else {
    if (!plan.steps.some((s) => s.id === from)) {
      throw new RerunRefusal(
        `from: the pipeline has no node "${from}" (its nodes: ${plan.steps.map((s) => s.id).join(', ')})`,
        400,
        [from],
      );
    }
    start.add(from);
  }

  const changedParams = Object.keys({ ...plan.params, ...earlier.plan.params }).filter(
    (name) => canonicalJson(plan.params[name] ?? null) !== canonicalJson(earlier.plan.params[name] ?? null),
  );
  const oldSteps = new Map(earlier.plan.steps.map((s) => [s.id, s]));
  for (const step of plan.steps) {
    const old = oldSteps.get(step.id);
    const output = earlier.outputs[step.id];
    const reusable =
      old !== undefined &&
      DONE.has(earlier.steps[step.id]?.status ?? '') &&
      sameWork(old, step, changedParams) &&
      !changedOutside.has(step.id) &&
      output !== undefined &&
      (output.table === null || STAGING.test(output.table.schema));
    if (!reusable) start.add(step.id);
  }

  // Everything downstream of a step that runs runs too (plan order is topological).
  const runs = new Set<string>();
  for (const step of plan.steps) {
    if (start.has(step.id) || step.dependsOn.some((d) => runs.has(d))) runs.add(step.id);
  }
  const reused: Record<string, ReusedStep> = {};
  for (const step of plan.steps) {
    if (runs.has(step.id)) continue;
    const before = earlier.steps[step.id]!;
    reused[step.id] = {
      ...earlier.outputs[step.id]!,
      rowsIn: before.rowsIn,
      rowsOut: before.rowsOut,
      bytes: before.bytes,
    };
  }
  const needed = plan.steps
    .filter((s) => !runs.has(s.id) && plan.steps.some((t) => runs.has(t.id) && t.dependsOn.includes(s.id)))
    .map((s) => s.id);
  return { run: plan.steps.filter((s) => runs.has(s.id)).map((s) => s.id), reused, needed };
}

/** Whether two compiled steps make the same output from the same inputs. */
function sameWork(old: PlanStep, step: PlanStep, changedParams: string[]): boolean {
  if (old.type !== step.type || canonicalJson(old.dependsOn) !== canonicalJson(step.dependsOn)) return false;
  const config = canonicalJson(step.config);
  if (canonicalJson(old.config) !== config) return false;
  // A param's value is bound at run time: a step that names a param whose value changed differs.
  return !changedParams.some((name) => new RegExp(`params\\.${escape(name)}\\b`).test(config));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
