// Starts worker-main.ts as a child process on a task queue of its own and waits until it polls.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchStack } from './stack.js';

const WORKER_MAIN = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Peak resident memory of the process so far (VmHWM), in MB. */
  peakRssMb(): number;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export async function startWorkerProcess(stack: BenchStack, taskQueue: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN], {
    env: {
      ...process.env,
      BENCH_DATABASE_URL: stack.databaseUrl,
      BENCH_WAREHOUSE_URL: stack.warehouseUrl,
      BENCH_TEMPORAL_ADDRESS: stack.temporalAddress,
      BENCH_TASK_QUEUE: taskQueue,
      BENCH_DATA_DIR: stack.dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`the bench worker exited (${code}): ${output.slice(-2000)}`)),
    );
  });
  const exited = once(child, 'exit');
  return {
    child,
    peakRssMb() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
      return Math.round(kb / 1024);
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
