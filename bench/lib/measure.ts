// Repetition: one warm-up of each side (discarded), then BENCH_REPEAT rounds that alternate which
// side goes first, so drift on a shared machine lands on both sides rather than on one.

export const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));

/** A measurement: what the function returns is the figure (so setup can stay outside the timing). */
export type Measure<T = number> = () => Promise<T>;

export async function interleaved<T = number>(
  ours: Measure<T>,
  baseline: Measure<T>,
  options: { repeat?: number; warmUp?: boolean } = {},
): Promise<{ ours: T[]; baseline: T[] }> {
  const repeat = options.repeat ?? REPEAT;
  if (options.warmUp ?? true) {
    await ours();
    await baseline();
  }
  const result = { ours: [] as T[], baseline: [] as T[] };
  for (let i = 0; i < repeat; i++) {
    if (i % 2 === 0) {
      result.ours.push(await ours());
      result.baseline.push(await baseline());
    } else {
      result.baseline.push(await baseline());
      result.ours.push(await ours());
    }
  }
  return result;
}

export async function repeated<T = number>(
  measure: Measure<T>,
  options: { repeat?: number; warmUp?: boolean } = {},
): Promise<T[]> {
  if (options.warmUp ?? true) await measure();
  const values: T[] = [];
  for (let i = 0; i < (options.repeat ?? REPEAT); i++) values.push(await measure());
  return values;
}

/** Milliseconds taken by `work`. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}
