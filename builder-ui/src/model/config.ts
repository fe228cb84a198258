// What the editor derives from a node type's JSON Schema besides the form: the config a new node
// starts with, and validation messages put in the words of the form's own labels.
import type { JsonSchema } from './types.ts';

/** The config a node added in the builder starts with: each field the declaration marks `x-initial`. */
export function initialConfig(schema: JsonSchema | undefined): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(schema?.properties ?? {})) {
    if (field['x-initial'] !== undefined) config[key] = field['x-initial'];
  }
  return config;
}

/** A field name as a label: `primaryKey` → "Primary key", `sql` → "SQL". */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  const fixed = words.replace(/\b(sql|url|http|json|csv|id)\b/g, (w) => w.toUpperCase());
  return fixed.charAt(0).toUpperCase() + fixed.slice(1);
}

/** The label of the field at a config path (`columns[1].name` → "Column 2 name"). */
export function fieldLabel(path: string): string {
  const parts = path.split('.').filter(Boolean);
  const words = parts.map((part) => {
    const m = /^(\w+)\[(\d+)\]$/.exec(part);
    if (!m) return humanize(part);
    const list = humanize(m[1]!);
    const one = list.endsWith('s') && !list.endsWith('ss') ? list.slice(0, -1) : list;
    return `${one} ${Number(m[2]) + 1}`;
  });
  return humanize(words.join(' ').toLowerCase());
}

/**
 * A validator's message in plain words for the field it is about. Schema validators speak of types
 * ("Invalid input: expected string, received undefined"); a user filling a form needs to hear that
 * the field is empty, or what it should hold.
 */
export function plainMessage(message: string, label: string | null): string {
  if (!label) return message;
  // The compiler names the node and field; beside the field, both go without saying.
  const bare = message.replace(/^Node "[^"]*",\s*(?:field "[^"]*":\s*)?/, '');
  return plain(bare.charAt(0).toUpperCase() + bare.slice(1), label);
}

function plain(message: string, label: string): string {
  if (/received undefined|^Required$/i.test(message)) return `${label} is required`;
  const tooSmall = /too small: expected (?:string|array) to have >=?(\d+)/i.exec(message);
  if (tooSmall)
    return tooSmall[1] === '1' ? `${label} is required` : `${label} needs at least ${tooSmall[1]}`;
  const expected = /^Invalid input: expected (\w+), received (\w+)/i.exec(message);
  if (expected) return `${label} must be ${article(expected[1]!)}, not ${article(expected[2]!)}`;
  const option = /^Invalid option: expected one of (.+)$/i.exec(message);
  if (option) return `${label} must be one of ${option[1]!.replace(/\|/g, ', ')}`;
  return message;
}

const article = (type: string) =>
  ({ string: 'text', number: 'a number', int: 'a whole number', boolean: 'yes or no', array: 'a list' })[
    type
  ] ?? type;

/** `nodes[2].config.columns[0].name` → `columns[0].name`; null for a problem with no config field. */
export function configPath(path: string | undefined): string | null {
  const m = path ? /^nodes\[\d+\]\.config\.?(.*)$/.exec(path) : null;
  return m && m[1] ? m[1] : null;
}

/** A compile problem as the problems list and node tooltips say it. */
export function problemText(problem: { message: string; path?: string | undefined }): string {
  const path = configPath(problem.path);
  return plainMessage(problem.message, path === null ? null : fieldLabel(path));
}

/** The value at a config path (`columns[0].name`) of a config object. */
export function valueAt(config: unknown, path: string): unknown {
  let at: unknown = config;
  for (const part of path.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}
