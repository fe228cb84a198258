// Wires the running platform from its parts: infrastructure (Temporal, Postgres), the platform and
// warehouse pools, migrations, and the clients the API and worker share. Used by `npm start`,
// tests and benchmarks, so all three run the same composition.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { ActivityDeps } from '@tributary/activities';
import pg from 'pg';
import { RunsClient } from './client/runs.js';
import { PipelineSlots } from './runs/pipeline-slots.store.js';
import { RunRecordStore } from './runs/run-records.store.js';
import type { Env } from './config/env.js';
import type { Logger } from './infra/logger.js';
import { providePostgres, redactUrl, sameDatabase, type PostgresServer } from './infra/postgres-server.js';
import { claimTaskQueue, deploymentIdentity } from './deployment/deployment.js';
import { defaultDevServerDb, provideTemporal, type TemporalServer } from './infra/temporal-server.js';
import { outageAwareRetry } from './infra/temporal-retry.js';
import { POSTGRES_CONNECT_TIMEOUT_MS } from './api/outage.js';
import { migrate } from './store/migrate.js';
import { withTransaction } from './store/transaction.js';
import { loadMasterKey, SecretStore } from './store/secrets.store.js';
import { prepareWarehouse, provisionProject } from './warehouse/provision.js';
import { runnerUrl } from './warehouse/roles.js';
import type { RunLimits } from './runs/run-limits.js';
import { AesGcmPayloadCodec, loadPayloadKey } from './temporal/payload-codec.js';

export const VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version;

/** The one node catalogue (pipelines/node-catalog.ts), re-exported for the composition's users. */
export { activityCatalog as nodeCatalog } from './pipelines/node-catalog.js';

export interface Infrastructure {
  temporal: TemporalServer;
  postgres: PostgresServer;
  stop(): Promise<void>;
}

/** The dev server's Web UI port when TEMPORAL_UI_PORT is not set (the Temporal CLI's own default). */
const DEFAULT_TEMPORAL_UI_PORT = 8233;

/** Brings up what is not external: a Temporal dev server and an embedded Postgres, unless configured away. */
export async function startInfrastructure(
  env: Env,
  log: Logger,
  options: { ephemeral?: boolean; binCacheDir?: string } = {},
): Promise<Infrastructure> {
  const ephemeral = options.ephemeral ?? false;
  // Both start at once: each takes seconds, and they do not depend on each other.
  const [temporal, postgres] = await Promise.allSettled([
    provideTemporal({
      ...(env.TEMPORAL_ADDRESS ? { address: env.TEMPORAL_ADDRESS } : {}),
      ...(env.TEMPORAL_CLI_PATH ? { cliPath: env.TEMPORAL_CLI_PATH } : {}),
      namespace: env.TEMPORAL_NAMESPACE,
      home: env.home,
      binCacheDir: options.binCacheDir ?? path.join(env.home, 'bin'),
      port: ephemeral ? 0 : env.TEMPORAL_PORT,
      uiPort: ephemeral ? null : (env.TEMPORAL_UI_PORT ?? DEFAULT_TEMPORAL_UI_PORT),
      dbFilename: ephemeral ? null : defaultDevServerDb(env.home),
      log: log.child('temporal'),
    }),
    providePostgres({
      ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
      ...(env.WAREHOUSE_URL ? { warehouseUrl: env.WAREHOUSE_URL } : {}),
      allowShared: env.TRIBUTARY_ALLOW_SHARED_DATABASE,
      home: env.home,
      port: ephemeral ? 0 : env.POSTGRES_PORT,
      persistent: !ephemeral,
      log: log.child('postgres'),
    }),
  ]);
  if (temporal.status === 'rejected' || postgres.status === 'rejected') {
    if (temporal.status === 'fulfilled') await temporal.value.stop();
    if (postgres.status === 'fulfilled') await postgres.value.stop();
    const reasons = [temporal, postgres]
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason);
    throw reasons.length === 1
      ? reasons[0]
      : new AggregateError(reasons, reasons.map((r) => (r as Error).message).join('\n'));
  }
  return {
    temporal: temporal.value,
    postgres: postgres.value,
    // Temporal first: its workers may still be talking to Postgres through activities.
    stop: async () => {
      await temporal.value.stop();
      await postgres.value.stop();
    },
  };
}

