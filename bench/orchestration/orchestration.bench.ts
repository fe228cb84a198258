// orchestration: 100 no-op steps as a chain and as a fan-out through Tributary (compiled plan,
// interpreter, lifecycle activities) against a hand-written Temporal workflow calling the same
// no-op activity the same way, interleaved. The figure is the whole run divided by its steps.
import type { Benchmark } from '../lib/bench.js';
import type { Figure } from '../lib/figures.js';
import { interleaved, timed } from '../lib/measure.js';
import { compiled, runToEnd } from '../lib/pipelines.js';
import type { PipelineInput } from '../../engine/src/model/pipeline.schema.js';

const STEPS = 100;
const MAX_PARALLEL = 32;

function shape(kind: 'chain' | 'fan-out'): PipelineInput {
  const ids = Array.from({ length: STEPS }, (_, i) => `s${i}`);
  return {
    apiVersion: 'tributary/v1',
    id: `bench-${kind}`,
    name: `bench ${kind}`,
    settings: { maxParallel: MAX_PARALLEL },
    nodes: ids.map((id, i) => ({ id, type: i === 0 ? 'bench.source' : 'bench.step', config: {} })),
    edges: ids.slice(1).map((id, i) => ({ from: kind === 'chain' ? ids[i]! : ids[0]!, to: id })),
  };
}

export const orchestrationBench: Benchmark = {
  name: 'orchestration',
  async run(getStack) {
    const stack = await getStack();
    const figures: Figure[] = [];
    for (const kind of ['chain', 'fan-out'] as const) {
      const plan = compiled(stack, shape(kind));
      let n = 0;
      const { ours, baseline } = await interleaved(
        () => timed(() => runToEnd(stack, plan)),
        () =>
          timed(() =>
            stack.platform.temporal.workflow.execute(kind === 'chain' ? 'baselineChain' : 'baselineFanOut', {
              taskQueue: stack.taskQueue,
              workflowId: `baseline-${kind}-${Date.now()}-${n++}`,
              args: kind === 'chain' ? [STEPS] : [STEPS, MAX_PARALLEL],
            }),
          ),
      );
      const perStep = (ms: number) => ms / STEPS;
      figures.push({
        bench: 'orchestration',
        name: `${kind}, ${STEPS} no-op steps${kind === 'fan-out' ? ` (${MAX_PARALLEL} parallel)` : ''}`,
        unit: 'ms/step',
        ours: ours.map(perStep),
        baselineName: 'hand-written workflow',
        baseline: baseline.map(perStep),
        goal: { kind: 'at-most-ratio', ratio: 1.15 },
      });
    }
    return { figures, notes: [] };
  },
};
