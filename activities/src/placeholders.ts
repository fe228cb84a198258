// `{{ inputs.<node> }}` and `{{ params.<name> }}` placeholders in node configs. The compiler checks
// them; activities replace them (SQL gets bound parameters, never spliced text). A connector that
// reads several streams (source.airbyte, source.singer with `streams`) gives each its own table:
// `{{ inputs.<node>.<stream> }}`.
export interface Placeholder {
  namespace: string;
  name: string;
  /** `{{ inputs.<node>.<stream> }}`: the stream's table of a multi-stream connector. */
  stream?: string;
  /** The exact text matched, e.g. `{{ inputs.orders }}`. */
  text: string;
  index: number;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_-]+))?\s*\}\}/g;
const ANY_BRACES = /\{\{([^}]*)\}\}/g;

export function findPlaceholders(text: string): Placeholder[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({
    namespace: m[1]!,
    name: m[2]!,
    ...(m[3] !== undefined ? { stream: m[3] } : {}),
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
  return text.replace(
    PLACEHOLDER,
    (match, namespace: string, name: string, stream: string | undefined, index: number) =>
      replace({ namespace, name, ...(stream !== undefined ? { stream } : {}), text: match, index }),
  );
}

/**
 * The staging table of one stream of a multi-stream connector node: `<node>__<stream>`, the stream
 * name made a plain identifier; a name that had to change, or is too long for Postgres's 63 bytes,
 * gets a short hash of the original so two streams never share a table.
 */
export function streamTableName(table: string, stream: string): string {
  const plain = stream.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const name = `${table}__${plain}`;
  if (plain === stream && name.length <= 63) return name;
  let hash = 0;
  for (const ch of stream) hash = (Math.imul(hash, 31) + ch.codePointAt(0)!) >>> 0;
  const suffix = `_${hash.toString(36)}`;
  return `${name.slice(0, 63 - suffix.length)}${suffix}`;
}

/** The table a `{{ inputs.<node>[.<stream>] }}` placeholder names, from the node's own table. */
export function inputTable<T extends { schema: string; table: string }>(
  table: T,
  stream: string | undefined,
): { schema: string; table: string } {
  return stream === undefined ? table : { schema: table.schema, table: streamTableName(table.table, stream) };
}
