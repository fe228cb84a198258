// The trigger benchmark's baseline, in a process of its own like autocannon is: starts the same
// interpreter workflow with the same input and search attributes straight through the Temporal
// client, from N concurrent loops for S seconds, and prints {"started", "seconds", "p50", "p99"}.
// Usage: bare-starter.ts <temporal address> <task queue> <plan.json> <connections> <seconds>
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { runIdFor } from '../../engine/src/model/run-ids.js';
import { runStartOptions } from '../../engine/src/client/runs.js';
import { INTERPRETER_WORKFLOW } from '../../engine/src/model/run-contract.js';
import type { ExecutionPlan } from '../../engine/src/model/plan.js';

const [address, taskQueue, planFile, connections, seconds] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile!, 'utf8')) as ExecutionPlan;
const connection = await Connection.connect({ address: address! });
const client = new Client({ connection, namespace: 'default' });

const latencies: number[] = [];
const started = performance.now();
const deadline = started + Number(seconds) * 1000;
const loop = async () => {
  while (performance.now() < deadline) {
    const t = performance.now();
    await client.workflow.start(INTERPRETER_WORKFLOW, {
      ...runStartOptions(plan, { type: 'api', actor: 'bench' }, taskQueue!),
      workflowId: runIdFor(plan.pipelineId),
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    latencies.push(performance.now() - t);
  }
};
await Promise.all(Array.from({ length: Number(connections) }, loop));
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
process.stdout.write(
  JSON.stringify({ started: latencies.length, seconds: elapsed, p50: at(0.5), p99: at(0.99) }),
);
await connection.close();
