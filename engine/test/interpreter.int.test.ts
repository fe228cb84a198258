// The interpreter workflow on the real dev server: DAG order, parallelism limits, retries,
// failure propagation, continueOnFailure and cancellation.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineInput } from '../src/model/pipeline.schema.js';
import { startHarness, type Harness } from './harness.js';
import { createTestSteps, testCatalog, type StepProbe } from './test-steps.js';
import { stagingSchemaFor } from '../src/model/run-ids.js';

let h: Harness;
let probe: StepProbe;
beforeAll(async () => {
  const steps = createTestSteps();
  probe = steps.probe;
  h = await startHarness({ catalog: testCatalog, extraActivities: steps.activities });
});
afterAll(async () => h?.stop());
beforeEach(() => {
  Object.assign(probe, { running: 0, maxRunning: 0, started: [], attempts: {} });
});

const fastRetry = { maxAttempts: 3, initialIntervalSeconds: 0.1, backoffCoefficient: 1 };

function pipeline(
  id: string,
  nodes: PipelineInput['nodes'],
  edges: [string, string][],
  settings = {},
): PipelineInput {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings,
    nodes: nodes.map((n) => ({ retry: fastRetry, ...n })),
    edges: edges.map(([from, to]) => ({ from, to })),
  };
}

