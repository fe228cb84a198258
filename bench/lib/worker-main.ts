// A bench worker in a process of its own, so a benchmark can read its peak RSS alone or SIGKILL it.
// Configured by the environment worker-process.ts sets; prints "ready" once it polls its queue.
import { connectPlatform } from '../../engine/src/platform.js';
import { startBenchWorker } from './stack.js';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const platform = await connectPlatform({
  databaseUrl: env('BENCH_DATABASE_URL'),
  warehouseUrl: env('BENCH_WAREHOUSE_URL'),
  temporalAddress: env('BENCH_TEMPORAL_ADDRESS'),
  namespace: 'default',
  taskQueue: env('BENCH_TASK_QUEUE'),
  masterKey: Buffer.alloc(32, 3),
  // The operator's parallel COPY setting, with `tributary start`'s defaults (engine/src/config/env.ts).
  ...copyStreamsFromEnv(),
});
function copyStreamsFromEnv() {
  const streams = Number(process.env.TRIBUTARY_COPY_STREAMS ?? 2);
  const minMb = Number(process.env.TRIBUTARY_COPY_STREAMS_MIN_MB ?? 8);
  return streams > 1 ? { copyStreams: { streams, minBytes: Math.round(minMb * (1 << 20)) } } : {};
}

const { worker } = await startBenchWorker({
  temporalAddress: env('BENCH_TEMPORAL_ADDRESS'),
  platform,
  taskQueue: env('BENCH_TASK_QUEUE'),
  dataDir: env('BENCH_DATA_DIR'),
});
const running = worker.run();
process.stdout.write('ready\n');
process.on('SIGTERM', () => worker.shutdown());
await running;
await platform.close();
