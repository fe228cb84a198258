// Durability: a worker killed with SIGKILL in the middle of a step loses nothing. A new worker
// picks the run up, retries the interrupted step, and the run ends with the right result.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { connectPlatform, type Platform } from '../src/platform.js';
import { compile } from '../src/compiler/compile.js';
import { TEST_MASTER_KEY } from './harness.js';
import { testCatalog } from './test-steps.js';
import { stagingSchemaFor } from '../src/model/run-ids.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./fixtures/worker-process.ts', import.meta.url));
const taskQueue = `durability-${process.pid}`;
let platform: Platform;
const children: ChildProcess[] = [];

function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      DATABASE_URL: inject('databaseUrl'),
      WAREHOUSE_URL: inject('warehouseUrl'),
      TASK_QUEUE: taskQueue,
      DATA_DIR: path.join(inject('tributaryHome'), 'files'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker process exited early with code ${code}`)));
  });
}

beforeAll(async () => {
  platform = await connectPlatform({
    databaseUrl: inject('databaseUrl'),
    warehouseUrl: inject('warehouseUrl'),
    temporalAddress: inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    masterKey: TEST_MASTER_KEY,
  });
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await platform?.close();
});

describe('durability', () => {
  it('finishes a run whose worker was killed with SIGKILL while a step ran', async () => {
    const result = compile(
      {
        apiVersion: 'tributary/v1',
        id: 'survives-kill',
        name: 'Survives a kill',
        settings: { keepStaging: true },
        nodes: [
          {
            id: 'numbers',
            type: 'source.generate',
            config: { rows: 5, columns: [{ name: 'n', generator: 'sequence' }] },
          },
          {
            id: 'slow',
            type: 'test.step',
            config: { sleepMs: 4_000 },
            retry: { maxAttempts: 3, initialIntervalSeconds: 0.1 },
          },
        ],
        edges: [{ from: 'numbers', to: 'slow' }],
      },
      { catalog: testCatalog },
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    // A short heartbeat timeout lets the server notice the dead worker within seconds.
    const plan = {
      ...result.plan,
      steps: result.plan.steps.map((s) => ({ ...s, heartbeatTimeoutSeconds: 2 })),
    };

    const first = await startWorker();
    const { runId } = await platform.runs.start(plan, { trigger: { type: 'manual', actor: 'test' } });
    const deadline = Date.now() + 30_000;
    while ((await platform.runs.get(runId)).progress?.steps.slow?.status !== 'running') {
      if (Date.now() > deadline) throw new Error('the slow step never started');
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    await startWorker();
    await platform.temporal.workflow.getHandle(runId).result();
    const detail = await platform.runs.get(runId);
    expect(detail.status).toBe('succeeded');
    expect(detail.progress?.steps.numbers).toMatchObject({ status: 'succeeded', rowsOut: 5, attempt: 1 });
    expect(detail.progress?.steps.slow).toMatchObject({ status: 'succeeded', attempt: 2 });
    const schema = stagingSchemaFor(runId, 'survives-kill');
    const rows = await platform.warehousePool.query(`select count(*)::int as n from "${schema}".numbers`);
    expect(rows.rows[0].n).toBe(5);
  });
});
