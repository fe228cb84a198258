// The fault suite's stack: real processes that the tests kill. A Temporal dev server with a db
// file (so a SIGKILLed server restarts with its history), an embedded Postgres that can be
// restarted on the same data, and the API and workers as separate `start.ts` child processes, the
// way `TRIBUTARY_ROLE=api|worker` runs them in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { provisionProject } from '../../src/warehouse/provision.js';
import { createLogger } from '../../src/infra/logger.js';
import { findFreePort } from '../../src/infra/ports.js';
import { providePostgres, type PostgresServer } from '../../src/infra/postgres-server.js';
import { resolveTemporalBinary } from '../../src/infra/temporal-server.js';
import { AesGcmPayloadCodec } from '../../src/temporal/payload-codec.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const START = path.join(ROOT, 'engine/src/cli/start.ts');
const log = createLogger('warn', 'faults');

/** A response body: tests check its shape with assertions, not with types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

export interface Proc {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface FaultStack {
  home: string;
  dataDir: string;
  temporalAddress: string;
  databaseUrl: string;
  apiUrl: string;
  admin: string;
  /** A Temporal client with the same payload codec as the processes. */
  temporal: Client;
  /** A pool of the test's own, for checks (not the processes'). */
  db: pg.Pool;
  /**
   * Gives a schema the test made as the database owner, with its tables, to the default project's
   * role, so that its pipelines may publish there (the warehouse's rule otherwise refuses it).
   */
  giveSchema(schema: string): Promise<void>;
  workers: Proc[];
  startWorker(extraEnv?: Record<string, string>): Promise<Proc>;
  /**
   * Starts an API or a worker with more environment, not counted in `workers` (a second
   * deployment's, say: its own DATABASE_URL and TEMPORAL_TASK_QUEUE).
   */
  startProcess(role: 'api' | 'worker', extraEnv: Record<string, string>): Promise<Proc>;
  killTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  restartPostgres(downMs?: number): Promise<void>;
  call(
    method: string,
    route: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: Body }>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFaultStack(): Promise<FaultStack> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'tributary-faults-'));
  chmodSync(home, 0o755); // the embedded Postgres runs as the postgres user and must reach it
  const dataDir = path.join(home, 'files');
  mkdirSync(dataDir, { recursive: true });
  const payloadKey = randomBytes(32);
  const admin = `trb_faults_${randomBytes(18).toString('hex')}`;

  // Temporal: our own child, so a test can SIGKILL it and start it again on the same db file.
  const binary = await resolveTemporalBinary({
    ...(process.env.TEMPORAL_CLI_PATH ? { cliPath: process.env.TEMPORAL_CLI_PATH } : {}),
    binCacheDir: path.join(ROOT, '.tributary', 'bin'),
    log,
  });
  let temporalPort = await findFreePort();
  let temporalAddress = `127.0.0.1:${temporalPort}`;
  let temporalProc: LoggedProc | undefined;
  const startTemporal = async () => {
    const proc = spawnLogged(
      binary,
      [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(temporalPort),
        '--headless',
        '--log-level',
        'warn',
        '--db-filename',
        path.join(home, 'temporal.db'),
      ],
      {},
      path.join(home, 'temporal.log'),
    );
    temporalProc = proc;
    let exited = false;
    void proc.exited.then(() => (exited = true));
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const c = await Connection.connect({ address: temporalAddress, connectTimeout: 1_000 });
        await c.workflowService.getSystemInfo({});
        await c.close();
        return;
      } catch (error) {
        // A dev server that exited (its port taken meanwhile, say) will not come up: say so now.
        if (exited) throw new TemporalExitedError(path.join(home, 'temporal.log'));
        if (Date.now() > deadline)
          throw new Error(`Temporal did not come up: ${(error as Error).message}`, { cause: error });
        await sleep(200);
      }
    }
  };
  // The free port found may be taken by another process before the dev server binds it (a stack
  // that has just stopped, another suite): the first start tries another port, twice at most.
  for (let attempt = 1; ; attempt++) {
    try {
      await startTemporal();
      break;
    } catch (error) {
      if (!(error instanceof TemporalExitedError) || attempt === 3) throw error;
      temporalPort = await findFreePort();
      temporalAddress = `127.0.0.1:${temporalPort}`;
    }
  }

  const pgPort = await findFreePort();
  const pgHome = path.join(home, 'pg');
  let postgres: PostgresServer = await providePostgres({ home: pgHome, port: pgPort, persistent: true, log });
  const databaseUrl = postgres.url;
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  db.on('error', () => {}); // a Postgres restart is what some tests do on purpose

  const apiPort = await findFreePort();
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    TRIBUTARY_HOME: home,
    TRIBUTARY_DATA_DIR: dataDir,
    TEMPORAL_ADDRESS: temporalAddress,
    DATABASE_URL: databaseUrl,
    // One database for platform and warehouse keeps the suite's checks on one connection; the
    // platform schema stays closed to pipeline roles (the security suite covers two databases).
    WAREHOUSE_URL: databaseUrl,
    TRIBUTARY_ALLOW_SHARED_DATABASE: 'true',
    // Some cases read the platform's own database as a source.postgres "external" database: the
    // egress fence refuses the platform's servers unless named explicitly as host:port.
    TRIBUTARY_EGRESS_ALLOW: new URL(databaseUrl).host,
    TRIBUTARY_MASTER_KEY: randomBytes(32).toString('base64'),
    // The suite with parallel COPY streams: TRIBUTARY_COPY_STREAMS=2 TRIBUTARY_COPY_STREAMS_MIN_MB=1 npm run test:faults
    ...Object.fromEntries(
      ['TRIBUTARY_COPY_STREAMS', 'TRIBUTARY_COPY_STREAMS_MIN_MB'].flatMap((name) =>
        process.env[name] ? [[name, process.env[name]]] : [],
      ),
    ),
    TRIBUTARY_PAYLOAD_KEY: payloadKey.toString('base64'),
    TRIBUTARY_ADMIN_TOKEN: admin,
    TRIBUTARY_TELEMETRY_SYNC_MINUTES: '0',
    LOG_LEVEL: 'info',
  };
  const startRole = async (role: 'api' | 'worker', extra: Record<string, string> = {}) => {
    const logFile = path.join(home, `${role}-${Date.now()}.log`);
    // `node --import tsx`, not the tsx CLI: one process, so SIGKILL kills the worker itself.
    const proc = spawnLogged(
      process.execPath,
      ['--import', 'tsx', START],
      { ...baseEnv, TRIBUTARY_ROLE: role, PORT: String(apiPort), ...extra },
      logFile,
    );
    const ready = role === 'api' ? /is running/ : /worker is polling/;
    await proc.waitFor(ready, 120_000, logFile);
    return proc;
  };

  const api = await startRole('api');
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitForHealth(apiUrl);
  const workers: Proc[] = [];
  const temporalConnection = await Connection.connect({ address: temporalAddress });
  const temporal = new Client({
    connection: temporalConnection,
    dataConverter: { payloadCodecs: [new AesGcmPayloadCodec(payloadKey)] },
  });

  const stack: FaultStack = {
    home,
    dataDir,
    temporalAddress,
    databaseUrl,
    apiUrl,
    admin,
    temporal,
    db,
    giveSchema: (schema) => provisionProject(db, 'default', [schema]),
    workers,
    async startWorker(extraEnv) {
      const worker = await startRole('worker', extraEnv);
      workers.push(worker);
      return worker;
    },
    startProcess: (role, extraEnv) => startRole(role, extraEnv),
    async killTemporal() {
      await temporalProc?.kill('SIGKILL');
    },
    startTemporal,
    async restartPostgres(downMs = 1_000) {
      await postgres.stop();
      await sleep(downMs);
      postgres = await providePostgres({ home: pgHome, port: pgPort, persistent: true, log });
    },
    async call(method, route, body, token = admin) {
      const response = await fetch(`${apiUrl}${route}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text && /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : text,
      };
    },
    async stop() {
      await temporalConnection.close().catch(() => {});
      for (const w of workers) await w.kill('SIGTERM');
      await api.kill('SIGTERM');
      await db.end().catch(() => {});
      await postgres.stop().catch(() => {});
      await temporalProc?.kill('SIGTERM');
      if (!process.env.FAULTS_KEEP_HOME) rmSync(home, { recursive: true, force: true });
      else process.stdout.write(`faults: kept ${home}\n`);
    },
  };
  return stack;
}

class TemporalExitedError extends Error {
  constructor(logFile: string) {
    super(`the Temporal dev server exited before it came up; log: ${logFile}`);
  }
}

interface LoggedProc extends Proc {
  waitFor(pattern: RegExp, timeoutMs: number, logFile: string): Promise<void>;
}

function spawnLogged(
  command: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
): LoggedProc {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: Object.keys(env).length ? env : process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = createWriteStream(logFile, { flags: 'a' });
  let seen = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out.write(chunk);
    seen = (seen + chunk.toString()).slice(-20_000);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let done = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      done = true;
      out.end();
      for (const l of listeners) l();
      resolve();
    }),
  );
  return {
    child,
    pid: child.pid!,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (done) return;
      child.kill(signal);
      const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(force);
    },
    waitFor(pattern, timeoutMs, file) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `${command} did not print ${pattern} within ${timeoutMs} ms; log: ${file}\n${seen.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          if (pattern.test(seen)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve();
          } else if (done) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(
              new Error(`${command} exited before printing ${pattern}; log: ${file}\n${seen.slice(-2000)}`),
            );
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}

async function waitForHealth(apiUrl: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${apiUrl}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`the API at ${apiUrl} never became healthy`);
    await sleep(250);
  }
}
