// Compiling a benchmark's pipeline and running it to the end through the runs client, as the API does.
import { RunsClient } from '../../engine/src/client/runs.js';
import { compile } from '../../engine/src/compiler/compile.js';
import type { PipelineInput } from '../../engine/src/model/pipeline.schema.js';
import type { ExecutionPlan } from '../../engine/src/model/plan.js';
import type { BenchStack } from './stack.js';

export function compiled(stack: BenchStack, document: PipelineInput): ExecutionPlan {
  const result = compile(document, { catalog: stack.catalog });
  if (!result.ok) throw new Error(`the bench pipeline does not compile: ${JSON.stringify(result.errors)}`);
  return result.plan;
}

/** Starts a run (on `taskQueue`, default the stack's worker) without waiting for it. */
export async function startRun(stack: BenchStack, plan: ExecutionPlan, taskQueue = stack.taskQueue) {
  const runs =
    taskQueue === stack.taskQueue ? stack.platform.runs : new RunsClient(stack.platform.temporal, taskQueue);
  const { runId } = await runs.start(plan, { trigger: { type: 'manual', actor: 'bench' } });
  return runId;
}

/** Runs the plan to its end and returns the run id; a run that does not succeed is an error. */
export async function runToEnd(stack: BenchStack, plan: ExecutionPlan, taskQueue?: string): Promise<string> {
  const runId = await startRun(stack, plan, taskQueue);
  await stack.platform.temporal.workflow.getHandle(runId).result();
  const { status } = await stack.platform.runs.get(runId);
  if (status !== 'succeeded') throw new Error(`bench run ${runId} ended ${status}`);
  return runId;
}
