// The webhook token bucket: a burst up to capacity, then one call per refill interval, with the
// wait until the next token as Retry-After.
import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../src/api/rate-limit.js';

describe('token buckets', () => {
  it('allows a burst of capacity calls, then refuses with the seconds until the next token', () => {
    let now = 0;
    const buckets = new TokenBuckets({ capacity: 3, perMinute: 6 }, () => now);
    expect([1, 2, 3].map(() => buckets.take('k').ok)).toEqual([true, true, true]);
    expect(buckets.take('k')).toEqual({ ok: false, retryAfterSeconds: 10 });
    now += 4_000;
    expect(buckets.take('k')).toEqual({ ok: false, retryAfterSeconds: 6 });
    now += 6_000;
    expect(buckets.take('k').ok).toBe(true);
    expect(buckets.take('k').ok).toBe(false);
  });

  it('keeps a separate bucket per key', () => {
    const buckets = new TokenBuckets({ capacity: 1, perMinute: 1 }, () => 0);
    expect(buckets.take('a').ok).toBe(true);
    expect(buckets.take('a').ok).toBe(false);
    expect(buckets.take('b').ok).toBe(true);
  });

  it('never refills beyond capacity', () => {
    let now = 0;
    const buckets = new TokenBuckets({ capacity: 2, perMinute: 60 }, () => now);
    now += 3_600_000;
    expect([1, 2, 3].map(() => buckets.take('k').ok)).toEqual([true, true, false]);
  });
});
