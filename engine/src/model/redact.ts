// Params a pipeline marks `sensitive` never leave the engine as values: not in the API's answers
// (runs, schedules, errors) and not in audit output. One marker and one scrubber for all of them.
import type { ExecutionPlan } from './plan.js';

export const REDACTED = '[redacted]';
/** Shorter sensitive values are redacted as params but not hunted for in free text (they would hit everything). */
const MIN_SCRUB_LENGTH = 4;

/** The params with each sensitive one (that has a value) replaced by the marker. */
export function redactParams<V>(
  params: Record<string, V>,
  sensitive: Iterable<string>,
): Record<string, V | string> {
  const names = new Set(sensitive);
  return Object.fromEntries(
    Object.entries(params).map(([name, value]) => [
      name,
      names.has(name) && value !== null ? REDACTED : value,
    ]),
  );
}

/** The values of a plan's sensitive params, for scrubbing free text. */
export function sensitiveValuesOf(plan: Pick<ExecutionPlan, 'params' | 'sensitiveParams'>): string[] {
  const names = new Set(plan.sensitiveParams ?? []);
  return Object.entries(plan.params)
    .filter(([name, value]) => names.has(name) && value !== null)
    .map(([, value]) => String(value));
}

/** Replaces sensitive values wherever they appear in strings (an error message may quote a param). */
export function scrubberFor(values: string[]): <T>(value: T) => T {
  const needles = [...new Set(values)]
    .filter((v) => v.length >= MIN_SCRUB_LENGTH)
    .sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (value) => value;
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string')
      return needles.reduce((text, needle) => text.split(needle).join(REDACTED), value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return <T>(value: T) => walk(value) as T;
}
