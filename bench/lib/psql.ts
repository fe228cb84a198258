// The baselines that are psql itself: the tool a person would reach for without Tributary.
import { spawn } from 'node:child_process';
import { timed } from './measure.js';

/** Runs one psql command and returns its wall time in ms (process start and connect included). */
export async function psqlMs(databaseUrl: string, command: string): Promise<number> {
  let stderr = '';
  let code: number | null = null;
  const ms = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        const child = spawn('psql', [databaseUrl, '-q', '-v', 'ON_ERROR_STOP=1', '-c', command], {
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
  if (code !== 0) throw new Error(`psql failed (${code}): ${stderr.trim()}`);
  return ms;
}
