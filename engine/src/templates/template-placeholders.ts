// `{{ template.x }}` placeholders in a template's pipeline: found for checks, replaced on instantiation.
// A string that is exactly one placeholder takes the value's JSON type; inside text it is spliced.

const PLACEHOLDER = /\{\{\s*template\.([A-Za-z0-9_-]+)\s*\}\}/g;
const WHOLE = /^\{\{\s*template\.([A-Za-z0-9_-]+)\s*\}\}$/;

export interface PlaceholderUse {
  name: string;
  /** Where in the pipeline document, e.g. `nodes[1].config.sql`. */
  path: string;
  /** The whole string is this one placeholder, so the value keeps its JSON type. */
  whole: boolean;
  /** The placeholder is (in) an object key rather than a value. */
  inKey: boolean;
  /** The whole string is the value of an object property (which an absent value leaves out). */
  property: boolean;
}

export interface SubstitutionProblem {
  path: string;
  message: string;
}

const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every placeholder in a JSON value, with where it is and how it is used. */
export function placeholderUses(value: unknown, path = '', property = false): PlaceholderUse[] {
  if (typeof value === 'string') {
    const whole = WHOLE.test(value);
    return [...value.matchAll(PLACEHOLDER)].map((m) => ({
      name: m[1]!,
      path,
      whole,
      inKey: false,
      property: whole && property,
    }));
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => placeholderUses(item, join(path, i)));
  if (isObject(value)) {
    return Object.entries(value).flatMap(([key, item]) => [
      ...[...key.matchAll(PLACEHOLDER)].map((m) => ({
        name: m[1]!,
        path: join(path, key),
        whole: false,
        inKey: true,
        property: false,
      })),
      ...placeholderUses(item, join(path, key), true),
    ]);
  }
  return [];
}

/** How a value reads when spliced into text; undefined when it cannot be. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'no value';
  if (value === null) return 'null';
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

/**
 * Replaces the placeholders in `document` with `values`. A property whose value is exactly one
 * placeholder of a param without a value is left out (an optional setting not given).
 */
export function substitute(
  document: unknown,
  values: Record<string, unknown>,
): { value: unknown; problems: SubstitutionProblem[] } {
  const problems: SubstitutionProblem[] = [];
  const text = (source: string, path: string): string =>
    source.replace(PLACEHOLDER, (match, name: string) => {
      const spliced = asText(values[name]);
      if (spliced === undefined) {
        problems.push({
          path,
          message: `${match} is part of a longer text, so it needs a string, number or boolean, but "${name}" has ${describe(values[name])}`,
        });
        return match;
      }
      return spliced;
    });
  const ABSENT = Symbol('absent');
  const walk = (value: unknown, path: string, property: boolean): unknown => {
    if (typeof value === 'string') {
      const whole = WHOLE.exec(value);
      if (whole) {
        const replacement = values[whole[1]!];
        if (replacement !== undefined) return structuredClone(replacement);
        if (property) return ABSENT;
        problems.push({
          path,
          message: `${value} has no value, and only an object property can be left out`,
        });
        return value;
      }
      return text(value, path);
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, join(path, i), false));
    if (isObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const name = text(key, join(path, key));
        const replaced = walk(item, join(path, name), true);
        if (replaced === ABSENT) continue;
        if (Object.hasOwn(out, name)) {
          problems.push({ path: join(path, name), message: `two keys became "${name}"` });
        }
        out[name] = replaced;
      }
      return out;
    }
    return value;
  };
  const value = walk(document, '', false);
  return { value: value === ABSENT ? undefined : value, problems };
}
