// Records workflow histories for the replay test. Run it when a release ships (or when a new
// interpreter feature needs covering; see README.md here): `npx tsx engine/test/histories/record.ts`.
// It starts throwaway servers, runs representative pipelines (one of them started by a Temporal
// Schedule, one queued behind a pipeline lock, one re-run reusing a failed run's step), and writes
// one JSON history per run here. Names given as arguments record only those histories.
// After that, any change to the interpreter that is not replay-safe fails `npm test`.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '../../src/compiler/compile.js';
import { parseEnv } from '../../src/config/env.js';
import { createLogger, silentLogger } from '../../src/infra/logger.js';
import type { PipelineInput } from '../../src/model/pipeline.schema.js';
import { RunsClient } from '../../src/client/runs.js';
import { connectPlatform, startInfrastructure } from '../../src/platform.js';
import { scheduleAction } from '../../src/schedules/schedule-service.js';
import { createWorker } from '../../src/worker/worker.js';
import { stagingSchemaFor } from '../../src/model/run-ids.js';
import { createTestSteps, testCatalog } from '../test-steps.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const fast = { maxAttempts: 3, initialIntervalSeconds: 0.1, backoffCoefficient: 1 };
const scenarios: Record<string, PipelineInput> = {
  'diamond-with-warning': {
    apiVersion: 'tributary/v1',
    id: 'replay-diamond',
    name: 'Diamond with a warning',
    settings: { maxParallel: 2 },
    nodes: [
      { id: 'numbers', type: 'source.generate', config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] } },
      { id: 'flaky', type: 'test.step', config: { failAttempts: 1 }, retry: fast },
      { id: 'optional', type: 'test.step', config: { failForGood: true }, continueOnFailure: true, retry: fast },
      { id: 'join', type: 'test.step', config: {}, retry: fast },
    ],
    edges: [
      { from: 'numbers', to: 'flaky' },
      { from: 'numbers', to: 'optional' },
      { from: 'flaky', to: 'join' },
      { from: 'optional', to: 'join' },
    ],
  },
  'failure-skips-descendants': {
    apiVersion: 'tributary/v1',
    id: 'replay-failure',
    name: 'A failure skips descendants',
    nodes: [
      { id: 'src', type: 'test.source', config: {} },
      { id: 'bad', type: 'test.step', config: { failForGood: true }, retry: fast },
      { id: 'after', type: 'test.step', config: {} },
    ],
    edges: [
      { from: 'src', to: 'bad' },
      { from: 'bad', to: 'after' },
    ],
  },
  // patched('step-input-rows'): the source reports its table's row count, the one step reading it
  // gets the count in its input (inputRows); a second reader's input would not.
  'input-rows': {
    apiVersion: 'tributary/v1',
    id: 'replay-input-rows',
    name: 'Row counts handed on',
    nodes: [
      { id: 'src', type: 'test.source', config: { rows: 3, tableRows: 3 } },
      { id: 'only', type: 'test.step', config: {} },
    ],
    edges: [{ from: 'src', to: 'only' }],
  },
  // Routes (patched('flow-routes')): a decision on a failed step, a switch by row count, a failure output.
  'flow-routes': {
    apiVersion: 'tributary/v1',
    id: 'replay-routes',
    name: 'Routes',
    settings: { maxParallel: 2 },
    nodes: [
      { id: 'numbers', type: 'source.generate', config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] } },
      { id: 'bad', type: 'test.step', config: { failForGood: true }, retry: fast },
      { id: 'check', type: 'flow.if', config: { condition: "steps.bad.status == 'failed'" } },
      { id: 'alert', type: 'test.step', config: {} },
      { id: 'quiet', type: 'test.step', config: {} },
      { id: 'cleanup', type: 'test.step', config: {} },
      { id: 'route', type: 'flow.switch', config: { cases: [{ name: 'many', when: 'steps.numbers.rowsOut > 2' }] } },
      { id: 'many', type: 'test.step', config: {} },
      { id: 'few', type: 'test.step', config: {} },
    ],
    edges: [
      { from: 'numbers', to: 'bad' },
      { from: 'bad', to: 'check' },
      { from: 'check', to: 'alert', output: 'true' },
      { from: 'check', to: 'quiet', output: 'false' },
      { from: 'bad', to: 'cleanup', output: 'failure' },
      { from: 'numbers', to: 'route' },
      { from: 'route', to: 'many', output: 'many' },
      { from: 'route', to: 'few', output: 'default' },
    ],
  },
  // patched('plan-parsed-config'): the plan names the schema each type's configs were parsed with,
  // and each step is sent that digest, so it uses its config without parsing it again.
  'parsed-config': {
    apiVersion: 'tributary/v1',
    id: 'replay-parsed-config',
    name: 'Configs parsed at compile',
    nodes: [
      { id: 'numbers', type: 'source.generate', config: { rows: 2, columns: [{ name: 'n', generator: 'sequence' }] } },
      { id: 'step', type: 'test.step', config: {} },
    ],
    edges: [{ from: 'numbers', to: 'step' }],
  },
  'queued-run': {
    apiVersion: 'tributary/v1',
    id: 'replay-queued',
    name: 'Queued',
    settings: { concurrency: 'queue' },
    nodes: [{ id: 'only', type: 'test.source', config: { sleepMs: 200 } }],
    edges: [],
  },
};

