// Warm standbys for transform.python (issue 28): per built environment and mode (pandas, arrow),
// the worker keeps ONE sandboxed interpreter that has already imported the harness and pandas
// (and pyarrow) and waits for a job on stdin. A step without network takes it, sends its job and
// limits over the pipe, and the process runs exactly as a cold step would, then exits: a standby
// is used once, never for a second step, so nothing a step leaves (files, modules, memory) reaches
// the next step or another project. Taking one starts its replacement in the background.
//
// What a standby is: the cold path's sandbox (sandbox.ts) with no network, its own fresh scratch
// directory and the same clean environment (no secrets: a standby belongs to no project until a
// step takes it, and a step's data arrive only after). Its limits start at a ceiling the step
// lowers in the process itself (RLIMIT_CPU to the CPU time used so far plus the step's limit,
// RLIMIT_AS to the step's memory); its wall-time limit and cancellation are armed when it is
// taken. Idle standbys end after `idleMs`, and all of them on worker shutdown.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PythonEnvironment } from './environment.js';
import { startSandboxed, type SandboxLimits, type SandboxMode, type StartedSandbox } from './sandbox.js';

/** What a standby has preloaded: the harness with pandas, or also pyarrow. */
export type StandbyKind = 'pandas' | 'arrow';

export interface StandbySettings {
  /** At most this many standbys at once, over all environments; 0: none (every step starts cold). */
  max: number;
  /** An idle standby ends after this long. */
  idleMs: number;
}

export const DEFAULT_STANDBY_SETTINGS: StandbySettings = { max: 2, idleMs: 5 * 60_000 };

/**
 * A standby starts with these limits and a step lowers them to its own. The CPU ceiling leaves
 * room for the imports on top of the largest limit a step may set (LimitsSchema: one day); a step
 * whose limits are above the ceiling starts cold.
 */
export const STANDBY_CEILING: SandboxLimits = {
  cpuSeconds: 86_400 + 3_600,
  memoryMb: 65_536,
  wallSeconds: 86_400,
};

const READY = 'tributary-standby-ready';

export interface StandbyRequest {
  env: PythonEnvironment;
  kind: StandbyKind;
}

export interface Standby {
  /** Its directory on the worker; holds `scratch/`, removed by whoever ends it. */
  root: string;
  /** Its scratch directory on the worker (the sandbox's /scratch). */
  scratchDir: string;
  process: StartedSandbox;
  /** Resolves true once the imports are done; false when it ended before. */
  ready: Promise<boolean>;
  /** When it was started (ms since the epoch). */
  startedAt: number;
  /** Whether its imports are done (what `ready` resolved to, once it has). */
  isReady: boolean;
  /** Whether it was ended on purpose (idle, evicted, shutdown, its step done). */
  disposed: boolean;
}

interface Entry {
  key: string;
  standby: Standby;
  idle: NodeJS.Timeout;
}

export class StandbyPool {
  private readonly idle = new Map<string, Entry>();
  private readonly failedAt = new Map<string, number>();
  private settings: StandbySettings = DEFAULT_STANDBY_SETTINGS;
  private ended = false;

  configure(settings: Partial<StandbySettings>): void {
    this.settings = { ...this.settings, ...settings };
    this.ended = false;
    while (this.idle.size > this.settings.max) this.evictOldest();
  }

  /**
   * The idle standby for `request`, removed from the pool (single use), with its replacement
   * started in the background; undefined when there is none (the step starts cold, and a standby
   * is started for the next one).
   */
  take(request: StandbyRequest, mode: SandboxMode, limits: SandboxLimits): Standby | undefined {
    if (!this.eligible(mode, limits)) return undefined;
    const key = keyOf(request);
    const entry = this.idle.get(key);
    if (entry) {
      this.idle.delete(key);
      clearTimeout(entry.idle);
    }
    this.prepare(request, mode);
    if (!entry || entry.standby.process.exited) {
      if (entry) void dispose(entry.standby);
      return undefined;
    }
    entry.standby.process.ref();
    return entry.standby;
  }

  /** Starts a standby for `request` in the background unless one is there or none may be. */
  prepare(request: StandbyRequest, mode: SandboxMode): void {
    if (this.ended || mode !== 'bwrap' || this.settings.max <= 0) return;
    this.cleanUpOnExit();
    const key = keyOf(request);
    if (this.idle.has(key)) return;
    // One that died before its imports were done (a broken environment) is not retried at once.
    const failed = this.failedAt.get(key);
    if (failed !== undefined && Date.now() - failed < 60_000) return;
    if (this.idle.size >= this.settings.max) this.evictOldest();
    let standby: Standby;
    try {
      standby = startStandby(request);
    } catch {
      this.failedAt.set(key, Date.now());
      return;
    }
    const entry: Entry = {
      key,
      standby,
      idle: setTimeout(() => this.end(key, entry), this.settings.idleMs).unref(),
    };
    this.idle.set(key, entry);
    void standby.ready.then((ready) => {
      // Ended before its imports were done, and not by us: something is wrong with it.
      if (!ready && !standby.disposed) this.failedAt.set(key, Date.now());
    });
    // Ended while idle (killed, or it failed): out of the pool, its directory removed.
    void standby.process.done
      .catch(() => undefined)
      .then(() => {
        if (this.idle.get(key) === entry) this.end(key, entry);
      });
  }

