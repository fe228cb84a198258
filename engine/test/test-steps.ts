// A controllable step for interpreter tests: it sleeps, fails a given number of attempts, or fails
// for good, and records how many steps run at once. It is registered only in test workers, next to
// the real registry; production code knows nothing of it.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { StepActivityInput, StepActivityResult } from '@tributary/activities';
import { z } from 'zod';
import { nodeCatalog } from '../src/platform.js';
import type { NodeCatalog } from '../src/compiler/compile.js';

const TestStepConfig = z.object({
  sleepMs: z.number().int().min(0).default(0),
  /** Attempts that fail with a retryable error before one succeeds. */
  failAttempts: z.number().int().min(0).default(0),
  /** Fail every attempt with a non-retryable error. */
  failForGood: z.boolean().default(false),
  rows: z.number().int().default(1),
  /** Reported as the exact row count of the output table (as a CSV load reports COPY's answer). */
  tableRows: z.number().int().min(0).optional(),
});

export const testCatalog: NodeCatalog = {
  get: (type) =>
    type === 'test.source'
      ? { kind: 'source', config: TestStepConfig, inputs: { min: 0, max: 0 } }
      : type === 'test.step'
        ? { kind: 'transform', config: TestStepConfig, inputs: { min: 1, max: null } }
        : nodeCatalog.get(type),
};

export interface StepProbe {
  running: number;
  maxRunning: number;
  started: string[];
  attempts: Record<string, number>;
}

export function createTestSteps(probe: StepProbe = { running: 0, maxRunning: 0, started: [], attempts: {} }) {
  const step = async (input: StepActivityInput): Promise<StepActivityResult> => {
    const config = TestStepConfig.parse(input.config);
    const context = Context.current();
    const attempt = context.info.attempt;
    probe.attempts[input.nodeId] = attempt;
    probe.started.push(input.nodeId);
    probe.running += 1;
    probe.maxRunning = Math.max(probe.maxRunning, probe.running);
    try {
      const deadline = Date.now() + config.sleepMs;
      while (Date.now() < deadline) {
        context.heartbeat();
        await context.sleep(Math.min(100, Math.max(1, deadline - Date.now())));
      }
      if (config.failForGood) {
        throw ApplicationFailure.create({
          message: `Step "${input.nodeId}" (test.step): bad data in row 7`,
          nonRetryable: true,
          details: [{ attempt, nodeId: input.nodeId }],
        });
      }
      if (attempt <= config.failAttempts) {
        throw ApplicationFailure.create({
          message: `Step "${input.nodeId}" (test.step): connection reset (attempt ${attempt})`,
          details: [{ attempt, nodeId: input.nodeId }],
        });
      }
      return {
        // A reference only: nothing reads it, but downstream steps see it as their input.
        table: { schema: input.stagingSchema, table: input.nodeId },
        stats: {
          rowsIn: Object.keys(input.inputs).length,
          rowsOut: config.rows,
          bytes: 0,
          durationMs: config.sleepMs,
        },
        pendingState: null,
        notes: [],
        attempt,
        ...(config.tableRows !== undefined ? { tableRows: config.tableRows } : {}),
      };
    } finally {
      probe.running -= 1;
    }
  };
  return { probe, activities: { 'test.source': step, 'test.step': step } };
}
