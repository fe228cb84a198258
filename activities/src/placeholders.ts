// `{{ inputs.<node> }}` and `{{ params.<name> }}` placeholders in node configs. The compiler checks
// them; activities replace them (SQL gets bound parameters, never spliced text).
export interface Placeholder {
  namespace: string;
  name: string;
  /** The exact text matched, e.g. `{{ inputs.orders }}`. */
  text: string;
  index: number;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_-]+)\s*\}\}/g;
const ANY_BRACES = /\{\{([^}]*)\}\}/g;

export function findPlaceholders(text: string): Placeholder[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({
    namespace: m[1]!,
    name: m[2]!,
    text: m[0],
    index: m.index,
  }));
}

/** `{{ ... }}` spans that are not a well-formed `{{ namespace.name }}`. */
export function findMalformedPlaceholders(text: string): string[] {
  return [...text.matchAll(ANY_BRACES)].map((m) => m[0]).filter((t) => findPlaceholders(t).length !== 1);
}

/** Every string inside a config value, with its path, for scanning placeholders. */
export function* stringsIn(
  value: unknown,
  path: (string | number)[] = [],
): Generator<[string, (string | number)[]]> {
  if (typeof value === 'string') yield [value, path];
  else if (Array.isArray(value))
    for (const [i, item] of value.entries()) yield* stringsIn(item, [...path, i]);
  else if (value && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) yield* stringsIn(item, [...path, key]);
}

/** Replaces each placeholder with what `replace` returns for it. */
export function replacePlaceholders(text: string, replace: (p: Placeholder) => string): string {
  return text.replace(PLACEHOLDER, (match, namespace: string, name: string, index: number) =>
    replace({ namespace, name, text: match, index }),
  );
}
