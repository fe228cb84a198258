import { describe, expect, it } from 'vitest';
import type { ExecutionPlan, PlanStep, StepProgress } from '../model/plan.js';
import { RerunRefusal, selectRerun, type EarlierRun } from './rerun-plan.js';

const step = (id: string, dependsOn: string[] = [], config: Record<string, unknown> = {}): PlanStep => ({
  id,
  type: dependsOn.length ? 'transform.sql' : 'source.generate',
  kind: dependsOn.length ? 'transform' : 'source',
  name: id,
  config,
  dependsOn,
  retry: { maximumAttempts: 1, initialIntervalMs: 1, backoffCoefficient: 1, maximumIntervalMs: 1 },
  timeoutSeconds: 1,
  heartbeatTimeoutSeconds: 1,
  statementTimeoutSeconds: 1,
  continueOnFailure: false,
});

const plan = (steps: PlanStep[], params: ExecutionPlan['params'] = {}): ExecutionPlan => ({
  apiVersion: 'tributary/plan-v1',
  pipelineId: 'p',
  project: 'default',
  pipelineVersion: 1,
  versionHash: 'h',
  params,
  sensitiveParams: [],
  maxParallel: 4,
  concurrency: 'allow',
  keepStaging: false,
  steps,
});

const progress = (status: StepProgress['status']): StepProgress => ({
  status,
  attempt: 1,
  startedAt: null,
  endedAt: null,
  rowsIn: 1,
  rowsOut: 2,
  bytes: 3,
  error: null,
});

// a → b → c, and a → d; b failed, so c was skipped.
const steps = [
  step('a'),
  step('b', ['a'], { sql: 'x' }),
  step('c', ['b']),
  step('d', ['a'], { sql: '{{ params.n }}' }),
];
const earlier: EarlierRun = {
  runId: 'run-p-old',
  plan: plan(steps, { n: 1 }),
  steps: {
    a: progress('succeeded'),
    b: progress('failed'),
    c: progress('skipped'),
    d: progress('succeeded'),
  },
  outputs: {
    a: { runId: 'run-p-older', table: { schema: 'tr_run_older', table: 'a' } },
    d: { runId: 'run-p-old', table: { schema: 'tr_run_old', table: 'd' } },
  },
};

describe('selectRerun', () => {
  it('runs the failed steps and what is downstream, and reuses the rest from the run that made it', () => {
    const selection = selectRerun(earlier, plan(steps, { n: 1 }), 'failed');
    expect(selection.run).toEqual(['b', 'c']);
    expect(selection.reused).toEqual({
      a: {
        runId: 'run-p-older',
        table: { schema: 'tr_run_older', table: 'a' },
        rowsIn: 1,
        rowsOut: 2,
        bytes: 3,
      },
      d: { runId: 'run-p-old', table: { schema: 'tr_run_old', table: 'd' }, rowsIn: 1, rowsOut: 2, bytes: 3 },
    });
    // Only a's table is read by a step that runs.
    expect(selection.needed).toEqual(['a']);
  });

  it('runs a changed step and its descendants, and a step naming a param whose value changed', () => {
    const changed = [step('a'), step('b', ['a'], { sql: 'y' }), step('c', ['b']), steps[3]!];
    expect(selectRerun(earlier, plan(changed, { n: 2 }), 'failed').run).toEqual(['b', 'c', 'd']);
  });

  it('starts from a node, which also runs what did not succeed before', () => {
    expect(selectRerun(earlier, plan(steps, { n: 1 }), 'd').run).toEqual(['b', 'c', 'd']);
  });

  it('does not reuse an output outside a staging schema', () => {
    const elsewhere = {
      ...earlier,
      outputs: { ...earlier.outputs, a: { runId: 'x', table: { schema: 'public', table: 't' } } },
    };
    expect(selectRerun(elsewhere, plan(steps, { n: 1 }), 'failed').run).toEqual(['a', 'b', 'c', 'd']);
  });

  it('refuses a node the plan lacks (400) and "failed" for a run without failures (409)', () => {
    expect(() => selectRerun(earlier, plan(steps), 'zzz')).toThrow(RerunRefusal);
    const ok = {
      ...earlier,
      steps: { ...earlier.steps, b: progress('succeeded'), c: progress('succeeded') },
    };
    try {
      selectRerun(ok, plan(steps), 'failed');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RerunRefusal);
      expect((error as RerunRefusal).status).toBe(409);
    }
  });
});
