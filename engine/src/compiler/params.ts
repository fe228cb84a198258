// Resolves run params against a pipeline's declared params: defaults, required, and types.
import type { ParamSpec, ParamType } from '../model/pipeline.schema.js';
import type { CompileError } from './errors.js';

export type ParamValue = string | number | boolean | null;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Converts a supplied value to the declared type, or explains why it cannot. */
export function coerceParam(type: ParamType, value: unknown): { value: ParamValue } | { error: string } {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? { value } : { error: `expected a string, got ${describe(value)}` };
    case 'number':
    case 'integer': {
      // Strings are accepted because webhook bodies, query strings and forms carry numbers as text.
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n))
        return { error: `expected a ${type}, got ${describe(value)}` };
      if (type === 'integer' && !Number.isInteger(n)) return { error: `expected an integer, got ${n}` };
      return { value: n };
    }
    case 'boolean':
      if (typeof value === 'boolean') return { value };
      if (value === 'true' || value === 'false') return { value: value === 'true' };
      return { error: `expected a boolean, got ${describe(value)}` };
    case 'date':
      if (typeof value === 'string' && DATE.test(value) && isRealDate(value)) return { value };
      return { error: `expected a date as YYYY-MM-DD, got ${describe(value)}` };
    case 'timestamp':
      if (typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value)))
        return { value };
      return { error: `expected an ISO 8601 timestamp, got ${describe(value)}` };
  }
}

function isRealDate(text: string): boolean {
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return typeof value === 'object'
    ? Array.isArray(value)
      ? 'an array'
      : 'an object'
    : `${typeof value} ${String(value)}`;
}

/**
 * Resolves supplied params. With `requireValues` false (validating a document without running
 * it) missing required params are not an error, but defaults must still have the right type.
 */
export function resolveParams(
  declared: Record<string, ParamSpec>,
  supplied: Record<string, unknown>,
  requireValues: boolean,
): { params: Record<string, ParamValue>; errors: CompileError[] } {
  const errors: CompileError[] = [];
  const params: Record<string, ParamValue> = {};
  for (const name of Object.keys(supplied).sort()) {
    if (!(name in declared)) {
      errors.push({
        code: 'unknown_param',
        path: `params.${name}`,
        message: `Param "${name}" is not declared by the pipeline`,
      });
    }
  }
  for (const name of Object.keys(declared).sort()) {
    const spec = declared[name]!;
    if (spec.default !== undefined) {
      const checked = coerceParam(spec.type, spec.default);
      if ('error' in checked) {
        errors.push({
          code: 'invalid_param_default',
          path: `params.${name}.default`,
          message: `Default of param "${name}": ${checked.error}`,
        });
      }
    }
    const raw = supplied[name] !== undefined ? supplied[name] : spec.default;
    if (raw === undefined || raw === null) {
      if (spec.required && requireValues) {
        errors.push({
          code: 'missing_param',
          path: `params.${name}`,
          message: `Param "${name}" is required and has no value`,
        });
      }
      params[name] = null;
      continue;
    }
    const checked = coerceParam(spec.type, raw);
    if ('error' in checked) {
      if (supplied[name] !== undefined) {
        errors.push({
          code: 'invalid_param',
          path: `params.${name}`,
          // An error message travels (API answers, logs): a sensitive value is not quoted in it.
          message: spec.sensitive
            ? `Param "${name}": expected a ${spec.type} (the value is not shown: the param is sensitive)`
            : `Param "${name}": ${checked.error}`,
        });
      }
      params[name] = null;
    } else {
      params[name] = checked.value;
    }
  }
  return { params, errors };
}
