import { describe, expect, it } from 'vitest';
import { startPeriodic } from './periodic.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a periodic pass', () => {
  it('runs at once, then on every tick, never two at once, and stops after the pass in flight', async () => {
    let passes = 0;
    let inFlight = 0;
    let most = 0;
    const results: number[] = [];
    const loop = startPeriodic(
      async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(30); // longer than the interval: ticks meanwhile are skipped
        inFlight--;
        return ++passes;
      },
      10,
      { onResult: (n) => results.push(n), onError: () => {} },
    );
    await loop.caughtUp;
    expect(results).toEqual([1]);
    await sleep(100);
    await loop.stop();
    const after = passes;
    expect(after).toBeGreaterThanOrEqual(2);
    expect(most).toBe(1);
    expect(inFlight).toBe(0);
    await sleep(50);
    expect(passes).toBe(after);
  });

  it('hands a failed pass to onError and tries again at the next tick', async () => {
    let calls = 0;
    const errors: string[] = [];
    const loop = startPeriodic(
      () => (++calls === 1 ? Promise.reject(new Error('collector down')) : Promise.resolve(calls)),
      10,
      { onError: (e) => errors.push(e.message) },
    );
    await loop.caughtUp;
    expect(errors).toEqual(['collector down']);
    await sleep(50);
    await loop.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual(['collector down']);
  });
});
