// recovery: seconds from SIGKILL of the worker running a long step to that step running again on
// another worker. Each round: a worker child process runs a heartbeating step; it is killed; a new
// worker process is started at once; the step's pending activity is watched (describe) until its
// next attempt has started. The baseline is the heartbeat timeout the step runs with: the server
// cannot know the worker died sooner. The step then waits the retry interval (1 s) too.
import proto from '@temporalio/proto';
import type { Benchmark } from '../lib/bench.js';
import { timestampMs } from '../lib/history.js';
import { repeated, timed } from '../lib/measure.js';
import { compiled, startRun } from '../lib/pipelines.js';
import type { BenchStack } from '../lib/stack.js';
import { startWorkerProcess, type WorkerProcess } from '../lib/worker-process.js';

const TASK_QUEUE = 'bench-recovery';
// The product's default is 60 s (STEP_DEFAULTS); the bench sets its plan's step to a shorter one so a
// round takes seconds, not a minute. What is measured is how far above it recovery lands.
const HEARTBEAT_SECONDS = Number(process.env.BENCH_RECOVERY_HEARTBEAT_SECONDS ?? 10);
const STEP = 'long';
const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/** Polls the run's pending step until `attempt` of it has started; returns when the server says it did. */
async function attemptStarted(stack: BenchStack, runId: string, attempt: number): Promise<number> {
  const handle = stack.platform.temporal.workflow.getHandle(runId);
  const deadline = Date.now() + 10 * HEARTBEAT_SECONDS * 1000;
  while (Date.now() < deadline) {
    // The step's activity, not the run's lifecycle activities around it.
    const pending = (await handle.describe()).raw.pendingActivities?.find((a) => a.activityId === STEP);
    if (pending && pending.state === STARTED && (pending.attempt ?? 0) >= attempt)
      return timestampMs(pending.lastStartedTime);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`attempt ${attempt} of run ${runId} did not start`);
}

export const recoveryBench: Benchmark = {
  name: 'recovery',
  async run(getStack) {
    const stack = await getStack();
    const plan = compiled(stack, {
      apiVersion: 'tributary/v1',
      id: 'bench-recovery',
      name: 'bench recovery',
      nodes: [{ id: STEP, type: 'bench.sleep', config: { seconds: 600 } }],
    });
    plan.steps[0]!.heartbeatTimeoutSeconds = HEARTBEAT_SECONDS;
    const readySeconds: number[] = [];
    let worker: WorkerProcess = await startWorkerProcess(stack, TASK_QUEUE);
    try {
      const rounds = await repeated(async () => {
        const runId = await startRun(stack, plan, TASK_QUEUE);
        await attemptStarted(stack, runId, 1);
        await worker.kill('SIGKILL');
        const killedAt = Date.now();
        let replacement: WorkerProcess | undefined;
        readySeconds.push(
          (await timed(async () => (replacement = await startWorkerProcess(stack, TASK_QUEUE)))) / 1000,
        );
        worker = replacement!;
        const restartedAt = await attemptStarted(stack, runId, 2);
        await stack.platform.temporal.workflow.getHandle(runId).terminate('recovery bench round done');
        return (restartedAt - killedAt) / 1000;
      });
      return {
        figures: [
          {
            bench: 'recovery',
            name: 'worker SIGKILL -> step running again',
            unit: 's',
            ours: rounds,
            baselineName: 'heartbeat timeout',
            baseline: [HEARTBEAT_SECONDS],
            goal: { kind: 'none', note: '≈ heartbeat timeout + 1 s retry' },
          },
          {
            bench: 'recovery',
            name: 'replacement worker process ready',
            unit: 's',
            ours: readySeconds.slice(1), // the warm-up round's
            baselineName: '–',
            baseline: [],
            goal: { kind: 'none', note: 'overlaps the timeout' },
          },
        ],
        notes: [
          `recovery: the step runs with a ${HEARTBEAT_SECONDS} s heartbeat timeout (BENCH_RECOVERY_HEARTBEAT_SECONDS; product default 60 s)`,
        ],
      };
    } finally {
      await worker.kill('SIGKILL');
    }
  },
};