export interface Platform {
  platformPool: pg.Pool;
  /** The warehouse as its owner: provisioning, staging lifecycle, previews, telemetry. Never a step's. */
  warehousePool: pg.Pool;
  /** The warehouse as the runner login role, which steps use under their project's role. */
  runnerPool: pg.Pool;
  temporal: Client;
  runs: RunsClient;
  secrets: SecretStore;
  /** Encrypts Temporal payloads (payload-codec.ts); the worker must use the same one. Null: off. */
  payloadCodec: AesGcmPayloadCodec | null;
  /** Parallel COPY streams and their spare connections, when the operator turned them on. */
  copyStreams?: ActivityDeps['copyStreams'];
  close(): Promise<void>;
}

export interface PlatformConfig {
  databaseUrl: string;
  warehouseUrl: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  masterKey: Buffer;
  /** TRIBUTARY_PAYLOAD_KEY (or the generated payload.key); absent or null: payloads unencrypted. */
  payloadKey?: Buffer | null;
  /** The operator's limits on runs (TRIBUTARY_MAX_STEP_TIMEOUT_SECONDS, TRIBUTARY_PROJECT_MAX_ACTIVITIES). */
  runLimits?: RunLimits;
  /** Parallel COPY streams (TRIBUTARY_COPY_STREAMS, TRIBUTARY_COPY_STREAMS_MIN_MB); absent: one stream. */
  copyStreams?: { streams: number; minBytes: number };
}

export async function connectPlatform(config: PlatformConfig): Promise<Platform> {
  const shared = sameDatabase(config.databaseUrl, config.warehouseUrl);
  // A Postgres that does not answer a new connection within 1.5 s is down (api/outage.ts).
  const connectionTimeoutMillis = POSTGRES_CONNECT_TIMEOUT_MS;
  const platformPool = new pg.Pool({
    connectionString: config.databaseUrl,
    max: 10,
    connectionTimeoutMillis,
  });
  const warehousePool = shared
    ? platformPool
    : new pg.Pool({ connectionString: config.warehouseUrl, max: 10, connectionTimeoutMillis });
  const runnerPool = new pg.Pool({
    connectionString: runnerUrl(config.warehouseUrl, config.masterKey),
    max: 20,
    connectionTimeoutMillis,
    application_name: 'tributary step',
  });
  const copyStreams = spareConnections(config, connectionTimeoutMillis);
  const pools = new Set([
    platformPool,
    warehousePool,
    runnerPool,
    ...(copyStreams ? [copyStreams.spare.pool] : []),
  ]);
  // A client that loses its server (a Ctrl-C reaches Postgres too) must not crash the process:
  // the query in flight fails and is retried like any other; idle clients are simply replaced.
  for (const pool of pools) {
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
  }
  await migrate(platformPool);
  await closePlatformDatabase(platformPool, shared);
  await prepareWarehouse(warehousePool, config.masterKey);
  await provisionProject(warehousePool, 'default');
  const connection = await Connection.connect({
    address: config.temporalAddress,
    // An unreachable Temporal is reported within a second, not after half a minute of retries.
    interceptors: [makeGrpcRetryInterceptor(outageAwareRetry())],
  });
  // Payload encryption (engine/src/temporal/payload-codec.ts).
  const payloadCodec = config.payloadKey ? new AesGcmPayloadCodec(config.payloadKey) : null;
  const temporal = new Client({
    connection,
    namespace: config.namespace,
    ...(payloadCodec ? { dataConverter: { payloadCodecs: [payloadCodec] } } : {}),
  });
  // This deployment owns its namespace + task queue; another deployment's claim stops the start.
  try {
    await claimTaskQueue(
      temporal,
      await deploymentIdentity(platformPool),
      config.taskQueue,
      redactUrl(config.databaseUrl),
    );
  } catch (error) {
    await connection.close();
    await Promise.all([...pools].map((p) => p.end()));
    throw error;
  }
  return {
    payloadCodec,
    platformPool,
    warehousePool,
    runnerPool,
    ...(copyStreams ? { copyStreams } : {}),
    temporal,
    runs: new RunsClient(
      temporal,
      config.taskQueue,
      new RunRecordStore(platformPool),
      config.runLimits,
      new PipelineSlots(platformPool),
    ),
    secrets: new SecretStore(platformPool, config.masterKey),
    close: async () => {
      await connection.close();
      await Promise.all([...pools].map((p) => p.end()));
    },
  };
}

