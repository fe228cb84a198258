// A throwaway Tributary stack for benchmarks: its own Temporal dev server and Postgres on free
// ports, the platform wired to them, and a worker whose bundle also holds the baselines.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Context } from '@temporalio/activity';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { StepActivityInput, StepActivityResult } from '@tributary/activities';
import { z } from 'zod';
import type { NodeCatalog } from '../../engine/src/compiler/compile.js';
import { parseEnv } from '../../engine/src/config/env.js';
import { createLogger, silentLogger } from '../../engine/src/infra/logger.js';
import {
  connectPlatform,
  nodeCatalog,
  startInfrastructure,
  type Platform,
} from '../../engine/src/platform.js';
import { DEFAULT_RUN_LIMITS } from '../../engine/src/runs/run-limits.js';
import { provisionProject } from '../../engine/src/warehouse/provision.js';
import { createWorker } from '../../engine/src/worker/worker.js';

/** The bench worker's activity slots. */
const BENCH_WORKER_SLOTS = 100;
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BENCH_WORKFLOWS = fileURLToPath(new URL('../orchestration/baseline.workflow.ts', import.meta.url));

export interface BenchStack {
  platform: Platform;
  temporalAddress: string;
  taskQueue: string;
  dataDir: string;
  /** The platform database. */
  databaseUrl: string;
  /** Where pipelines read and publish tables, and so where the baselines work. */
  warehouseUrl: string;
  catalog: NodeCatalog;
  /**
   * Gives the `bench` schema, and the tables a benchmark made in it as the warehouse owner, to the
   * default project's role, so its pipelines may read and publish there.
   */
  shareBenchSchema(): Promise<void>;
  stop(): Promise<void>;
}

/** A step that does nothing, so only orchestration is measured. */
async function noopStep(_input: StepActivityInput): Promise<StepActivityResult> {
  return {
    table: null,
    stats: { rowsIn: 0, rowsOut: 0, bytes: 0, durationMs: 0 },
    pendingState: null,
    notes: [],
    attempt: 1,
  };
}

/** A long step for the recovery benchmark: heartbeats every second, so a dead worker is noticed. */
async function sleepStep(input: StepActivityInput): Promise<StepActivityResult> {
  const until = Date.now() + Number(input.config.seconds) * 1000;
  while (Date.now() < until) {
    Context.current().heartbeat();
    await Context.current().sleep(1000);
  }
  return noopStep(input);
}

const NoopConfig = z.object({});
const SleepConfig = z.object({ seconds: z.number().positive() });
export const benchCatalog: NodeCatalog = {
  get: (type) =>
    type === 'bench.source'
      ? { kind: 'source', config: NoopConfig, inputs: { min: 0, max: 0 } }
      : type === 'bench.step'
        ? { kind: 'transform', config: NoopConfig, inputs: { min: 1, max: null } }
        : type === 'bench.sleep'
          ? { kind: 'source', config: SleepConfig, inputs: { min: 0, max: 0 } }
          : nodeCatalog.get(type),
};

/** A worker with the benchmarks' steps and baselines; also what a worker child process runs. */
export function startBenchWorker(options: {
  temporalAddress: string;
  platform: Platform;
  taskQueue: string;
  dataDir: string;
}): Promise<{ worker: Worker; connection: NativeConnection }> {
  return createWorker({
    temporalAddress: options.temporalAddress,
    namespace: 'default',
    taskQueue: options.taskQueue,
    warehouse: options.platform.warehousePool,
    runner: options.platform.runnerPool,
    ...(options.platform.copyStreams ? { copyStreams: options.platform.copyStreams } : {}),
    platform: options.platform.platformPool,
    temporal: options.platform.temporal,
    secrets: () => ({ resolve: () => Promise.reject(new Error('benchmarks use no secrets')) }),
    dataDir: options.dataDir,
    log: silentLogger,
    workflowsPath: BENCH_WORKFLOWS,
    maxConcurrentActivities: BENCH_WORKER_SLOTS,
    extraActivities: {
      'bench.source': noopStep,
      'bench.step': noopStep,
      'bench.sleep': sleepStep,
      noop: async () => null,
    },
  });
}

export async function startBenchStack(): Promise<BenchStack> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'tributary-bench-'));
  chmodSync(home, 0o755); // the embedded Postgres runs as the postgres user and must reach it
  const env = parseEnv({
    TRIBUTARY_HOME: home,
    PATH: process.env.PATH,
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
  });
  const infra = await startInfrastructure(env, createLogger('warn', 'bench'), {
    ephemeral: true,
    binCacheDir: path.join(REPO_ROOT, '.tributary', 'bin'),
  });
  const taskQueue = 'bench';
  const warehouseUrl = infra.postgres.warehouseUrl;
  const platform = await connectPlatform({
    databaseUrl: infra.postgres.url,
    warehouseUrl,
    temporalAddress: infra.temporal.address,
    namespace: 'default',
    taskQueue,
    masterKey: Buffer.alloc(32, 3),
    // The share a deployment gives a project by default: half its worker's activity slots (the
    // bench worker has BENCH_WORKER_SLOTS), so a 32-wide fan-out is not capped below the baseline's.
    runLimits: { ...DEFAULT_RUN_LIMITS, projectMaxActivities: BENCH_WORKER_SLOTS / 2 },
  });
  const dataDir = path.join(home, 'files');
  mkdirSync(dataDir, { recursive: true });
  const { worker, connection } = await startBenchWorker({
    temporalAddress: infra.temporal.address,
    platform,
    taskQueue,
    dataDir,
  });
  const running = worker.run();
  const shareBenchSchema = () => provisionProject(platform.warehousePool, 'default', ['bench']);
  await shareBenchSchema();
  return {
    shareBenchSchema,
    platform,
    temporalAddress: infra.temporal.address,
    taskQueue,
    dataDir,
    databaseUrl: infra.postgres.url,
    warehouseUrl,
    catalog: benchCatalog,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await platform.close();
      await infra.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