const scheduledScenario: PipelineInput = {
  apiVersion: 'tributary/v1',
  id: 'replay-scheduled',
  name: 'Scheduled',
  params: { day: { type: 'date', default: '2026-01-01' } },
  nodes: [
    { id: 'src', type: 'test.source', config: {} },
    { id: 'step', type: 'test.step', config: {} },
  ],
  edges: [{ from: 'src', to: 'step' }],
};

const only = process.argv.slice(2);
// The diamond again, with the project's fair share in the plan (patched('project-fair-share')):
// every step takes and gives back a slot of the project's semaphore. maxParallel 2 of a share of 1
// is capped to 1, so the two branches wait for each other's slot.
scenarios['fair-share'] = { ...scenarios['diamond-with-warning']!, id: 'replay-fair-share' };

// The diamond with a share of 2 (patched('fair-share-lanes')): slots asked for through a local
// activity, a step's slot kept for the run's next step, slots nobody takes given back.
scenarios['fair-share-lanes'] = { ...scenarios['diamond-with-warning']!, id: 'replay-fair-share-lanes' };

// One request for several slots (patched('slots-batch')): with a share of 3, the source's slot goes
// to the first of three branches, the other two ask together and are granted in one signal, the join
// takes a kept slot, and the slots still kept at the end go back in one local activity.
scenarios['slots-batch'] = {
  apiVersion: 'tributary/v1',
  id: 'replay-slots-batch',
  name: 'Slots asked for together',
  settings: { maxParallel: 3 },
  nodes: [
    { id: 'numbers', type: 'source.generate', config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] } },
    { id: 'a', type: 'test.step', config: {} },
    { id: 'b', type: 'test.step', config: {} },
    { id: 'c', type: 'test.step', config: {} },
    { id: 'join', type: 'test.step', config: {} },
  ],
  edges: [
    { from: 'numbers', to: 'a' },
    { from: 'numbers', to: 'b' },
    { from: 'numbers', to: 'c' },
    { from: 'a', to: 'join' },
    { from: 'b', to: 'join' },
    { from: 'c', to: 'join' },
  ],
};

const wanted = (name: string) => only.length === 0 || only.includes(name);

