// `npm start`: brings up Temporal and Postgres (unless external), runs migrations, starts the
// worker and the API (which serves the builder UI), prints where everything is, and on Ctrl-C
// stops all of it, leaving no server behind.
import { ensureProjectFolder } from '../files/project-files.js';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from '@temporalio/worker';
import { ensureAdminToken, type AdminToken } from '../api/admin-token.js';
import { createApp } from '../api/app.js';
import { EnvError, parseEnv } from '../config/env.js';
import { temporalUiUrl } from '../config/temporal-ui.js';
import { createLogger, type Logger } from '../infra/logger.js';
import {
  connectPlatform,
  platformConfig,
  runLimitsOf,
  startInfrastructure,
  VERSION,
  type Infrastructure,
  type Platform,
} from '../platform.js';
import { createSender } from '../notifications/channels.js';
import { startDispatcher, type Dispatcher } from '../notifications/dispatcher.js';
import { Notifier } from '../notifications/notifier.js';
import { TokenStore } from '../store/tokens.store.js';
import { PipelineStore } from '../store/pipelines.store.js';
import { DEFAULT_CREDIT_RATES } from '../telemetry/credit-rates.js';
import { startRunRecorder } from '../runs/run-recorder.js';
import { startTelemetrySync } from '../telemetry/telemetry-sync.js';
import { observedColumns } from '../lineage/observed-columns.js';
import { startOpenLineagePublisher } from '../lineage/openlineage-publisher.js';
import { activityCatalog } from '../pipelines/node-catalog.js';
import { UsageCache } from '../telemetry/usage-report.js';
import { sweepExpiredStaging } from '../warehouse/kept-staging.js';
import { isRunOpen } from '../worker/run-activities.js';
import { createWorker } from '../worker/worker.js';
import { pythonStandbys } from '@tributary/activities';

const UI_DIR = fileURLToPath(new URL('../../../builder-ui/dist', import.meta.url));

