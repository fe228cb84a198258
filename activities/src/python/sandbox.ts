// Runs one process of a Python step in a sandbox: bubblewrap (what Flatpak runs on) gives it its
// own user, mount, PID, IPC and network namespaces without a daemon, and prlimit its CPU-time,
// memory and open-file limits. What the process sees:
// - a read-only view of the system's /usr, /lib, /bin, /etc/ssl, the interpreter and its
//   environment — not the worker's home, code, data directory, nor any other project's files;
// - one writable scratch directory (/scratch) and a small /tmp, both gone after the attempt;
// - no network at all, or (when its node needs it) only a unix socket to the worker's egress
//   proxy, which applies the platform's one egress check to every connection;
// - an environment of a few variables: never the worker's database URLs, keys or tokens.
// The wall-time limit and cancellation kill the whole process group.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** The Python files the sandbox runs (launcher, transform harness), mounted read-only. */
export const PY_DIR = fileURLToPath(new URL('./py', import.meta.url));

export interface SandboxLimits {
  cpuSeconds: number;
  memoryMb: number;
  wallSeconds: number;
}

export interface SandboxSpec {
  /** The command inside the sandbox (paths as the sandbox sees them). */
  argv: string[];
  /** The environment's directory, mounted at /env. */
  envDir: string;
  /** The interpreter's installation, mounted where it is (the environment's python links into it). */
  basePrefix: string;
  /** Mounted read-write at /scratch, the working directory. */
  scratchDir: string;
  /** The egress proxy's socket directory, mounted at /run/egress; absent: no network at all. */
  proxyDir?: string;
  limits: SandboxLimits;
  /** Further directories mounted read-only (a project's files for a tap that reads them). */
  readOnly?: { host: string; path: string }[];
  /** Extra variables (never secrets: those travel in files of the scratch directory). */
  env?: Record<string, string>;
  signal: AbortSignal;
  /** `bwrap` (default) or `off` (TRIBUTARY_PYTHON_SANDBOX=off: limits and a clean environment only). */
  mode: SandboxMode;
}

export type SandboxMode = 'bwrap' | 'off';

export interface SandboxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last 64 KiB of stderr (tracebacks, connector logs). */
  stderr: string;
  /** Killed for exceeding its wall time. */
  timedOut: boolean;
  /** Killed because the step was cancelled. */
  cancelled: boolean;
}

export interface SandboxProcess {
  stdout: Readable;
  /** Lines of stderr as they come, for progress. */
  onStderrLine(listener: (line: string) => void): void;
  done: Promise<SandboxExit>;
  kill(): void;
}

const SYSTEM_DIRS = [
  '/usr',
  '/lib',
  '/lib64',
  '/lib32',
  '/bin',
  '/sbin',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/alternatives',
];
const SYSTEM_FILES = ['/etc/localtime', '/etc/nsswitch.conf', '/etc/passwd', '/etc/group', '/etc/mime.types'];

/** bwrap's arguments for a spec: exported for the tests that pin what the sandbox mounts. */
export function bwrapArgs(spec: Omit<SandboxSpec, 'signal' | 'limits' | 'mode'>): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--uid',
    '65534',
    '--gid',
    '65534',
    '--hostname',
    'sandbox',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--disable-userns',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(256 * 1024 * 1024),
    '--tmpfs',
    '/tmp',
  ];
  for (const dir of SYSTEM_DIRS) args.push('--ro-bind-try', dir, dir);
  for (const file of SYSTEM_FILES) args.push('--ro-bind-try', file, file);
  args.push('--ro-bind', spec.basePrefix, spec.basePrefix);
  args.push('--ro-bind', spec.envDir, '/env');
  args.push('--ro-bind', PY_DIR, '/opt/tributary');
  args.push('--bind', spec.scratchDir, '/scratch');
  if (spec.proxyDir) args.push('--ro-bind', spec.proxyDir, '/run/egress');
  for (const mount of spec.readOnly ?? []) args.push('--ro-bind', mount.host, mount.path);
  args.push('--chdir', '/scratch', '--');
  return args;
}

let bwrapWorks: boolean | undefined;

/** Whether bubblewrap can make its namespaces on this machine (user namespaces may be disallowed). */
export function bwrapAvailable(): boolean {
  if (bwrapWorks === undefined) {
    const probe = spawnSync(
      'bwrap',
      ['--unshare-all', '--unshare-user', '--ro-bind', '/', '/', '--', 'true'],
      {
        stdio: 'ignore',
        timeout: 10_000,
      },
    );
    bwrapWorks = probe.status === 0;
  }
  return bwrapWorks;
}

export function spawnSandboxed(spec: SandboxSpec): SandboxProcess {
  const started = startSandboxed(spec);
  started.watch(spec.signal, spec.limits.wallSeconds);
  return started;
}

