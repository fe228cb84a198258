// trigger: runs accepted per second through POST /api/pipelines/:id/runs (autocannon, N connections
// for S seconds) against a bare script starting the same workflow through the Temporal client on
// the same server, interleaved; both load generators are processes of their own. The runs go to a
// task queue no worker polls, so only accepting them is measured, not executing them.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from '../../engine/src/api/app.js';
import { RunsClient } from '../../engine/src/client/runs.js';
import { compile } from '../../engine/src/compiler/compile.js';
import { silentLogger } from '../../engine/src/infra/logger.js';
import { nodeCatalog, VERSION } from '../../engine/src/platform.js';
import { TokenStore } from '../../engine/src/store/tokens.store.js';
import type { Benchmark } from '../lib/bench.js';
import type { Figure, Goal } from '../lib/figures.js';
import { interleaved } from '../lib/measure.js';

const TASK_QUEUE = 'bench-trigger-unpolled';
const CONNECTIONS = Number(process.env.BENCH_TRIGGER_CONNECTIONS ?? 20);
const SECONDS = Number(process.env.BENCH_TRIGGER_SECONDS ?? 20);
const AUTOCANNON = path.join(
  path.dirname(createRequire(import.meta.url).resolve('autocannon/package.json')),
  'autocannon.js',
);
const BARE_STARTER = fileURLToPath(new URL('./bare-starter.ts', import.meta.url));

const PIPELINE = {
  apiVersion: 'tributary/v1',
  id: 'bench-trigger',
  name: 'bench trigger',
  nodes: [
    {
      id: 'numbers',
      type: 'source.generate',
      config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
    },
  ],
};

interface Round {
  perSecond: number;
  p50: number;
  p99: number;
}

function child(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.once('error', reject);
    proc.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${args[0]} exited ${code}: ${stderr.slice(-1000)}`)),
    );
  });
}

async function throughApi(url: string, token: string, seconds: number): Promise<Round> {
  const out = await child([
    AUTOCANNON,
    '--json',
    '-c',
    String(CONNECTIONS),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    `Authorization=Bearer ${token}`,
    '-H',
    'Content-Type=application/json',
    '-b',
    '{}',
    url,
  ]);
  const result = JSON.parse(out) as {
    duration: number;
    '2xx': number;
    non2xx: number;
    errors: number;
    latency: { p50: number; p99: number };
  };
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`the API refused ${result.non2xx} starts and ${result.errors} failed`);
  return { perSecond: result['2xx'] / result.duration, p50: result.latency.p50, p99: result.latency.p99 };
}

async function bare(address: string, planFile: string, seconds: number): Promise<Round> {
  const out = await child([
    '--import',
    'tsx',
    BARE_STARTER,
    address,
    TASK_QUEUE,
    planFile,
    String(CONNECTIONS),
    String(seconds),
  ]);
  const result = JSON.parse(out) as { started: number; seconds: number; p50: number; p99: number };
  return { perSecond: result.started / result.seconds, p50: result.p50, p99: result.p99 };
}

export const triggerBench: Benchmark = {
  name: 'trigger',
  async run(getStack) {
    const stack = await getStack();
    const { platform } = stack;
    const app = createApp({
      pool: platform.platformPool,
      warehousePool: platform.warehousePool,
      temporal: platform.temporal,
      runs: new RunsClient(platform.temporal, TASK_QUEUE),
      taskQueue: TASK_QUEUE,
      version: VERSION,
      log: silentLogger,
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const token = `trb_bench_${Date.now().toString(36)}`;
      await new TokenStore(platform.platformPool).put('bench', token, {
        name: 'bench',
        scopes: ['admin'],
        projects: null,
        createdBy: 'bench',
      });
      const created = await fetch(`${base}/api/pipelines`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(PIPELINE),
      });
      if (created.status !== 201) throw new Error(`could not create the pipeline: ${await created.text()}`);
      // The plan the API compiles for this pipeline's version 1, for the bare script to start.
      const compiled = compile(PIPELINE, { catalog: nodeCatalog, pipelineVersion: 1 });
      if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
      const planFile = path.join(stack.dataDir, 'bench-trigger-plan.json');
      writeFileSync(planFile, JSON.stringify(compiled.plan));

      const url = `${base}/api/pipelines/${PIPELINE.id}/runs`;
      // Short warm-ups: JIT, connection pools and the server's caches, not a measurement.
      await throughApi(url, token, 3);
      await bare(stack.temporalAddress, planFile, 3);
      const { ours: api, baseline: direct } = await interleaved(
        () => throughApi(url, token, SECONDS),
        () => bare(stack.temporalAddress, planFile, SECONDS),
        { warmUp: false },
      );
      const figure = (name: string, unit: string, pick: (r: Round) => number, goal: Goal): Figure => ({
        bench: 'trigger',
        name,
        unit,
        ours: api.map(pick),
        baselineName: 'Temporal client, bare',
        baseline: direct.map(pick),
        goal,
      });
      return {
        figures: [
          // Goals of issue 28: at the client's speed.
          figure('runs accepted', 'runs/s', (r) => r.perSecond, { kind: 'at-least-ratio', ratio: 0.95 }),
          figure('start latency p50', 'ms', (r) => r.p50, { kind: 'none', note: 'for reference' }),
          figure('start latency p99', 'ms', (r) => r.p99, { kind: 'at-most-ratio', ratio: 1.1 }),
        ],
        notes: [
          `trigger: ${CONNECTIONS} connections, ${SECONDS} s a round (BENCH_TRIGGER_CONNECTIONS, BENCH_TRIGGER_SECONDS)`,
        ],
      };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  },
};
