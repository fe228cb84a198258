// Run ids and staging schema names, made and parsed in this one place. A run id is
// `run-<pipelineId>-<unique>`: 26 sortable characters (or `k` + a hash of an idempotency key); a
// scheduled run's is `run-<pipelineId>-s<hash>` with Temporal's `-<scheduled time>` appended. The
// staging schema is `tr_run_` plus what follows the pipeline id. Pure (no Node built-ins): the
// interpreter workflow derives its schema from its own id, so each scheduled run has its own.
import { sha256Hex } from './sha256.js';

const MAX_IDENTIFIER = 63;
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
const UNIQUE = /^[0-9a-z]{26}(?:-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)?$/;

const prefixOf = (pipelineId: string) => `run-${pipelineId}-`;

/** A ULID-like id: 10 chars of milliseconds, then 16 random chars, lowercase Crockford base32. */
export function sortableId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const random = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => CROCKFORD[b % 32]).join('');
  return time + random;
}

/** A new run's id; with an idempotency key the same key always names the same run (per pipeline). */
export function runIdFor(pipelineId: string, idempotencyKey?: string): string {
  const unique = idempotencyKey
    ? `k${sha256Hex(`${pipelineId}\n${idempotencyKey}`).slice(0, 25)}`
    : sortableId();
  return prefixOf(pipelineId) + unique;
}

/**
 * The workflow id a pipeline's Temporal Schedule starts runs with; Temporal appends the scheduled
 * time. The input is fixed per schedule, so the runs tell their staging schemas apart by that time.
 */
export function scheduledRunId(pipelineId: string): string {
  return `${prefixOf(pipelineId)}s${sha256Hex(`schedule\n${pipelineId}`).slice(0, 25)}`;
}

/** Lowercase letters, digits and `_` only, within Postgres's identifier length. */
export function stagingSchemaFromSuffix(suffix: string): string {
  const name = `tr_run_${suffix.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
  if (name.length <= MAX_IDENTIFIER) return name;
  // Too long (an idempotency key never is; a long scheduled id could be): keep a prefix and a hash.
  return `${name.slice(0, MAX_IDENTIFIER - 9)}_${fnv1a(suffix)}`;
}

/** The staging schema of a run of this pipeline. */
export function stagingSchemaFor(runId: string, pipelineId: string): string {
  const prefix = prefixOf(pipelineId);
  return stagingSchemaFromSuffix(runId.startsWith(prefix) ? runId.slice(prefix.length) : runId);
}

/**
 * The staging schema of a run when only its id is known (previews): the unique part is the last
 * 26 characters before the scheduled time, if any. Undefined for what is not a run id.
 */
export function stagingSchemaOfRun(runId: string): string | undefined {
  if (!runId.startsWith('run-')) return undefined;
  const rest = runId.slice('run-'.length);
  for (let at = rest.indexOf('-'); at > 0; at = rest.indexOf('-', at + 1)) {
    const suffix = rest.slice(at + 1);
    if (UNIQUE.test(suffix)) return stagingSchemaFromSuffix(suffix);
  }
  return undefined;
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