  /** The idle standbys (for tests and the bench: which are there, and are they ready). */
  list(): {
    kind: StandbyKind;
    envDir: string;
    pid: number | undefined;
    scratchDir: string;
    startedAt: number;
    ready: boolean;
  }[] {
    return [...this.idle.values()].map(({ key, standby }) => {
      const [kind, envDir] = JSON.parse(key) as [StandbyKind, string];
      return {
        kind,
        envDir,
        pid: standby.process.pid,
        scratchDir: standby.scratchDir,
        startedAt: standby.startedAt,
        ready: standby.isReady,
      };
    });
  }

  /** Waits until the standby for `request` has done its imports (tests and the bench). */
  async whenReady(request: StandbyRequest): Promise<boolean> {
    const entry = this.idle.get(keyOf(request));
    return entry ? entry.standby.ready : false;
  }

  /** Ends every idle standby and starts no more (worker shutdown). */
  async endAll(): Promise<void> {
    this.ended = true;
    const entries = [...this.idle.values()];
    this.idle.clear();
    await Promise.all(
      entries.map((entry) => {
        clearTimeout(entry.idle);
        return dispose(entry.standby);
      }),
    );
  }

  private exitHook = false;

  /**
   * A process that exits without ending its worker (a script, the bench) would leave the idle
   * standbys' directories behind (the processes die with it: bubblewrap's --die-with-parent).
   */
  private cleanUpOnExit(): void {
    if (this.exitHook) return;
    this.exitHook = true;
    process.once('exit', () => {
      for (const { standby } of this.idle.values()) {
        if (!standby.process.exited) standby.process.kill();
        rmSync(standby.root, { recursive: true, force: true });
      }
    });
  }

  private eligible(mode: SandboxMode, limits: SandboxLimits): boolean {
    return (
      mode === 'bwrap' &&
      limits.cpuSeconds + 600 <= STANDBY_CEILING.cpuSeconds &&
      limits.memoryMb <= STANDBY_CEILING.memoryMb
    );
  }

  private end(key: string, entry: Entry): void {
    if (this.idle.get(key) === entry) this.idle.delete(key);
    clearTimeout(entry.idle);
    void dispose(entry.standby);
  }

  private evictOldest(): void {
    const oldest = [...this.idle.values()].sort((a, b) => a.standby.startedAt - b.standby.startedAt)[0];
    if (oldest) this.end(oldest.key, oldest);
  }
}

/** The worker's standbys: one pool a process, so "at most a few" holds for the whole worker. */
export const standbys = new StandbyPool();

function keyOf(request: StandbyRequest): string {
  return JSON.stringify([request.kind, request.env.dir, request.env.basePrefix]);
}

function startStandby(request: StandbyRequest): Standby {
  const root = path.join(os.tmpdir(), `tributary-py-${randomBytes(6).toString('hex')}`);
  const scratchDir = path.join(root, 'scratch');
  // Synchronous: the directories must exist before bwrap binds them, and this is two mkdirs.
  mkdirSync(root, { mode: 0o700 });
  mkdirSync(scratchDir, { mode: 0o700 });
  const child = startSandboxed({
    argv: ['/env/bin/python', '/opt/tributary/standby.py', request.kind],
    envDir: request.env.dir,
    basePrefix: request.env.basePrefix,
    scratchDir,
    limits: STANDBY_CEILING,
    mode: 'bwrap',
    stdin: true,
  });
  child.unref();
  child.done.catch(() => undefined);
  const ready = new Promise<boolean>((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(READY + '\n')) {
        // The step's own output comes after this line, to the step's listener.
        child.stdout.removeListener('data', onData);
        resolve(true);
      }
    };
    child.stdout.on('data', onData);
    void child.done.then(
      () => resolve(false),
      () => resolve(false),
    );
  });
  const standby: Standby = {
    root,
    scratchDir,
    process: child,
    ready,
    startedAt: Date.now(),
    isReady: false,
    disposed: false,
  };
  void ready.then((done) => (standby.isReady = done));
  return standby;
}

/** Ends a standby's process and removes its directory. */
export async function dispose(standby: Standby): Promise<void> {
  standby.disposed = true;
  // Only while it runs: once reaped, its process group id may belong to someone else.
  if (!standby.process.exited) standby.process.kill();
  await standby.process.done.catch(() => undefined);
  await rm(standby.root, { recursive: true, force: true });
}