const home = mkdtempSync(path.join(os.tmpdir(), 'tributary-record-'));
chmodSync(home, 0o755); // the embedded Postgres runs as the postgres user and must reach it
const env = parseEnv({ TRIBUTARY_HOME: home, PATH: process.env.PATH, TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH });
const infra = await startInfrastructure(env, createLogger('warn'), {
  ephemeral: true,
  binCacheDir: path.resolve('.tributary', 'bin'),
});
try {
  const taskQueue = 'record-histories';
  const platform = await connectPlatform({
    databaseUrl: infra.postgres.url,
    warehouseUrl: infra.postgres.warehouseUrl,
    temporalAddress: infra.temporal.address,
    namespace: 'default',
    taskQueue,
    masterKey: Buffer.alloc(32, 1),
  });
  mkdirSync(path.join(home, 'files'), { recursive: true });
  const { worker, connection } = await createWorker({
    temporalAddress: infra.temporal.address,
    namespace: 'default',
    taskQueue,
    warehouse: platform.warehousePool,
    runner: platform.runnerPool,
    platform: platform.platformPool,
    temporal: platform.temporal,
    secrets: () => ({ resolve: () => Promise.reject(new Error('no secrets here')) }),
    dataDir: path.join(home, 'files'),
    log: silentLogger,
    extraActivities: createTestSteps().activities,
  });
  await worker.runUntil(async () => {
    for (const [name, document] of Object.entries(scenarios)) {
      if (!wanted(name)) continue;
      const result = compile(document, { catalog: testCatalog });
      if (!result.ok) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
      // A share of 1 makes the fair-share history's steps queue for each other's slot; 2 lets the
      // lanes history run its two branches at once, 3 the slots-batch history its three.
      const shares: Record<string, number> = { 'fair-share': 1, 'fair-share-lanes': 2, 'slots-batch': 3 };
      const runs =
        name in shares
          ? new RunsClient(platform.temporal, taskQueue, undefined, {
              maxStepTimeoutSeconds: 21_600,
              projectMaxActivities: shares[name]!,
            })
          : platform.runs;
      const { runId } = await runs.start(result.plan, { trigger: { type: 'manual', actor: 'recorder' } });
      const handle = platform.temporal.workflow.getHandle(runId);
      await handle.result().catch(() => {});
      const history = await handle.fetchHistory();
      writeFileSync(path.join(HERE, `${name}.json`), JSON.stringify(history, null, 1));
      process.stdout.write(`recorded ${name} (${history.events?.length} events)\n`);
    }

    // A re-run (patched('rerun-reuse')): the failing pipeline fixed, started from its failed step,
    // with the source taken from the failed run instead of run again.
    if (wanted('rerun-reuses-source')) {
      const failing = scenarios['failure-skips-descendants']!;
      const failed = compile(failing, { catalog: testCatalog });
      const fixed = compile(
        { ...failing, nodes: failing.nodes.map((n) => (n.id === 'bad' ? { ...n, config: {} } : n)) },
        { catalog: testCatalog },
      );
      if (!failed.ok || !fixed.ok) throw new Error('rerun-reuses-source: the scenario does not compile');
      const first = await platform.runs.start(failed.plan, { trigger: { type: 'manual', actor: 'recorder' } });
      await platform.temporal.workflow.getHandle(first.runId).result().catch(() => {});
      const { runId } = await platform.runs.start(fixed.plan, {
        trigger: { type: 'manual', actor: 'recorder' },
        rerun: {
          runId: first.runId,
          from: 'failed',
          reused: {
            src: {
              runId: first.runId,
              table: { schema: stagingSchemaFor(first.runId, failing.id), table: 'src' },
              rowsIn: 0,
              rowsOut: 1,
              bytes: 0,
            },
          },
        },
      });
      const handle = platform.temporal.workflow.getHandle(runId);
      await handle.result().catch(() => {});
      const history = await handle.fetchHistory();
      writeFileSync(path.join(HERE, 'rerun-reuses-source.json'), JSON.stringify(history, null, 1));
      process.stdout.write(`recorded rerun-reuses-source (${history.events?.length} events)\n`);
    }

    // A scheduled run: started by a Temporal Schedule with the action the API gives schedules, so
    // its id carries Temporal's scheduled time and its trigger is the schedule.
    if (!wanted('scheduled-run')) return;
    const scheduled = compile(scheduledScenario, { catalog: testCatalog });
    if (!scheduled.ok) throw new Error(`scheduled-run: ${JSON.stringify(scheduled.errors)}`);
    const schedule = await platform.temporal.schedule.create({
      scheduleId: 'record-scheduled-run',
      spec: { intervals: [{ every: '1 day' }] },
      action: scheduleAction(scheduled.plan, taskQueue),
    });
    await schedule.trigger();
    let workflowId: string | undefined;
    for (let i = 0; i < 100 && !workflowId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      workflowId = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow.workflowId;
    }
    if (!workflowId) throw new Error('scheduled-run: the schedule started no run');
    const run = platform.temporal.workflow.getHandle(workflowId);
    await run.result().catch(() => {});
    const history = await run.fetchHistory();
    await schedule.delete();
    writeFileSync(path.join(HERE, 'scheduled-run.json'), JSON.stringify(history, null, 1));
    process.stdout.write(`recorded scheduled-run (${history.events?.length} events)\n`);
  });
  await connection.close();
  await platform.close();
} finally {
  await infra.stop();
  rmSync(home, { recursive: true, force: true });
}
