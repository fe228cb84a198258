// The Tributary worker: the interpreter workflow plus one activity per node type and the run
// lifecycle activities, on one task queue. Several workers (processes or machines) can share it.
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import {
  createActivities,
  createProbeActivities,
  registry,
  type ActivityDeps,
  type EgressPolicy,
  type ReservedEndpoint,
  type SecretResolver,
  withReservedEndpoints,
} from '@tributary/activities';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type pg from 'pg';
import type { Logger } from '../infra/logger.js';
import type { Notifier } from '../notifications/notifier.js';
import { ensureBranchSchema } from '../warehouse/branch-warehouse.js';
import { ensureProjectSchema } from '../warehouse/provision.js';
import { branchRole, projectRole } from '../warehouse/roles.js';
import { createRunActivities, loadNodeState, projectExists, resolveProduct } from './run-activities.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

let runtimeInstalled = false;
/**
 * Configures the SDK's runtime once per process: its log lines at WARN and above only, and no
 * signal handlers of its own, since our entry points own shutdown and stop things in order.
 */
export function installTemporalRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
}

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/** Bundling takes seconds; one bundle per entry file serves every worker this process creates. */
export function workflowBundle(workflowsPath = WORKFLOWS_PATH): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => process.stderr.write(`workflow bundler: ${message}\n`),
  error: (message: string) => process.stderr.write(`workflow bundler: ${message}\n`),
};

export interface WorkerDeps {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** The warehouse's owner connection: provisioning and the run's staging lifecycle. */
  warehouse: pg.Pool;
  /** The runner login role's pool, which steps use under their project's role. */
  runner: pg.Pool;
  platform: pg.Pool;
  /** A client of the same cluster, for the activities that talk to other workflows (the pipeline lock). */
  temporal: Client;
  secrets: (project: string) => SecretResolver;
  dataDir: string;
  /** Non-public hosts and ranges steps may reach over HTTP (TRIBUTARY_EGRESS_ALLOW); none by default. */
  egress?: EgressPolicy;
  /** Where Python steps' environments live and how they are sandboxed; unset: `.tributary/python`, PyPI, bwrap. */
  python?: ActivityDeps['python'];
  log: Logger;
  maxConcurrentActivities?: number;
  maxConcurrentWorkflowTasks?: number;
  keepStagingAlways?: boolean;
  stagingTtlMs?: number;
  /** A workflows entry that re-exports ours plus others (benchmarks add a hand-written baseline). */
  workflowsPath?: string;
  /** Encrypts payloads; the same codec as the clients' (Platform.payloadCodec), or none. */
  payloadCodec?: PayloadCodec | null;
  /** Queues notifications when runs close and when step attempts will be retried. */
  notifier?: Pick<Notifier, 'runClosed' | 'attemptFailed'>;
  /** Parallel COPY streams of large CSV loads (Platform.copyStreams); absent: one stream. */
  copyStreams?: ActivityDeps['copyStreams'];
  /** Extra activities for tests and benchmarks (e.g. a no-op step). */
  extraActivities?: Record<string, (...args: never[]) => Promise<unknown>>;
}

/** What the node types' activities get: the runner pool, provisioning hooks, files, egress, logs. */
export function stepActivityDeps(
  deps: Pick<
    WorkerDeps,
    | 'warehouse'
    | 'runner'
    | 'platform'
    | 'secrets'
    | 'dataDir'
    | 'egress'
    | 'log'
    | 'keepStagingAlways'
    | 'notifier'
    | 'temporalAddress'
    | 'python'
    | 'copyStreams'
  >,
): ActivityDeps {
  const stepLog = deps.log.child('step');
  return {
    warehouse: deps.runner,
    projectRole,
    branchRole,
    ensureSchema: (project, schema) => ensureProjectSchema(deps.warehouse, project, schema),
    ensureBranchSchema: (project, branch, schema) =>
      ensureBranchSchema(deps.warehouse, project, branch, schema),
    secrets: deps.secrets,
    loadState: (pipelineId, nodeId, branch) => loadNodeState(deps.platform, pipelineId, nodeId, branch),
    resolveProduct: (id) => resolveProduct(deps.platform, id),
    dataDir: deps.dataDir,
    isProject: (name) => projectExists(deps.platform, name),
    // Pipeline connectors never reach the platform's own servers, whatever credentials they hold.
    egress: withReservedEndpoints(deps.egress ?? { hosts: [], ranges: [] }, platformEndpoints(deps)),
    ...(deps.python ? { python: deps.python } : {}),
    ...(deps.copyStreams ? { copyStreams: deps.copyStreams } : {}),
    ...(deps.keepStagingAlways !== undefined ? { keepStagingAlways: deps.keepStagingAlways } : {}),
    ...(deps.notifier ? { attemptFailed: deps.notifier.attemptFailed.bind(deps.notifier) } : {}),
    log: (nodeId) => ({
      info: (message, fields) => stepLog.info(message, { node: nodeId, ...fields }),
      warn: (message, fields) => stepLog.warn(message, { node: nodeId, ...fields }),
    }),
  };
}

