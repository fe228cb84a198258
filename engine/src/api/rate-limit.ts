// A small in-memory token bucket per key (one per webhook): bursts up to `capacity`, refilled
// steadily. Per process, so with N API replicas the effective limit is N times higher.
export interface RateLimit {
  capacity: number;
  perMinute: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; when there is none, says how many seconds until there is. */
  take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.now();
    const perMs = this.limit.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.capacity, at: now };
    bucket.tokens = Math.min(this.limit.capacity, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.prune(now, perMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }

  /** Full buckets carry no information: forget them. */
  private prune(now: number, perMs: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * perMs >= this.limit.capacity) this.buckets.delete(key);
    }
  }
}
