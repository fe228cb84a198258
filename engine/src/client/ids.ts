// Run ids and staging schema names. Ids sort by start time, so listings and schemas read in order.
import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** A ULID-like id: 10 chars of milliseconds, then 16 random chars, lowercase Crockford base32. */
export function sortableId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const random = [...randomBytes(16)].map((b) => CROCKFORD[b % 32]).join('');
  return time + random;
}

/** A new run's id; with an idempotency key the same key always names the same run (per pipeline). */
export function runIdFor(pipelineId: string, idempotencyKey?: string): string {
  const unique = idempotencyKey
    ? `k${createHash('sha256').update(`${pipelineId}\n${idempotencyKey}`).digest('hex').slice(0, 25)}`
    : sortableId();
  return `run-${pipelineId}-${unique}`;
}
