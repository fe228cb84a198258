// What a Python step does around its process: resolve the node's environment (built once, with
// progress on the step), make the attempt's scratch directory, start the egress proxy when the node
// may use the network, run the process in the sandbox, and turn how it ended into one classified
// error. Node types (transform.python, source.airbyte, source.singer) supply the command and
// what goes in and out of the scratch directory.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StepError } from '../errors.js';
import type { EgressPolicy } from '../egress/egress-fence.js';
import type { StepContext } from '../node-type.js';
import { ensureEnvironment, type PythonEnvironment, type PythonRuntimeOptions } from './environment.js';
import { startEgressProxy } from './egress-proxy.js';
import { parseRequirements } from './requirements.js';
import { classifyExit } from './python-failure.js';
import {
  bwrapAvailable,
  spawnSandboxed,
  type SandboxExit,
  type SandboxLimits,
  type SandboxMode,
  type SandboxProcess,
} from './sandbox.js';

export interface PythonHost {
  options: PythonRuntimeOptions;
  /** `bwrap`, or `off` only where the operator said so (TRIBUTARY_PYTHON_SANDBOX=off). */
  sandbox: SandboxMode;
  egress: EgressPolicy;
}

export const DEFAULT_LIMITS: SandboxLimits = { cpuSeconds: 600, memoryMb: 2048, wallSeconds: 1800 };

/** The environment for a node's requirements, built with progress reported on the step. */
export async function prepareEnvironment(
  ctx: Pick<StepContext, 'heartbeat' | 'log' | 'python'>,
  requirements: readonly string[],
  field: string,
): Promise<PythonEnvironment> {
  const parsed = parseRequirements(requirements, field);
  let lines = 0;
  const env = await ensureEnvironment(ctx.python.options, parsed, field, (progress) => {
    lines++;
    ctx.heartbeat({ phase: progress.phase, message: progress.message.slice(0, 300), lines });
  });
  if (env.built) ctx.log.info('built Python environment', { requirements: [...requirements], dir: env.dir });
  return env;
}

export interface Attempt {
  /** The attempt's scratch directory on the worker (the sandbox's /scratch). */
  scratchDir: string;
  /** Runs one process in the sandbox; resolves when it exits 0, throws the classified error otherwise. */
  run(options: RunOptions): Promise<{ process: SandboxProcess; finished: Promise<SandboxExit> }>;
}

export interface RunOptions {
  argv: string[];
  env: PythonEnvironment;
  network: boolean;
  limits: SandboxLimits;
  /** Further directories mounted read-only, as the sandbox sees them. */
  readOnly?: { host: string; path: string }[];
  /** How the process is named in errors ("the Python code of step t"). */
  what: string;
  /** The user's own file as the sandbox sees it, and how to name it, for traceback frames. */
  userFile?: string;
  userLabel?: string;
  /**
   * A connector without network (network: false) that tries to reach a service anyway is stopped
   * at its first try, failing as a config error at `network`, instead of retrying for minutes.
   */
  failWhenOffline?: boolean;
  /** When set, an exit code the caller explains itself (e.g. a connector's TRACE error). */
  explain?: (exit: SandboxExit) => Error | undefined;
}

