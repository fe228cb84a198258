// Integration-test harness: the platform wired to the servers the global setup started, plus a
// real worker on a task queue of the test's own, so test files never steal each other's tasks.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import {
  createActivities,
  parseEgressAllow,
  pythonStandbys,
  type ActivityDeps,
  type EgressPolicy,
  type NodeTypeDeclaration,
  type SecretResolver,
} from '@tributary/activities';
import { inject } from 'vitest';
import { compile, type NodeCatalog } from '../src/compiler/compile.js';
import { silentLogger } from '../src/infra/logger.js';
import type { ExecutionPlan, RunProgress } from '../src/model/plan.js';
import { connectPlatform, nodeCatalog, type Platform } from '../src/platform.js';
import { provisionProject } from '../src/warehouse/provision.js';
import { createWorker, stepActivityDeps, type WorkerDeps } from '../src/worker/worker.js';

export interface Harness {
  platform: Platform;
  taskQueue: string;
  dataDir: string;
  worker: Worker;
  /** What the harness worker's node-type activities get, for tests that wrap one of them. */
  activityDeps: ActivityDeps;
  /**
   * Gives `schema` (created by the test through the owner pool, with its tables) to a project's
   * role, as provisioning does with a project's listed schemas.
   */
  giveSchema(schema: string, project?: string): Promise<void>;
  /** Compiles a document (throwing with every error if invalid). */
  plan(document: unknown, params?: Record<string, unknown>): ExecutionPlan;
  /** Starts a run and waits for it to close; resolves with its final progress. */
  run(
    plan: ExecutionPlan,
    options?: { idempotencyKey?: string },
  ): Promise<{ runId: string; progress: RunProgress | null; status: string }>;
  stop(): Promise<void>;
}

export const TEST_MASTER_KEY = Buffer.alloc(32, 7);
/** Tests talk to HTTP servers of their own on loopback. */
export const TEST_EGRESS = parseEgressAllow('127.0.0.0/8,localhost');
/** Every integration test runs with payload encryption on, as `npm start` does. */
export const TEST_PAYLOAD_KEY = Buffer.alloc(32, 9);

export async function startHarness(
  options: {
    secrets?: (project: string) => SecretResolver;
    extraActivities?: WorkerDeps['extraActivities'];
    /** A catalogue that knows test-only node types too. */
    catalog?: NodeCatalog;
    /** Connectors beyond the registry (a test's fixture), which the worker runs like any other. */
    connectors?: readonly NodeTypeDeclaration[];
    /** The egress fence's allow-list; by default loopback, where the tests' HTTP servers listen. */
    egress?: EgressPolicy;
    /** Queues notifications when runs close (engine/src/notifications). */
    notifier?: WorkerDeps['notifier'];
  } = {},
): Promise<Harness> {
  const taskQueue = `test-${randomBytes(6).toString('hex')}`;
  const dataDir = path.join(inject('tributaryHome'), 'files');
  mkdirSync(dataDir, { recursive: true });
  const platform = await connectPlatform({
    databaseUrl: inject('databaseUrl'),
    warehouseUrl: inject('warehouseUrl'),
    temporalAddress: inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    masterKey: TEST_MASTER_KEY,
    payloadKey: TEST_PAYLOAD_KEY,
  });
  const workerDeps = {
    temporalAddress: inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    warehouse: platform.warehousePool,
    runner: platform.runnerPool,
    platform: platform.platformPool,
    temporal: platform.temporal,
    payloadCodec: platform.payloadCodec,
    secrets: options.secrets ?? ((project: string) => platform.secrets.resolverFor(project)),
    dataDir,
    log: silentLogger,
    // The tests' "external" databases are databases of the test Postgres, which is also the
    // platform's: named explicitly as host:port, as an operator would have to.
    egress:
      options.egress ?? parseEgressAllow(`127.0.0.0/8,localhost,${new URL(inject('databaseUrl')).host}`),
    ...(options.extraActivities ? { extraActivities: options.extraActivities } : {}),
    ...(options.notifier ? { notifier: options.notifier } : {}),
  };
  if (options.connectors) {
    workerDeps.extraActivities = {
      ...workerDeps.extraActivities,
      ...createActivities(options.connectors, stepActivityDeps(workerDeps)),
    };
  }
  const { worker, connection } = await createWorker(workerDeps);
  const running = worker.run().finally(() => connection.close());
  return {
    platform,
    taskQueue,
    dataDir,
    worker,
    activityDeps: stepActivityDeps(workerDeps),
    giveSchema: (schema, project = 'default') => provisionProject(platform.warehousePool, project, [schema]),
    plan(document, params) {
      const result = compile(document, { catalog: options.catalog ?? nodeCatalog, params: params ?? {} });
      if (!result.ok)
        throw new Error(`test pipeline does not compile:\n${JSON.stringify(result.errors, null, 2)}`);
      return result.plan;
    },
    async run(plan, runOptions) {
      const { runId } = await platform.runs.start(plan, {
        trigger: { type: 'manual', actor: 'test' },
        ...(runOptions?.idempotencyKey ? { idempotencyKey: runOptions.idempotencyKey } : {}),
      });
      await platform.temporal.workflow
        .getHandle(runId)
        .result()
        .catch(() => {});
      const detail = await platform.runs.get(runId);
      return { runId, progress: detail.progress, status: detail.status };
    },
    async stop() {
      worker.shutdown();
      await running;
      await pythonStandbys.endAll();
      await platform.close();
    },
  };
}
