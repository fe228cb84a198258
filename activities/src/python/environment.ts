// Cached Python environments: a pinned requirement set becomes a virtual environment under the
// deployment's home, built once (with uv, or pip when uv is missing) from the operator's package
// index, and shared by every node that pins the same set. A build happens in a directory of its
// own and is renamed into place when complete, so a crashed or concurrent build never leaves a
// half-installed environment where a step would find it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StepError, TransientError } from '../errors.js';
import { environmentKey, normaliseName, type Requirement } from './requirements.js';

export interface PythonRuntimeOptions {
  /** Environments and the installer's cache live here (`$TRIBUTARY_HOME/python`). */
  home: string;
  /** The interpreter environments are made from (`TRIBUTARY_PYTHON`, else `python3` on PATH). */
  python: string;
  /** The package index (`TRIBUTARY_PYTHON_INDEX_URL`); unset: PyPI. */
  indexUrl?: string;
  /** The uv binary (`TRIBUTARY_UV`); unset: `uv` on PATH, then `python -m uv`, then pip. */
  uv?: string;
}

export const PYPI = 'https://pypi.org/simple';

export interface PythonEnvironment {
  /** The environment's directory (its `bin/` holds python and the packages' commands). */
  dir: string;
  /** The base interpreter's installation, which the environment's python links into. */
  basePrefix: string;
  /** Whether this call built it (false: it was in the cache). */
  built: boolean;
}

export interface BuildProgress {
  phase: 'environment';
  message: string;
}

const building = new Map<string, Promise<PythonEnvironment>>();

/** The environment for `requirements`, built on first use; concurrent callers share one build. */
export function ensureEnvironment(
  options: PythonRuntimeOptions,
  requirements: readonly Requirement[],
  field: string,
  onProgress: (progress: BuildProgress) => void,
): Promise<PythonEnvironment> {
  const indexUrl = options.indexUrl ?? PYPI;
  const key = environmentKey(requirements, options.python, indexUrl);
  const dir = path.join(options.home, 'envs', key);
  const pending = building.get(key);
  if (pending) return pending;
  const promise = (async () => {
    const basePrefix = await interpreterPrefix(options.python);
    if (existsSync(path.join(dir, '.complete'))) {
      // Built before environments came with bytecode: compile it once, now.
      if (!existsSync(path.join(dir, BYTECODE))) await compileBytecode(dir, onProgress);
      return { dir, basePrefix, built: false };
    }
    await build(options, requirements, field, dir, indexUrl, onProgress);
    return { dir, basePrefix, built: true };
  })().finally(() => building.delete(key));
  building.set(key, promise);
  return promise;
}

