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
import { dispose, type Standby, type StandbyPool, type StandbyRequest } from './standby.js';

export interface PythonHost {
  options: PythonRuntimeOptions;
  /** `bwrap`, or `off` only where the operator said so (TRIBUTARY_PYTHON_SANDBOX=off). */
  sandbox: SandboxMode;
  egress: EgressPolicy;
  /** Warm standbys of transform.python (standby.ts); absent: every step starts cold. */
  standbys?: StandbyPool;
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
  /** Whether it holds a warm standby: `run` with a `job` then sends the job to it. */
  warm: boolean;
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
  /**
   * The job, for an attempt that holds a warm standby: sent over its stdin with the limits, instead
   * of starting `argv` (which a cold attempt runs, reading the same job from a file).
   */
  job?: unknown;
}

/** An attempt that may run on a warm standby: what it needs preloaded, and its sandbox settings. */
export interface WarmRequest extends StandbyRequest {
  network: boolean;
  limits: SandboxLimits;
}

/**
 * Gives `fn` a scratch directory and a way to run sandboxed processes; cleans up after. With
 * `warm`, a step without network takes its environment's warm standby when there is one (its
 * scratch directory is the standby's, fresh and used once).
 */
export async function withAttempt<T>(
  ctx: Pick<StepContext, 'signal' | 'python' | 'heartbeat'>,
  fn: (attempt: Attempt) => Promise<T>,
  warm?: WarmRequest,
): Promise<T> {
  const mode = ctx.python.sandbox;
  if (mode === 'bwrap' && !bwrapAvailable()) {
    throw new StepError(
      'Python steps need bubblewrap (bwrap) with user namespaces, which this worker lacks; install bubblewrap, ' +
        'or set TRIBUTARY_PYTHON_SANDBOX=off to run them with limits but without isolation (see docs/guides/python-steps.md)',
      'config',
    );
  }
  let standby = warm && !warm.network ? ctx.python.standbys?.take(warm, mode, warm.limits) : undefined;
  if (standby && !(await readyInTime(standby, ctx.signal))) {
    // It ended before its imports were done, or they hang: this step starts cold.
    await dispose(standby);
    standby = undefined;
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('cancelled');
  }
  const root = standby?.root ?? (await mkdtempIn(os.tmpdir(), 'tributary-py-'));
  const scratchDir = path.join(root, 'scratch');
  const proxyDir = path.join(root, 'egress');
  if (!standby) await mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const proxies: { close(): Promise<void>; refusals: string[] }[] = [];
  let ranOn: Standby | undefined;
  try {
    const attempt: Attempt = {
      scratchDir,
      warm: standby !== undefined,
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
        // A standby has no proxy: a process that needs one (network, or the offline stop) starts cold.
        const held = proxied ? undefined : standby;
        if (held) {
          standby = undefined; // single use
          ranOn = held;
        }
        const process = held
          ? runOnStandby(held, options, ctx.signal)
          : spawnSandboxed({
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
    // A standby is ended whether or not its job ran (it is never handed to another step).
    const held = standby ?? ranOn;
    if (held) await dispose(held);
    else await rm(root, { recursive: true, force: true });
  }
}

/** A standby still importing is worth waiting for (a cold start would import all of it again), within reason. */
const STANDBY_READY_MS = 60_000;

/** Whether `standby` finishes its imports before a minute passes or the step is cancelled. */
async function readyInTime(standby: Standby, signal: AbortSignal): Promise<boolean> {
  if (standby.isReady) return true;
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  const givenUp = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), STANDBY_READY_MS);
    onAbort = () => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([standby.ready, givenUp]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** Sends the job and the step's limits to a standby, arming its wall time and cancellation now. */
function runOnStandby(standby: Standby, options: RunOptions, signal: AbortSignal): SandboxProcess {
  if (options.job === undefined || options.network) {
    throw new Error('a warm standby runs a transform job without network; this attempt asked otherwise');
  }
  const child = standby.process;
  child.watch(signal, options.limits.wallSeconds);
  // A standby that died meanwhile closes its pipe: its exit is classified like any other.
  child.stdin!.on('error', () => {});
  child.stdin!.end(
    JSON.stringify({
      limits: { cpuSeconds: options.limits.cpuSeconds, memoryMb: options.limits.memoryMb },
      job: options.job,
    }) + '\n',
  );
  return child;
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