/** The platform's own servers: its database, the warehouse and the Temporal frontend. */
export function platformEndpoints(
  deps: Pick<WorkerDeps, 'warehouse' | 'runner' | 'platform' | 'temporalAddress'>,
): ReservedEndpoint[] {
  const endpoints: ReservedEndpoint[] = [];
  const fromPool = (pool: pg.Pool, what: string) => {
    const options = (
      pool as unknown as { options?: { connectionString?: string; host?: string; port?: number } }
    ).options;
    let host = options?.host;
    let port = options?.port;
    if (options?.connectionString) {
      try {
        const url = new URL(options.connectionString);
        host = url.hostname || host;
        port = Number(url.port) || port;
      } catch {
        // Not a URL (a keyword string): the host and port fields, if any, are what we have.
      }
    }
    if (host && !host.startsWith('/')) endpoints.push({ what, host, port: port ?? 5432 });
  };
  fromPool(deps.platform, 'the platform database');
  fromPool(deps.warehouse, "the platform's warehouse");
  fromPool(deps.runner, "the platform's warehouse");
  const temporal = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(deps.temporalAddress);
  if (temporal) {
    endpoints.push({
      what: 'the Temporal frontend',
      host: temporal[1]!.replace(/^\[|\]$/g, ''),
      port: Number(temporal[2]),
    });
  }
  return endpoints;
}

export async function createWorker(
  deps: WorkerDeps,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  installTemporalRuntime();
  const connection = await NativeConnection.connect({ address: deps.temporalAddress });
  const worker = await Worker.create({
    connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: await workflowBundle(deps.workflowsPath),
    ...(deps.payloadCodec ? { dataConverter: { payloadCodecs: [deps.payloadCodec] } } : {}),
    activities: {
      ...createActivities(registry, stepActivityDeps(deps)),
      // The builder's spec and discover calls for Python connectors (engine/src/connectors).
      ...createProbeActivities(stepActivityDeps(deps)),
      ...createRunActivities({
        warehouse: deps.warehouse,
        platform: deps.platform,
        temporal: deps.temporal,
        taskQueue: deps.taskQueue,
        ...(deps.keepStagingAlways !== undefined ? { keepStagingAlways: deps.keepStagingAlways } : {}),
        ...(deps.stagingTtlMs !== undefined ? { stagingTtlMs: deps.stagingTtlMs } : {}),
        ...(deps.notifier ? { runClosed: deps.notifier.runClosed.bind(deps.notifier) } : {}),
        log: deps.log.child('run'),
      }),
      ...deps.extraActivities,
    },
    maxConcurrentActivityTaskExecutions: deps.maxConcurrentActivities ?? 20,
    maxConcurrentWorkflowTaskExecutions: deps.maxConcurrentWorkflowTasks ?? 10,
    // Give running steps time to notice the shutdown and stop cleanly.
    shutdownGraceTime: '10s',
    // Heartbeats are how a running step learns that its run was cancelled, and how the server
    // notices a dead worker (10 s heartbeat timeout); send them on every 2 s, not at 80 % of it.
    maxHeartbeatThrottleInterval: '2s',
    defaultHeartbeatThrottleInterval: '2s',
  });
  return { worker, connection };
}
