// dlt, a Python loader, as a peer (not the baseline): installed into .tributary/dlt-venv on first
// use; when Python or PyPI is out of reach the peer is skipped with the reason.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { timed } from '../lib/measure.js';
import { REPO_ROOT } from '../lib/stack.js';

const VENV = path.join(REPO_ROOT, '.tributary', 'dlt-venv');
const PYTHON = path.join(VENV, 'bin', 'python');
const SCRIPT = fileURLToPath(new URL('./dlt-load.py', import.meta.url));

/** The venv's python with dlt importable, or why there is none. */
export function dltPython(): { python: string } | { reason: string } {
  const importable = () =>
    spawnSync(PYTHON, ['-c', 'import dlt, pyarrow'], { encoding: 'utf8' }).status === 0;
  if (existsSync(PYTHON) && importable()) return { python: PYTHON };
  const venv = spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' });
  if (venv.error || venv.status !== 0)
    return { reason: `no python3 venv (${venv.error?.message ?? venv.stderr.trim()})` };
  const pip = spawnSync(PYTHON, ['-m', 'pip', 'install', '-q', 'dlt[postgres]', 'pyarrow'], {
    encoding: 'utf8',
  });
  if (pip.status !== 0)
    return { reason: `pip install "dlt[postgres]" failed: ${pip.stderr.trim().slice(-300)}` };
  return importable() ? { python: PYTHON } : { reason: 'dlt installed but does not import' };
}

/** Loads the CSV into `bench_dlt.<table>` and returns the wall time in ms (interpreter start included). */
export async function dltLoadMs(
  python: string,
  file: string,
  databaseUrl: string,
  table: string,
  workDir: string,
) {
  let stderr = '';
  let code: number | null = null;
  const ms = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(python, [SCRIPT, file, databaseUrl, table, workDir], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('exit', (c) => {
          code = c;
          resolve();
        });
      }),
  );
  if (code !== 0) throw new Error(`dlt failed (${code}): ${stderr.trim().slice(-1000)}`);
  return ms;
}