async function build(
  options: PythonRuntimeOptions,
  requirements: readonly Requirement[],
  field: string,
  dir: string,
  indexUrl: string,
  onProgress: (progress: BuildProgress) => void,
): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  const scratch = `${dir}.build-${randomBytes(4).toString('hex')}`;
  const report = (message: string) => onProgress({ phase: 'environment', message });
  try {
    const uv = await findUv(options);
    const requirementsFile = `${scratch}.txt`;
    await writeFile(requirementsFile, requirements.map((r) => r.line).join('\n') + '\n');
    report(`building a Python environment for ${requirements.map((r) => r.line).join(', ')}`);
    try {
      if (uv) {
        // --relocatable: the commands' shebangs find python relative to themselves, so the
        // directory can be renamed into place (and mounted elsewhere in the sandbox).
        await runInstaller(
          uv.command,
          [...uv.args, 'venv', '--relocatable', '--python', options.python, scratch],
          report,
        );
        await runInstaller(
          uv.command,
          [
            ...uv.args,
            'pip',
            'install',
            '--python',
            path.join(scratch, 'bin', 'python'),
            '--index-url',
            indexUrl,
            '--cache-dir',
            path.join(options.home, 'uv-cache'),
            // The sandbox mounts the environment read-only and Python may not write bytecode
            // there: without it, every process compiles its imports from source again (pandas:
            // about a second of CPU a step).
            '--compile-bytecode',
            '-r',
            requirementsFile,
          ],
          report,
        );
      } else {
        await runInstaller(options.python, ['-m', 'venv', scratch], report);
        await runInstaller(
          path.join(scratch, 'bin', 'python'),
          [
            '-m',
            'pip',
            'install',
            '--disable-pip-version-check',
            '--index-url',
            indexUrl,
            '-r',
            requirementsFile,
          ],
          report,
        );
      }
    } finally {
      await rm(requirementsFile, { force: true });
    }
    // uv compiled with --compile-bytecode; pip compiles by default.
    await writeFile(path.join(scratch, BYTECODE), '');
    await writeFile(
      path.join(scratch, '.complete'),
      JSON.stringify({
        requirements: requirements.map((r) => r.line),
        indexUrl,
        builtAt: new Date().toISOString(),
      }),
    );
    try {
      await rename(scratch, dir);
    } catch (error) {
      // Another worker finished the same environment first: theirs is as good as ours.
      if (!existsSync(path.join(dir, '.complete'))) throw error;
    }
    report('Python environment ready');
  } catch (error) {
    throw explainBuildFailure(error, requirements, field, indexUrl);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Marks an environment whose packages are compiled to bytecode. */
const BYTECODE = '.bytecode';

/** Compiles an environment's packages (one built without bytecode); a failure only costs speed. */
async function compileBytecode(dir: string, onProgress: (progress: BuildProgress) => void): Promise<void> {
  onProgress({ phase: 'environment', message: 'compiling the Python environment to bytecode' });
  try {
    await runInstaller(
      path.join(dir, 'bin', 'python'),
      ['-m', 'compileall', '-q', '-j', '0', path.join(dir, 'lib')],
      () => {},
    );
  } catch {
    // compileall exits non-zero when a file does not parse (templates shipped as .py): the rest
    // is compiled all the same, and trying again would not change that.
  }
  await writeFile(path.join(dir, BYTECODE), '').catch(() => {});
}

export class InstallerFailed extends Error {
  constructor(
    readonly output: string,
    readonly code: number | null,
  ) {
    super(output.trim().split('\n').slice(-6).join('\n'));
  }
}

/** Turns an installer's failure into a config error naming the package, or a retryable fault. */
export function explainBuildFailure(
  error: unknown,
  requirements: readonly Requirement[],
  field: string,
  indexUrl: string,
): Error {
  if (!(error instanceof InstallerFailed)) return error as Error;
  const text = error.output;
  const missing =
    /Because (\S+) was not found in the package registry/.exec(text) ??
    /No matching distribution found for (\S+)/.exec(text) ??
    /Because there is no version of (\S+?)(?:==|>=|<=|~=|!=|<|>|\s)/.exec(text) ??
    /Because only .* of (\S+?) (?:is|are) available/.exec(text);
  if (missing) {
    const name = normaliseName(missing[1]!.replace(/[=<>!~[].*$/, ''));
    const index = requirements.findIndex((r) => r.name === name);
    const requirement = requirements[index];
    // Not one of ours: a dependency whose pin the index cannot satisfy (a package published with a
    // broken dependency). Name the package it came from, not the dependency as if it were ours.
    const via = !requirement ? /(\S+?)(?:[=<>!~]=?\S*)? depends on ([^\s,]+)/.exec(text) : null;
    const owner = via
      ? requirements.findIndex((r) => r.name === normaliseName(via[1]!.replace(/[=<>!~[].*$/, '')))
      : -1;
    if (via && owner >= 0) {
      return new StepError(
        `config.${field}.${owner}: "${requirements[owner]!.line}" cannot be installed: it depends on ${via[2]}, which the package index ${indexUrl} does not have`,
        'config',
      );
    }
    return new StepError(
      `config.${field}${index >= 0 ? `.${index}` : ''}: package ${requirement ? `"${requirement.line}"` : `"${missing[1]}"`} was not found in the package index ${indexUrl}` +
        (requirement && /Because there is no version/.test(text) ? ' (no such version)' : ''),
      'config',
    );
  }
  if (/No solution found|ResolutionImpossible|conflict/i.test(text)) {
    return new StepError(
      `config.${field}: the requirements cannot be installed together: ${error.message}`,
      'config',
    );
  }
  // Network trouble reaching the index, a full disk: worth another attempt.
  return new TransientError(`building the Python environment failed: ${error.message}`);
}

function runInstaller(command: string, args: string[], report: (message: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', UV_NO_PROGRESS: '1', PIP_NO_INPUT: '1' },
    });
    let output = '';
    let partial = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-64 * 1024);
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) report(line.trim());
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => reject(new TransientError(`cannot start ${command}: ${error.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new InstallerFailed(output, code))));
  });
}

let uvLookup: Promise<{ command: string; args: string[] } | null> | undefined;

/** uv as configured, on PATH, or as a module of the interpreter; null when none works (pip then). */
function findUv(options: PythonRuntimeOptions): Promise<{ command: string; args: string[] } | null> {
  if (options.uv) return Promise.resolve({ command: options.uv, args: [] });
  uvLookup ??= (async () => {
    if (await succeeds('uv', ['--version'])) return { command: 'uv', args: [] };
    if (await succeeds(options.python, ['-m', 'uv', '--version']))
      return { command: options.python, args: ['-m', 'uv'] };
    return null;
  })();
  return uvLookup;
}

function succeeds(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

const prefixes = new Map<string, Promise<string>>();

/** `sys.base_prefix` of the interpreter: the sandbox mounts it so the environment's python runs. */
export function interpreterPrefix(python: string): Promise<string> {
  let known = prefixes.get(python);
  if (!known) {
    known = new Promise<string>((resolve, reject) => {
      const child = spawn(python, ['-c', 'import sys; print(sys.base_prefix)'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('error', (error) =>
        reject(new Error(`the Python interpreter ${python} cannot run: ${error.message}`)),
      );
      child.on('close', (code) =>
        code === 0
          ? resolve(out.trim())
          : reject(new Error(`the Python interpreter ${python} exited with ${code}`)),
      );
    });
    prefixes.set(python, known);
  }
  return known;
}
