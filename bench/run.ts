// `npm run bench`: starts a throwaway stack, runs every benchmark in turn and prints each figure
// with its baseline and the ratio. Figures, not pass/fail: targets are read by people.
import { csvLoadBench } from './csv-load/csv-load.bench.js';
import { orchestrationBench } from './orchestration/orchestration.bench.js';
import { startBenchStack } from './lib/stack.js';

const benchmarks: [string, (stack: Awaited<ReturnType<typeof startBenchStack>>) => Promise<string[]>][] = [
  ['orchestration overhead', orchestrationBench],
  ['csv load', csvLoadBench],
  // Starts a stack of its own (API and UI), so it ignores the in-process one. It needs the DOM types,
  // so its own tsconfig checks it and it is loaded by URL rather than pulled into this program.
  [
    'builder editor',
    async () => {
      const { editorBench } = (await import(
        new URL('./ui-editor/editor.bench.ts', import.meta.url).href
      )) as {
        editorBench: () => Promise<string[]>;
      };
      return editorBench();
    },
  ],
];

const stack = await startBenchStack();
try {
  for (const [name, bench] of benchmarks) {
    process.stdout.write(`\n# ${name}\n`);
    for (const line of await bench(stack)) process.stdout.write(`${line}\n`);
  }
} finally {
  await stack.stop();
}
