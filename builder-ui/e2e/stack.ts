// Starts a real Tributary stack for the browser tests: builds the UI, then runs `engine/src/cli/start.ts`
// (API + worker + Temporal dev server + embedded Postgres) on free ports in a throwaway home, and
// stops it again. E2E_BASE_URL + E2E_TOKEN reuse a stack that is already running instead.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface Stack {
  baseUrl: string;
  token: string;
  /** The stack's data directory, where file connectors read (E2E_DATA_DIR for a stack of yours). */
  dataDir: string | undefined;
  /** The stack's log so far (for failure reports). */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForHealth(
  baseUrl: string,
  child: ChildProcess | null,
  output: () => string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(
        `The stack exited with code ${child.exitCode} before it was healthy:\n${output().slice(-4000)}`,
      );
    }
    try {
      const response = await fetch(`${baseUrl}/api/health`);
      const body = (await response.json()) as { status?: string };
      if (response.ok && body.status === 'ok') return;
      last = JSON.stringify(body);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(
    `The stack did not become healthy within ${timeoutMs / 1000} s (last: ${last}):\n${output().slice(-4000)}`,
  );
}

export function buildUi(): void {
  const result = spawnSync('npm', ['run', 'build', '--workspace', 'builder-ui'], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: 'pipe',
  });
  if (result.status !== 0) throw new Error(`Building the UI failed:\n${result.stdout}\n${result.stderr}`);
}

export interface StackOptions {
  /** More environment for the stack (e.g. DATABASE_URL of a Postgres the scenario stops and starts). */
  env?: Record<string, string>;
  /** The UI is built already (a second stack in one run). */
  built?: boolean;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  if (process.env.E2E_BASE_URL && !options.env) {
    const baseUrl = process.env.E2E_BASE_URL.replace(/\/$/, '');
    await waitForHealth(baseUrl, null, () => '', 10_000);
    return {
      baseUrl,
      token: process.env.E2E_TOKEN ?? '',
      dataDir: process.env.E2E_DATA_DIR,
      log: () => '',
      stop: async () => {},
    };
  }
  if (!options.built) buildUi();
  const home = mkdtempSync(path.join(tmpdir(), 'tributary-e2e-'));
  // The embedded Postgres runs as the postgres user when we are root: it must reach this directory.
  chmodSync(home, 0o755);
  // The Python environments the tests pin, when built (activities/scripts/build-python-envs.ts), as
  // an operator would have them: a template's Python step then starts without fetching from PyPI.
  const pythonEnvs = path.join(REPO, '.tributary', 'python');
  if (existsSync(pythonEnvs)) symlinkSync(pythonEnvs, path.join(home, 'python'));
  const [port, temporalPort, temporalUiPort, postgresPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const token = `trb_e2e_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  // The Temporal CLI fetched by an earlier `npm test` or `npm start`, when there is one.
  const cachedCli = path.join(REPO, '.tributary', 'bin', 'temporal');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRIBUTARY_HOME: home,
    PORT: String(port),
    HOST: '127.0.0.1',
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(temporalUiPort),
    POSTGRES_PORT: String(postgresPort),
    TRIBUTARY_ADMIN_TOKEN: token,
    LOG_LEVEL: 'info',
    // The scenarios' own HTTP servers (a template's API, say) listen on loopback, as in engine/test/harness.ts.
    TRIBUTARY_EGRESS_ALLOW: process.env.TRIBUTARY_EGRESS_ALLOW ?? '127.0.0.0/8,localhost',
    ...(existsSync(cachedCli) && !process.env.TEMPORAL_CLI_PATH ? { TEMPORAL_CLI_PATH: cachedCli } : {}),
    ...options.env,
  };
  let output = '';
  const child = spawn('npx', ['tsx', 'engine/src/cli/start.ts'], {
    cwd: REPO,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 30_000);
      await exited;
      clearTimeout(timer);
    }
    writeFileSync(path.join(home, 'stack.log'), output);
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await waitForHealth(baseUrl, child, () => output, 240_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, token, dataDir: path.join(home, 'files'), log: () => output, stop };
}