/** Gives `fn` a scratch directory and a way to run sandboxed processes; cleans up after. */
export async function withAttempt<T>(
  ctx: Pick<StepContext, 'signal' | 'python' | 'heartbeat'>,
  fn: (attempt: Attempt) => Promise<T>,
): Promise<T> {
  const mode = ctx.python.sandbox;
  if (mode === 'bwrap' && !bwrapAvailable()) {
    throw new StepError(
      'Python steps need bubblewrap (bwrap) with user namespaces, which this worker lacks; install bubblewrap, ' +
        'or set TRIBUTARY_PYTHON_SANDBOX=off to run them with limits but without isolation (see docs/guides/python-steps.md)',
      'config',
    );
  }
  const root = await mkdtempIn(os.tmpdir(), 'tributary-py-');
  const scratchDir = path.join(root, 'scratch');
  const proxyDir = path.join(root, 'egress');
  await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const proxies: { close(): Promise<void>; refusals: string[] }[] = [];
  try {
    const attempt: Attempt = {
      scratchDir,
      async run(options) {
        let refusals: string[] = [];
        // Offline, a connector's HTTP clients are pointed at a proxy that refuses everything, so
        // each try is known at once, with what it tried to reach. A second try of one destination
        // is a retry loop that cannot succeed: the process is stopped there. A single try (a
        // package's telemetry ping at import, which the connector shrugs off) is let be.
        const offlineGuard = !options.network && options.failWhenOffline === true;
        const proxied = options.network || offlineGuard;
        // One proxy per process (its own directory: a connector runs several in one attempt).
        const socketDir = path.join(proxyDir, String(proxies.length));
        let stop = () => {};
        let stopped: string | undefined;
        const tries = new Map<string, number>();
        if (proxied) {
          // The proxy listens before the process starts; closed with the attempt.
          await mkdir(socketDir, { recursive: true, mode: 0o700 });
          const proxy = await startEgressProxy(
            ctx.python.egress,
            path.join(socketDir, 'proxy.sock'),
            offlineGuard
              ? {
                  refuseAll: (target) => {
                    const n = (tries.get(target) ?? 0) + 1;
                    tries.set(target, n);
                    return (
                      `config.network: ${options.what} tried to reach ${target}${n > 1 ? ` (try ${n})` : ''}, but its ` +
                      'node has no network (network: false); set network: true to let it reach its service through ' +
                      'the egress fence'
                    );
                  },
                  onRefusal: (why) => {
                    if (stopped || !/ \(try \d+\), but its node/.test(why)) return;
                    stopped = why;
                    stop();
                  },
                }
              : {},
          );
          proxies.push(proxy);
          refusals = proxy.refusals;
        }
        const process = spawnSandboxed({
          argv: proxied ? options.argv : withoutLauncher(options.argv),
          envDir: options.env.dir,
          basePrefix: options.env.basePrefix,
          scratchDir,
          ...(proxied ? { proxyDir: socketDir } : {}),
          limits: options.limits,
          ...(options.readOnly ? { readOnly: options.readOnly } : {}),
          signal: ctx.signal,
          mode,
        });
        stop = () => process.kill();
        const finished = process.done.then((exit) => {
          if (exit.cancelled) throw ctx.signal.reason ?? new Error('cancelled');
          if (stopped) throw new StepError(stopped.replace(/ \(try \d+\)/, ''), 'config');
          if (exit.code === 0 && !exit.signal) return exit;
          // A refused connection is why a network error happened: say so.
          if (refusals.length > 0 && !offlineGuard)
            throw new StepError(`${options.what}: ${refusals[0]}`, 'config');
          const explained = options.explain?.(exit);
          if (explained) throw explained;
          // Offline, a connector that failed after trying the network once failed for want of it.
          if (refusals.length > 0) throw new StepError(refusals[0]!, 'config');
          throw classifyExit(
            exit,
            options.limits,
            options.what,
            options.userFile,
            options.userLabel,
            options.network,
          );
        });
        // Until the caller awaits it, a failure must not count as unhandled.
        finished.catch(() => {});
        return { process, finished };
      },
    };
    return await fn(attempt);
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await rm(root, { recursive: true, force: true });
  }
}

const LAUNCHER = ['/env/bin/python', '/opt/tributary/launcher.py'];

/**
 * The launcher only bridges the sandbox to the egress proxy: without network it has nothing to do,
 * and skipping it saves a Python interpreter start on every process (a warm step's overhead).
 */
function withoutLauncher(argv: string[]): string[] {
  return argv.length > 2 && argv[0] === LAUNCHER[0] && argv[1] === LAUNCHER[1] ? argv.slice(2) : argv;
}

async function mkdtempIn(dir: string, prefix: string): Promise<string> {
  const made = path.join(dir, prefix + randomBytes(6).toString('hex'));
  await mkdir(made, { mode: 0o700 });
  return made;
}
