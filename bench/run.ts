// `npm run bench [-- <name>...]`: runs the benchmarks (all, or those named), each after a warm-up
// and BENCH_REPEAT times (default 3) interleaved with its baseline, then prints one table of
// figures (median, min, max) beside their baselines and writes bench/results/latest.json.
// Figures, not pass/fail: goals are read by people.
import path from 'node:path';
import pg from 'pg';
import type { Benchmark, BenchResult } from './lib/bench.js';
import type { Figure } from './lib/figures.js';
import { REPEAT } from './lib/measure.js';
import { machine, table, writeResults } from './lib/report.js';
import { REPO_ROOT, startBenchStack, type BenchStack } from './lib/stack.js';
import { compileBench } from './compile/compile.bench.js';
import { lineageBench } from './lineage/lineage.bench.js';
import { loadBench } from './load/load.bench.js';
import { orchestrationBench } from './orchestration/orchestration.bench.js';
import { recoveryBench } from './recovery/recovery.bench.js';
import { transformBench } from './transform/transform.bench.js';
import { triggerBench } from './trigger/trigger.bench.js';

// Starts a stack of its own (API and UI), so it ignores the in-process one. It needs the DOM types,
// so its own tsconfig checks it and it is loaded by URL rather than pulled into this program.
const editorBench: Benchmark = {
  name: 'editor',
  async run() {
    const url = new URL('./ui-editor/editor.bench.ts', import.meta.url).href;
    const { editorBench: bench } = (await import(url)) as { editorBench: () => Promise<BenchResult> };
    return bench();
  },
};

const benchmarks: Benchmark[] = [
  loadBench,
  transformBench,
  orchestrationBench,
  compileBench,
  recoveryBench,
  triggerBench,
  lineageBench,
  editorBench,
];

const names = process.argv.slice(2);
const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}\n`,
  );
  process.exit(2);
}
const selected = names.length > 0 ? benchmarks.filter((b) => names.includes(b.name)) : benchmarks;

let stack: Promise<BenchStack> | undefined;
const getStack = () => (stack ??= startBenchStack());
const figures: Figure[] = [];
const notes: string[] = [];
try {
  for (const bench of selected) {
    process.stderr.write(`bench ${bench.name}…\n`);
    const started = performance.now();
    const result = await bench.run(getStack);
    figures.push(...result.figures);
    notes.push(...result.notes);
    process.stderr.write(`bench ${bench.name} took ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  }
  const postgres = stack ? await postgresVersion(await stack) : null;
  const on = machine(postgres);
  process.stdout.write(
    `\n${table(figures)}\n\n${notes.map((n) => `- ${n}\n`).join('')}\n` +
      `${on.cpu}, ${on.cores} cores, ${on.memoryGb} GB, node ${on.node}, ${on.postgres ?? 'postgres not started'}, ` +
      `load average ${on.loadAverage.join(' ')}, ${on.date}; BENCH_REPEAT=${REPEAT}\n`,
  );
  writeResults(path.join(REPO_ROOT, 'bench', 'results', 'latest.json'), {
    machine: on,
    repeat: REPEAT,
    figures,
    notes,
  });
} finally {
  if (stack) await (await stack).stop();
}

async function postgresVersion(stack: BenchStack): Promise<string> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v");
    return `PostgreSQL ${rows[0]!.v}`;
  } finally {
    await client.end();
  }
}
