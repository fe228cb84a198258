// The staging schema of a run: `tr_run_` plus the run id's unique part, so an operator can match
// schemas to runs. Pure (no Node built-ins): the interpreter workflow derives it from its own id,
// which also gives each scheduled run (same input, new id) a schema of its own.
const MAX_IDENTIFIER = 63;

/** Lowercase letters, digits and `_` only, within Postgres's identifier length. */
export function stagingSchemaFromSuffix(suffix: string): string {
  const name = `tr_run_${suffix.toLowerCase().replace(/[^a-z0-9]+/g, '_')}`;
  if (name.length <= MAX_IDENTIFIER) return name;
  // Too long (an idempotency key never is; a long scheduled id could be): keep a prefix and a hash.
  return `${name.slice(0, MAX_IDENTIFIER - 9)}_${fnv1a(suffix)}`;
}

/** Run ids are `run-<pipelineId>-<unique>`; scheduled ones have Temporal's `-<time>` appended. */
export function stagingSchemaFor(runId: string, pipelineId: string): string {
  const prefix = `run-${pipelineId}-`;
  return stagingSchemaFromSuffix(runId.startsWith(prefix) ? runId.slice(prefix.length) : runId);
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}
