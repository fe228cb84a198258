// What a benchmark is to run.ts: a name to select it by and a function returning its figures.
import type { Figure } from './figures.js';
import type { BenchStack } from './stack.js';

export interface BenchResult {
  figures: Figure[];
  /** Lines printed under the table: what was skipped and why, extra detail. */
  notes: string[];
}

export interface Benchmark {
  name: string;
  /** The shared in-process stack, started on first use (the editor bench brings its own). */
  run(stack: () => Promise<BenchStack>): Promise<BenchResult>;
}