async function main(): Promise<void> {
  let env;
  try {
    env = parseEnv();
  } catch (error) {
    if (error instanceof EnvError) {
      process.stderr.write(`${error.message}\nSee docs/reference/configuration.md.\n`);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(env.LOG_LEVEL);
  log.info(`starting Tributary ${VERSION}`, { role: env.TRIBUTARY_ROLE, home: env.home });
  const creditRates = env.TRIBUTARY_CREDIT_RATES ?? DEFAULT_CREDIT_RATES;

  let infra: Infrastructure | undefined;
  let platform: Platform | undefined;
  let worker: Worker | undefined;
  let workerDone: Promise<void> | undefined;
  let server: Server | undefined;
  let adminToken: AdminToken | undefined;
  let stopping = false;
  let sweeper: NodeJS.Timeout | undefined;
  let telemetrySync: { stop(): Promise<void> } | undefined;
  let openLineage: { stop(): Promise<void> } | undefined;
  let dispatcher: Dispatcher | undefined;
  const publicUrl = env.TRIBUTARY_PUBLIC_URL ?? `http://localhost:${env.PORT}`;
  let recorder: { stop(): Promise<void> } | undefined;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping (press Ctrl-C again to force)');
    const force = setTimeout(() => process.exit(code || 1), 30_000);
    force.unref();
    if (server) {
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      // Run event streams (SSE) stay open until their run ends: give ordinary requests a moment
      // to finish, then cut what is left.
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 3_000).unref())]);
      server.closeAllConnections();
      await closed;
    }
    clearInterval(sweeper);
    // Waits for a sync in progress, so it does not lose its pools under it.
    await telemetrySync?.stop();
    await openLineage?.stop();
    await dispatcher?.stop();
    await recorder?.stop();
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await workerDone?.catch(() => {});
    await pythonStandbys.endAll();
    await platform?.close().catch(() => {});
    await infra?.stop().catch((error: Error) => log.warn('could not stop a server cleanly', { error }));
    log.info('stopped');
    process.exit(code);
  };
  // A terminal's Ctrl-C reaches this process twice (directly and relayed by tsx), so only a
  // second press a moment later forces the exit.
  let firstSignalAt = 0;
  process.on('SIGINT', () => {
    if (stopping && Date.now() - firstSignalAt > 1_000) process.exit(130);
    firstSignalAt ||= Date.now();
    void stop(0);
  });
  process.on('SIGTERM', () => void stop(0));

  try {
    infra = await startInfrastructure(env, log);
    // The default project's files folder exists from the first start: a template's file source
    // reads from it, and an upload (POST /api/projects/{project}/files) writes to it.
    await ensureProjectFolder(env.dataDir, 'default');
    platform = await connectPlatform(platformConfig(env, infra));
    if (!platform.payloadCodec) {
      // Against an external Temporal each process may have its own home: no key is generated.
      log.warn(
        'Temporal payloads are not encrypted: set TRIBUTARY_PAYLOAD_KEY (the same for the API and every worker)',
      );
    }
    // Every process records closed runs (a pass is idempotent): at start, the catch-up for runs that
    // closed while none was running, then every TRIBUTARY_RUN_RECORD_SECONDS.
    recorder = startRunRecorder(
      {
        temporal: platform.temporal,
        runs: platform.runs,
        records: platform.runs.records!,
        log: log.child('run-records'),
      },
      {
        intervalMs: env.TRIBUTARY_RUN_RECORD_SECONDS * 1000,
        retentionDays: env.TRIBUTARY_RUN_RETENTION_DAYS ?? null,
      },
    );
    if (env.TRIBUTARY_ROLE !== 'api') {
      const notifier = new Notifier({
        pool: platform.platformPool,
        temporal: platform.temporal,
        publicUrl,
        log: log.child('notifications'),
      });
      const created = await createWorker({
        temporalAddress: infra.temporal.address,
        namespace: env.TEMPORAL_NAMESPACE,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        warehouse: platform.warehousePool,
        runner: platform.runnerPool,
        platform: platform.platformPool,
        temporal: platform.temporal,
        payloadCodec: platform.payloadCodec,
        secrets: (project) => platform!.secrets.resolverFor(project),
        dataDir: env.dataDir,
        egress: env.TRIBUTARY_EGRESS_ALLOW,
        python: {
          home: path.join(env.home, 'python'),
          python: env.TRIBUTARY_PYTHON,
          ...(env.TRIBUTARY_PYTHON_INDEX_URL ? { indexUrl: env.TRIBUTARY_PYTHON_INDEX_URL } : {}),
          sandbox: env.TRIBUTARY_PYTHON_SANDBOX,
          standbys: {
            max: env.TRIBUTARY_PYTHON_STANDBYS,
            idleMs: env.TRIBUTARY_PYTHON_STANDBY_IDLE_SECONDS * 1000,
          },
        },
        log: log.child('worker'),
        maxConcurrentActivities: env.WORKER_MAX_ACTIVITIES,
        maxConcurrentWorkflowTasks: env.WORKER_MAX_WORKFLOW_TASKS,
        keepStagingAlways: env.TRIBUTARY_KEEP_STAGING,
        stagingTtlMs: env.STAGING_TTL_HOURS * 3600_000,
        notifier,
      });
      worker = created.worker;
      // Delivers notifications beside the runs (never inside them) and checks overtime and freshness.
      const secretStore = platform.secrets;
      dispatcher = startDispatcher({
        notifier,
        send: createSender({
          secrets: (project) => secretStore.resolverFor(project),
          egress: env.TRIBUTARY_EGRESS_ALLOW,
        }),
        pool: platform.platformPool,
        warehousePool: platform.warehousePool,
        log: log.child('notifications'),
        freshnessCheckMs: env.TRIBUTARY_FRESHNESS_CHECK_MINUTES * 60_000,
      });
      workerDone = worker.run().finally(() => created.connection.close());
      log.info('worker is polling', { taskQueue: env.TEMPORAL_TASK_QUEUE });
      sweeper = startStagingSweeper(platform, log.child('staging'));
      if (env.TRIBUTARY_TELEMETRY_SYNC_MINUTES > 0) {
        telemetrySync = startTelemetrySync(
          {
            temporal: platform.temporal,
            runs: platform.runs,
            warehouse: platform.warehousePool,
            rates: creditRates,
            log: log.child('telemetry'),
            // Each sync looks again at runs closed in the last 10 minutes; their usage is not read twice.
            cache: new UsageCache(),
          },
          env.TRIBUTARY_TELEMETRY_SYNC_MINUTES * 60_000,
        );
      }
    }
    if (env.TRIBUTARY_ROLE !== 'api' && env.TRIBUTARY_OPENLINEAGE_URL) {
      const started = platform;
      openLineage = startOpenLineagePublisher(
        {
          platform: platform.platformPool,
          warehouse: platform.warehousePool,
          temporal: platform.temporal,
          runs: platform.runs,
          nodeTypes: activityCatalog,
          // A CSV with only a header, an API's records: their columns as the kept run or the file shows them.
          observe: (document) =>
            observedColumns(
              {
                catalog: activityCatalog,
                describe: {
                  runnerPool: started.runnerPool,
                  platformPool: started.platformPool,
                  dataDir: env.dataDir,
                },
                runs: started.runs,
                warehousePool: started.warehousePool,
                pipelines: new PipelineStore(started.platformPool),
                log: log.child('openlineage'),
              },
              document,
              document.id,
            ),
          target: {
            url: env.TRIBUTARY_OPENLINEAGE_URL,
            endpoint: env.TRIBUTARY_OPENLINEAGE_ENDPOINT,
            ...(env.TRIBUTARY_OPENLINEAGE_API_KEY ? { apiKey: env.TRIBUTARY_OPENLINEAGE_API_KEY } : {}),
          },
          log: log.child('openlineage'),
        },
        env.TRIBUTARY_OPENLINEAGE_INTERVAL_SECONDS * 1000,
      );
    }
    if (env.TRIBUTARY_ROLE !== 'worker') {
      adminToken = await ensureAdminToken(new TokenStore(platform.platformPool), {
        fromEnv: env.TRIBUTARY_ADMIN_TOKEN,
        home: env.home,
      });
      const app = createApp({
        pool: platform.platformPool,
        warehousePool: platform.warehousePool,
        runnerPool: platform.runnerPool,
        dataDir: env.dataDir,
        temporal: platform.temporal,
        runs: platform.runs,
        runLimits: runLimitsOf(env),
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        secrets: platform.secrets,
        version: VERSION,
        log: log.child('api'),
        uiDir: UI_DIR,
        creditRates,
        temporalUi: temporalUiUrl(env, infra.temporal.uiUrl),
        ...(env.TRIBUTARY_PUBLIC_URL ? { publicUrl: env.TRIBUTARY_PUBLIC_URL } : {}),
        codecCorsOrigins: [temporalUiUrl(env, infra.temporal.uiUrl)].filter((u): u is string => !!u),
      });
      server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(env.PORT, env.HOST, () => resolve(s));
        s.once('error', reject);
      });
    }
  } catch (error) {
    log.error((error as Error).message);
    await stop(1);
    return;
  }

  const appUrl = `http://localhost:${env.PORT}`;
  const temporalUi = temporalUiUrl(env, infra.temporal.uiUrl);
  const lines = [
    '',
    `  Tributary ${VERSION} is running`,
    ...(server
      ? [
          `  App:          ${appUrl}`,
          `  API:          ${appUrl}/api   (health: ${appUrl}/api/health, docs: ${appUrl}/api/docs)`,
          `  Admin token:  ${describeAdminToken(adminToken)}`,
        ]
      : []),
    `  Temporal UI:  ${temporalUi ?? '(not available: the cluster at TEMPORAL_ADDRESS has its own UI)'}`,
    `  Temporal:     ${infra.temporal.address} (namespace ${env.TEMPORAL_NAMESPACE})`,
    `  Data:         ${env.home}`,
    '',
    '  Press Ctrl-C to stop.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  // The embedded servers are children of this process: if one dies, say so and stop, rather than
  // serve errors (a server that is gone is not restarted behind the operator's back).
  for (const [name, child] of [
    ['Temporal server', infra.temporal.exited],
    ['Postgres', infra.postgres.exited],
  ] as const) {
    void child?.then((how) => {
      if (stopping) return;
      log.error(`the embedded ${name} stopped unexpectedly (${how}); stopping Tributary`);
      void stop(1);
    });
  }
  if (workerDone) {
    workerDone.catch((error: Error) => {
      log.error('the worker stopped unexpectedly', { error });
      void stop(1);
    });
  }
}

function describeAdminToken(admin: AdminToken | undefined): string {
  switch (admin?.source) {
    case 'created':
      return `${admin.token}\n                (shown once; also saved to ${admin.file})`;
    case 'existing':
      return admin.file ? `in ${admin.file}` : 'created at an earlier start (its file is gone)';
    case 'env':
      return 'from TRIBUTARY_ADMIN_TOKEN';
    default:
      return '(none)';
  }
}

/** Drops kept staging whose TTL has passed and that no live re-run leases, now and every ten minutes. */
function startStagingSweeper(platform: Platform, log: Logger): NodeJS.Timeout {
  const sweep = () =>
    sweepExpiredStaging(platform.warehousePool, new Date(), (runId) => isRunOpen(platform.temporal, runId))
      .then(
        (dropped) => dropped.length && log.info('dropped expired staging', { schemas: dropped.join(',') }),
      )
      .catch((error: Error) => log.warn('could not sweep expired staging', { error }));
  void sweep();
  return setInterval(sweep, 10 * 60_000);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
