// Scenario (a), and (f) when FAULTS_REPEAT > 1: the worker is SIGKILLed while the load step runs,
// then again while the sinks publish; a new worker is started each time; the run completes and
// each target holds exactly the file's rows (append, replace, upsert). The seconds from each kill
// to the step running again on the new worker are measured and reported: the promise is ~15 s
// (10 s heartbeat timeout + 1 s retry), checked here only against a generous 30 s sanity bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultStack, type FaultStack } from './fault-stack.js';
import {
  createPipeline,
  exactly,
  MODES,
  onWorker,
  pendingSteps,
  REPEAT,
  report,
  ROWS,
  runResult,
  sleep,
  startRun,
  targetState,
  waitForRunning,
  writeCsv,
  loadPipeline,
  type Expected,
} from './fault-kit.js';

let stack: FaultStack;
let expected: Expected;
const recoveries: { round: number; step: string; seconds: number; workerReady: number }[] = [];
const divergences: string[] = [];

beforeAll(async () => {
  stack = await startFaultStack();
  expected = await writeCsv(stack.dataDir, 'faults/rows.csv');
  await stack.startWorker();
});
afterAll(async () => {
  if (recoveries.length) {
    const seconds = recoveries.map((r) => r.seconds);
    report(
      `worker kill → step running again on the new worker: ${recoveries.map((r) => `${r.step}#${r.round} ${r.seconds.toFixed(1)} s (new worker polling after ${r.workerReady.toFixed(1)} s)`).join(', ')}; ` +
        `max ${Math.max(...seconds).toFixed(1)} s, mean ${(seconds.reduce((a, b) => a + b, 0) / seconds.length).toFixed(1)} s (${ROWS} rows, ${REPEAT} round(s))`,
    );
  }
  report(`divergences over ${REPEAT} round(s): ${divergences.length ? divergences.join('; ') : 'none'}`);
  await stack?.stop();
});

/** SIGKILLs the worker running `stepId`, starts a new one, and measures until the step runs there. */
async function killDuring(runId: string, round: number, stepIds: string[]): Promise<string> {
  const current = stack.workers.at(-1)!;
  await Promise.any(stepIds.map((id) => waitForRunning(stack.temporal, runId, id, onWorker(current.pid))));
  // Into the step's work (the COPY, the publish), not its first instant.
  await sleep(100);
  const running = (await pendingSteps(stack.temporal, runId)).find(
    (s) => stepIds.includes(s.activityId) && s.state === 2 && onWorker(current.pid)(s),
  );
  expect(
    running,
    `one of ${stepIds.join(', ')} still running at the kill (raise FAULTS_ROWS if not)`,
  ).toBeDefined();
  if (!running) throw new Error('unreachable');
  const killedAt = Date.now();
  await current.kill('SIGKILL');
  const next = await stack.startWorker();
  const workerReady = (Date.now() - killedAt) / 1000;
  const again = await waitForRunning(
    stack.temporal,
    runId,
    running.activityId,
    (s) => onWorker(next.pid)(s) && s.attempt > running.attempt,
  );
  const seconds = ((again.lastStartedMs ?? Date.now()) - killedAt) / 1000;
  recoveries.push({ round, step: running.activityId, seconds, workerReady });
  return running.activityId;
}

describe('a worker SIGKILLed mid-step', () => {
  for (let round = 1; round <= REPEAT; round++) {
    it(`loses and duplicates nothing, killed during the load and during the publish (round ${round} of ${REPEAT})`, async () => {
      const schema = `faults_kill_${round}`;
      await stack.db.query(`create schema if not exists ${schema}`);
      await stack.giveSchema(schema);
      const pipelineId = `kill-${round}`;
      await createPipeline(stack, loadPipeline(pipelineId, 'faults/rows.csv', schema));
      const runId = await startRun(stack, pipelineId);

      const killedLoad = await killDuring(runId, round, ['load']);
      const killedSink = await killDuring(
        runId,
        round,
        MODES.map((m) => `sink-${m}`),
      );

      const run = await runResult(stack, runId);
      expect(run.status, JSON.stringify(run.steps)).toBe('succeeded');
      expect(run.steps?.[killedLoad]?.attempt).toBeGreaterThanOrEqual(2);
      expect(run.steps?.[killedSink]?.attempt).toBeGreaterThanOrEqual(2);
      for (const mode of MODES) {
        const state = await targetState(stack.db, `${schema}.t_${mode}`);
        if (
          JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) !==
          JSON.stringify(exactly(expected), (_k, v) => (typeof v === 'bigint' ? String(v) : v))
        ) {
          divergences.push(
            `round ${round} ${mode}: ${JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
          );
        }
        expect(state, mode).toEqual(exactly(expected));
      }
      for (const r of recoveries.filter((x) => x.round === round)) {
        // A sanity bound, not the promise (~15 s, reported above): a slow, shared machine must not flake.
        expect(r.seconds, `${r.step} recovery`).toBeLessThan(30);
      }
    });
  }
});
