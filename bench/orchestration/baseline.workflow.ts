// The benchmark's baseline: what a developer would hand-write in Temporal to run N no-op steps as a
// chain or a fan-out, with the same activity options Tributary uses. Sandbox code.
import { proxyActivities } from '@temporalio/workflow';

export { pipelineLock, pipelineRun } from '../../engine/src/workflows/index.js';

type Noop = (input: { nodeId: string }) => Promise<unknown>;

const { noop } = proxyActivities<{ noop: Noop }>({
  startToCloseTimeout: '3600s',
  heartbeatTimeout: '60s',
  retry: { maximumAttempts: 3, initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 60_000 },
});

export async function baselineChain(steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) await noop({ nodeId: `step-${i}` });
}

/** A run's fixed cost compared: two steps, one after the other, and nothing else. */
export async function baselineTwoSteps(): Promise<void> {
  await noop({ nodeId: 'step-0' });
  await noop({ nodeId: 'step-1' });
}

/** The same shape as the pipeline it is compared with: one source step, then the rest fanned out. */
export async function baselineFanOut(steps: number, maxParallel: number): Promise<void> {
  await noop({ nodeId: 'step-0' });
  let next = 1;
  const lane = async () => {
    while (next < steps) await noop({ nodeId: `step-${next++}` });
  };
  await Promise.all(Array.from({ length: Math.min(maxParallel, steps - 1) }, lane));
}
