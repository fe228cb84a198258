// Orchestration overhead: 100 no-op steps as a chain and as a fan-out, through Tributary (compile,
// interpreter, lifecycle activities) against a hand-written Temporal workflow calling the same no-op
// activity the same way. Prints ms per step for both and the ratio.
import { compile } from '../../engine/src/compiler/compile.js';
import type { PipelineInput } from '../../engine/src/model/pipeline.schema.js';
import type { BenchStack } from '../lib/stack.js';

const STEPS = 100;
const MAX_PARALLEL = 32;
const REPEATS = 3;

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

async function timeIt(run: () => Promise<unknown>): Promise<number> {
  const best: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    await run();
    best.push(performance.now() - started);
  }
  return Math.min(...best);
}

export async function orchestrationBench(stack: BenchStack): Promise<string[]> {
  const lines: string[] = [];
  for (const kind of ['chain', 'fan-out'] as const) {
    const compiled = compile(shape(kind), { catalog: stack.catalog });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
    const tributaryMs = await timeIt(async () => {
      const { runId } = await stack.platform.runs.start(compiled.plan, {
        trigger: { type: 'manual', actor: 'bench' },
      });
      await stack.platform.temporal.workflow.getHandle(runId).result();
    });
    const baselineMs = await timeIt(() =>
      stack.platform.temporal.workflow.execute(kind === 'chain' ? 'baselineChain' : 'baselineFanOut', {
        taskQueue: stack.taskQueue,
        workflowId: `baseline-${kind}-${Date.now()}`,
        args: kind === 'chain' ? [STEPS] : [STEPS, MAX_PARALLEL],
      }),
    );
    lines.push(
      `orchestration ${kind.padEnd(7)} ${STEPS} steps: tributary ${(tributaryMs / STEPS).toFixed(1)} ms/step, ` +
        `hand-written ${(baselineMs / STEPS).toFixed(1)} ms/step, ratio ${(tributaryMs / baselineMs).toFixed(2)}x ` +
        `(best of ${REPEATS})`,
    );
  }
  return lines;
}