/** A sandboxed process whose wall-time limit and cancellation are armed later (a warm standby). */
export interface StartedSandbox extends SandboxProcess {
  /** The process's stdin (only when started with `stdin: true`). */
  stdin: Writable | null;
  /** Its pid on the worker (prlimit's, which became bwrap's). */
  pid: number | undefined;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Arms the wall-time limit (from now) and cancellation by `signal`. Once. */
  watch(signal: AbortSignal, wallSeconds: number): void;
  /** Lets the worker exit while the process idles (a standby); `ref` undoes it. */
  unref(): void;
  ref(): void;
}

/**
 * Starts the process without arming its wall-time limit or cancellation: a warm standby starts
 * this way and is armed when a step takes it, so its wall time counts from the step's start.
 */
export function startSandboxed(
  spec: Omit<SandboxSpec, 'signal'> & { /** A pipe to its stdin (else /dev/null). */ stdin?: boolean },
): StartedSandbox {
  const env: Record<string, string> = {
    PATH: '/env/bin:/usr/local/bin:/usr/bin:/bin',
    HOME: '/scratch',
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
    ...(spec.proxyDir ? { TRIBUTARY_PROXY_SOCKET: '/run/egress/proxy.sock' } : {}),
    ...spec.env,
  };
  const limits = [
    `--as=${spec.limits.memoryMb * 1024 * 1024}`,
    // Soft limit first (SIGXCPU, which the step's error names), SIGKILL a second later: with both
    // equal the kernel sends SIGKILL at once and the step could only say "killed".
    `--cpu=${spec.limits.cpuSeconds}:${spec.limits.cpuSeconds + 1}`,
    '--nofile=4096',
    '--core=0',
  ];
  let command: string;
  let args: string[];
  if (spec.mode === 'bwrap') {
    command = 'prlimit';
    args = [...limits, '--', 'bwrap', ...bwrapArgs(spec), ...spec.argv];
  } else {
    // No namespaces: the same paths must exist outside, so /env, /scratch and /opt/tributary are
    // rewritten to the real directories. Limits and the clean environment still hold.
    const mounts: [string, string][] = [
      ['/env', spec.envDir],
      ['/scratch', spec.scratchDir],
      ['/opt/tributary', PY_DIR],
      ['/run/egress', spec.proxyDir ?? '/nonexistent'],
      ...(spec.readOnly ?? []).map((m): [string, string] => [m.path, m.host]),
    ];
    const real = (p: string) => {
      for (const [inside, outside] of mounts) {
        if (p === inside || p.startsWith(inside + '/')) return outside + p.slice(inside.length);
      }
      return p;
    };
    command = 'prlimit';
    args = [...limits, '--', ...spec.argv.map(real)];
    env.PATH = `${path.join(spec.envDir, 'bin')}:/usr/local/bin:/usr/bin:/bin`;
    env.HOME = spec.scratchDir;
    if (env.TRIBUTARY_PROXY_SOCKET) env.TRIBUTARY_PROXY_SOCKET = real(env.TRIBUTARY_PROXY_SOCKET);
    for (const [key, value] of Object.entries(env)) env[key] = real(value);
  }
  const child: ChildProcess = spawn(command, args, {
    cwd: spec.mode === 'bwrap' ? '/' : spec.scratchDir,
    env,
    stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so a kill reaches every process it started
  });
  let stderr = '';
  let partial = '';
  const listeners: ((line: string) => void)[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr = (stderr + text).slice(-64 * 1024);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) for (const listener of listeners) listener(line);
  });
  let timedOut = false;
  let cancelled = false;
  const killGroup = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  let unwatch = () => {};
  let exited = false;
  const watch = (signal: AbortSignal, wallSeconds: number) => {
    if (exited) return;
    const wall = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, wallSeconds * 1000);
    const onAbort = () => {
      cancelled = true;
      killGroup();
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    unwatch = () => {
      clearTimeout(wall);
      signal.removeEventListener('abort', onAbort);
    };
  };
  child.on('exit', () => (exited = true));
  const done = new Promise<SandboxExit>((resolve, reject) => {
    child.on('error', (error) => {
      exited = true;
      unwatch();
      reject(error);
    });
    child.on('close', (code, signal) => {
      exited = true;
      unwatch();
      if (partial) for (const listener of listeners) listener(partial);
      resolve({ code, signal, stderr, timedOut, cancelled });
    });
  });
  // Pipes hold the event loop like the child does: a standby must not keep the worker alive.
  const handles = [child.stdin, child.stdout, child.stderr] as unknown as ({
    ref?: () => void;
    unref?: () => void;
  } | null)[];
  return {
    stdout: child.stdout!,
    stdin: child.stdin,
    pid: child.pid,
    get exited() {
      return exited;
    },
    onStderrLine: (listener) => listeners.push(listener),
    done,
    kill: killGroup,
    watch,
    unref() {
      child.unref();
      for (const handle of handles) handle?.unref?.();
    },
    ref() {
      child.ref();
      for (const handle of handles) handle?.ref?.();
    },
  };
}