describe('interpreter', () => {
  it('runs a diamond: both branches after the source, the join after both', async () => {
    const plan = h.plan(
      pipeline(
        'diamond',
        [
          { id: 'a', type: 'test.source', config: { sleepMs: 50 } },
          { id: 'b', type: 'test.step', config: { sleepMs: 300 } },
          { id: 'c', type: 'test.step', config: { sleepMs: 300 } },
          { id: 'd', type: 'test.step', config: {} },
        ],
        [
          ['a', 'b'],
          ['a', 'c'],
          ['b', 'd'],
          ['c', 'd'],
        ],
      ),
    );
    const { status, progress } = await h.run(plan);
    expect(status).toBe('succeeded');
    expect(probe.started[0]).toBe('a');
    expect(probe.started[3]).toBe('d');
    expect(probe.maxRunning).toBe(2); // b and c overlapped
    const steps = progress!.steps;
    expect(Date.parse(steps.d!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(steps.b!.endedAt!));
    expect(Date.parse(steps.d!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(steps.c!.endedAt!));
    expect(steps.d).toMatchObject({ status: 'succeeded', rowsIn: 2, rowsOut: 1, attempt: 1 });
  });

  it('fans out to 10 steps but never runs more than maxParallel at once', async () => {
    const leaves = Array.from({ length: 10 }, (_, i) => `leaf-${i}`);
    const plan = h.plan(
      pipeline(
        'fan-out',
        [
          { id: 'root', type: 'test.source', config: {} },
          // Long enough that three steps overlap even when each start waits for its fair-share
          // slot on a loaded machine (200 ms once saw only two at once in CI).
          ...leaves.map((id) => ({ id, type: 'test.step', config: { sleepMs: 1000 } })),
        ],
        leaves.map((id) => ['root', id] as [string, string]),
        { maxParallel: 3 },
      ),
    );
    const { status, progress } = await h.run(plan);
    expect(status).toBe('succeeded');
    expect(probe.maxRunning).toBe(3);
    expect(Object.values(progress!.steps).every((s) => s.status === 'succeeded')).toBe(true);
  });

  it('retries a transient failure and succeeds on a later attempt', async () => {
    const plan = h.plan(
      pipeline('flaky', [{ id: 'flaky', type: 'test.source', config: { failAttempts: 2 } }], []),
    );
    const { status, progress } = await h.run(plan);
    expect(status).toBe('succeeded');
    expect(progress!.steps.flaky).toMatchObject({ status: 'succeeded', attempt: 3 });
  });

  it('fails a step for good without retrying, skips its descendants and lets an independent branch finish', async () => {
    const plan = h.plan(
      pipeline(
        'broken-branch',
        [
          { id: 'src', type: 'test.source', config: {} },
          { id: 'bad', type: 'test.step', config: { failForGood: true } },
          { id: 'after-bad', type: 'test.step', config: {} },
          { id: 'good', type: 'test.step', config: { sleepMs: 300 } },
          { id: 'after-good', type: 'test.step', config: {} },
        ],
        [
          ['src', 'bad'],
          ['bad', 'after-bad'],
          ['src', 'good'],
          ['good', 'after-good'],
        ],
      ),
    );
    const { status, progress } = await h.run(plan);
    expect(status).toBe('failed');
    const steps = progress!.steps;
    expect(steps.bad).toMatchObject({ status: 'failed', attempt: 1 });
    expect(steps.bad!.error).toContain('bad data in row 7');
    expect(steps['after-bad']!.status).toBe('skipped');
    expect(steps.good!.status).toBe('succeeded');
    expect(steps['after-good']!.status).toBe('succeeded');
    expect(probe.attempts.bad).toBe(1);
  });

  it('reports the attempt that failed when retries run out', async () => {
    const plan = h.plan(
      pipeline('exhausted', [{ id: 'x', type: 'test.source', config: { failAttempts: 9 } }], []),
    );
    const { status, progress } = await h.run(plan);
    expect(status).toBe('failed');
    expect(progress!.steps.x).toMatchObject({ status: 'failed', attempt: 3 });
    expect(progress!.steps.x!.error).toContain('connection reset (attempt 3)');
  });

  it('runs the dependents of a continueOnFailure step and ends with warnings', async () => {
    const plan = h.plan(
      pipeline(
        'warned',
        [
          { id: 'src', type: 'test.source', config: {} },
          { id: 'optional', type: 'test.step', config: { failForGood: true }, continueOnFailure: true },
          { id: 'after', type: 'test.step', config: {} },
        ],
        [
          ['src', 'optional'],
          ['optional', 'after'],
        ],
      ),
    );
    const { status, progress } = await h.run(plan);
    expect(status).toBe('succeeded_with_warnings');
    expect(progress!.steps.optional!.status).toBe('failed');
    expect(progress!.steps.after!.status).toBe('succeeded');
  });

  it('cancels a run mid-way: the running step stops, pending steps are cancelled, staging is dropped', async () => {
    const plan = h.plan(
      pipeline(
        'cancel-me',
        [
          { id: 'slow', type: 'test.source', config: { sleepMs: 30_000 } },
          { id: 'next', type: 'test.step', config: {} },
        ],
        [['slow', 'next']],
      ),
    );
    const { runId } = await h.platform.runs.start(plan, { trigger: { type: 'manual', actor: 'test' } });
    await waitFor(async () => probe.running === 1);
    const before = await h.platform.runs.get(runId);
    expect(before.progress?.steps.slow?.status).toBe('running');
    await h.platform.runs.cancel(runId, 'alice', 'changed my mind');
    await h.platform.temporal.workflow
      .getHandle(runId)
      .result()
      .catch(() => {});
    const detail = await h.platform.runs.get(runId);
    expect(detail.status).toBe('cancelled');
    expect(detail.progress?.steps.slow!.status).toBe('cancelled');
    expect(detail.progress?.steps.next!.status).toBe('cancelled');
    await waitFor(async () => probe.running === 0);
    const schema = stagingSchemaFor(runId, 'cancel-me');
    const found = await h.platform.warehousePool.query('select 1 from pg_namespace where nspname = $1', [
      schema,
    ]);
    expect(found.rowCount).toBe(0);
  });
});

describe('concurrency policies', () => {
  const slowPipeline = (id: string, concurrency: 'allow' | 'queue' | 'skip') =>
    h.plan(
      pipeline(id, [{ id: 'work', type: 'test.source', config: { sleepMs: 1_500 } }], [], { concurrency }),
    );

  async function twoRuns(id: string, concurrency: 'allow' | 'queue') {
    const plan = slowPipeline(id, concurrency);
    const first = await h.platform.runs.start(plan, { trigger: { type: 'api', actor: 'test' } });
    const second = await h.platform.runs.start(plan, { trigger: { type: 'api', actor: 'test' } });
    await Promise.all([first, second].map((r) => h.platform.temporal.workflow.getHandle(r.runId).result()));
    const [a, b] = await Promise.all([first, second].map((r) => h.platform.runs.get(r.runId)));
    return [a!.progress!.steps.work!, b!.progress!.steps.work!];
  }

  it('allow: a second run runs alongside the first', async () => {
    const [a, b] = await twoRuns('policy-allow', 'allow');
    expect(probe.maxRunning).toBe(2);
    expect(Date.parse(b!.startedAt!)).toBeLessThan(Date.parse(a!.endedAt!));
  });

  it('queue: a second run waits until the first has ended', async () => {
    const [a, b] = await twoRuns('policy-queue', 'queue');
    expect(probe.maxRunning).toBe(1);
    // Either may get the lock first (both asked at once); what matters is that they never overlap.
    const [earlier, later] = Date.parse(a!.startedAt!) < Date.parse(b!.startedAt!) ? [a!, b!] : [b!, a!];
    expect(Date.parse(later.startedAt!)).toBeGreaterThanOrEqual(Date.parse(earlier.endedAt!));
  });

  it('skip: a second run is refused while one is in flight, with a clear error', async () => {
    const plan = slowPipeline('policy-skip', 'skip');
    const first = await h.platform.runs.start(plan, { trigger: { type: 'api', actor: 'test' } });
    await waitFor(
      async () =>
        (await h.platform.runs.list({ pipelineId: 'policy-skip', status: 'running' })).runs.length === 1,
    );
    await expect(h.platform.runs.start(plan, { trigger: { type: 'api', actor: 'test' } })).rejects.toThrow(
      /already has a run in flight .* "skip"/,
    );
    await h.platform.temporal.workflow.getHandle(first.runId).result();
    const again = await h.platform.runs.start(plan, { trigger: { type: 'api', actor: 'test' } });
    expect(again.runId).not.toBe(first.runId);
    await h.platform.temporal.workflow.getHandle(again.runId).result();
  });

  it('returns the same run for the same idempotency key', async () => {
    const plan = h.plan(pipeline('idempotent', [{ id: 'work', type: 'test.source', config: {} }], []));
    const a = await h.platform.runs.start(plan, {
      trigger: { type: 'api', actor: 'test' },
      idempotencyKey: 'order-42',
    });
    const b = await h.platform.runs.start(plan, {
      trigger: { type: 'api', actor: 'test' },
      idempotencyKey: 'order-42',
    });
    expect(a).toEqual({ runId: b.runId, created: true });
    expect(b.created).toBe(false);
    await h.platform.temporal.workflow.getHandle(a.runId).result();
    const c = await h.platform.runs.start(plan, {
      trigger: { type: 'api', actor: 'test' },
      idempotencyKey: 'order-42',
    });
    expect(c).toEqual({ runId: a.runId, created: false });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}