export function platformConfig(env: Env, infra: Infrastructure): PlatformConfig {
  return {
    databaseUrl: infra.postgres.url,
    warehouseUrl: infra.postgres.warehouseUrl,
    temporalAddress: infra.temporal.address,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    masterKey: loadMasterKey(env.TRIBUTARY_MASTER_KEY, env.home),
    // Generated only for the embedded Temporal, where API and worker share $TRIBUTARY_HOME.
    payloadKey: loadPayloadKey(env.TRIBUTARY_PAYLOAD_KEY, env.home, !env.TEMPORAL_ADDRESS),
    runLimits: runLimitsOf(env),
    ...(env.TRIBUTARY_COPY_STREAMS > 1
      ? {
          copyStreams: {
            streams: env.TRIBUTARY_COPY_STREAMS,
            minBytes: Math.round(env.TRIBUTARY_COPY_STREAMS_MIN_MB * (1 << 20)),
          },
        }
      : {}),
  };
}

/**
 * The spare connections of parallel COPY streams: a pool of the runner role of its own, so the extra
 * streams never take a connection a step would wait for. Room for two parallel loads at once; one
 * project holds at most one load's worth (its other steps, capped by its fair share, use the runner
 * pool as always). A step takes a spare connection only when one is free, else loads in fewer streams.
 */
function spareConnections(
  config: PlatformConfig,
  connectionTimeoutMillis: number,
): ActivityDeps['copyStreams'] | undefined {
  if (!config.copyStreams || config.copyStreams.streams < 2) return undefined;
  const extra = config.copyStreams.streams - 1;
  const pool = new pg.Pool({
    connectionString: runnerUrl(config.warehouseUrl, config.masterKey),
    max: 2 * extra,
    connectionTimeoutMillis,
    // Spare connections held idle would count against the server's max_connections for nothing.
    idleTimeoutMillis: 5_000,
    application_name: 'tributary copy stream',
  });
  return { ...config.copyStreams, spare: { pool, held: new Map(), perProject: extra } };
}

/** TRIBUTARY_MAX_STEP_TIMEOUT_SECONDS and TRIBUTARY_PROJECT_MAX_ACTIVITIES (half a worker's slots). */
export function runLimitsOf(env: Env): RunLimits {
  return {
    maxStepTimeoutSeconds: env.TRIBUTARY_MAX_STEP_TIMEOUT_SECONDS,
    projectMaxActivities:
      env.TRIBUTARY_PROJECT_MAX_ACTIVITIES ?? Math.max(1, Math.floor(env.WORKER_MAX_ACTIVITIES / 2)),
  };
}

/**
 * Nobody but the platform's own user may connect to a separate platform database; in a shared one,
 * the platform schema is closed to every other role.
 */
async function closePlatformDatabase(platform: pg.Pool, shared: boolean): Promise<void> {
  // Processes starting together (API and workers) would otherwise update the same catalog row at
  // once, and Postgres refuses the second with "tuple concurrently updated".
  await withTransaction(platform, async (client) => {
    await client.query(`select pg_advisory_xact_lock(hashtext('tributary.close-platform-database'))`);
    if (shared) {
      await client.query('revoke all on schema tributary from public');
      return;
    }
    const { rows } = await client.query<{ database: string }>('select current_database() as database');
    await client.query(
      `revoke connect, temporary on database ${pg.escapeIdentifier(rows[0]!.database)} from public`,
    );
  });
}
