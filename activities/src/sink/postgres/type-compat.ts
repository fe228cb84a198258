// Which input column types a sink may write into an existing target column. Only conversions that
// can never lose or change a value are accepted (a wider integer, a longer varchar, text); anything
// else is schema drift a person must decide on. Types are compared as `format_type` prints them.

export interface ParsedType {
  /** Lower-case name without modifiers, with its time-zone suffix: `timestamp with time zone`. */
  name: string;
  /** Type modifiers: `numeric(10,2)` → [10, 2]; empty when unconstrained. */
  args: number[];
  /** Element type of an array. */
  element?: ParsedType;
}

const TYPE = /^(.*?)(?:\((\d+)(?:,\s*(\d+))?\))?( with time zone| without time zone)?$/;

export function parseType(formatted: string): ParsedType {
  const text = formatted.trim();
  if (text.endsWith('[]')) {
    const element = parseType(text.slice(0, -2));
    return { name: `${element.name}[]`, args: element.args, element };
  }
  const m = TYPE.exec(text);
  if (!m) return { name: text.toLowerCase(), args: [] };
  const args = [m[2], m[3]].filter((a): a is string => a !== undefined).map(Number);
  return { name: `${m[1]!.trim()}${m[4] ?? ''}`.toLowerCase(), args };
}

const INTEGER_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 };
/** Decimal digits an integer type needs before the point, for `numeric(p,s)` targets. */
const INTEGER_DIGITS: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 };
/** Integer types whose every value a float type holds exactly. */
const EXACT_IN_FLOAT: Record<string, string[]> = {
  real: ['smallint'],
  'double precision': ['smallint', 'integer'],
};
const STRING_TYPES = new Set(['text', 'character varying', 'character']);
/** Types whose precision modifier, when absent, means the largest. */
const PRECISION_TYPES = new Set([
  'timestamp without time zone',
  'timestamp with time zone',
  'time without time zone',
  'time with time zone',
  'interval',
]);

/** Can every value of `input` be stored in a `target` column unchanged? */
export function isSafeConversion(inputType: string, targetType: string): boolean {
  return safe(parseType(inputType), parseType(targetType));
}

function safe(input: ParsedType, target: ParsedType): boolean {
  if (input.name === target.name && sameArgs(input.args, target.args)) return true;
  // Any value has a text form.
  if (target.name === 'text' || (target.name === 'character varying' && target.args.length === 0))
    return true;
  if (input.element || target.element) {
    return !!input.element && !!target.element && safe(input.element, target.element);
  }
  if (target.name === 'character varying' || target.name === 'character') {
    // Shorter strings fit; `character(n)` pads, which is what that type means.
    return STRING_TYPES.has(input.name) && input.name !== 'text' && fits(input.args[0], target.args[0]);
  }
  const inRank = INTEGER_RANK[input.name];
  if (inRank !== undefined) {
    const targetRank = INTEGER_RANK[target.name];
    if (targetRank !== undefined) return inRank <= targetRank;
    if (target.name === 'numeric') {
      if (target.args.length === 0) return true;
      const [precision, scale = 0] = target.args as [number, number?];
      return precision - scale >= INTEGER_DIGITS[input.name]!;
    }
    return EXACT_IN_FLOAT[target.name]?.includes(input.name) ?? false;
  }
  if (input.name === 'real' && target.name === 'double precision') return true;
  if (input.name === 'numeric' && target.name === 'numeric') {
    if (target.args.length === 0) return true;
    if (input.args.length === 0) return false;
    const [p1, s1 = 0] = input.args as [number, number?];
    const [p2, s2 = 0] = target.args as [number, number?];
    return s2 >= s1 && p2 - s2 >= p1 - s1;
  }
  if (PRECISION_TYPES.has(input.name) && input.name === target.name) {
    // Unconstrained is the maximum precision (6).
    return (target.args[0] ?? 6) >= (input.args[0] ?? 6);
  }
  if (input.name === 'date' && target.name === 'timestamp without time zone') return true;
  if (input.name === 'json' && target.name === 'jsonb') return true;
  if (input.name === 'bit varying' && target.name === 'bit varying')
    return fits(input.args[0], target.args[0]);
  return false;
}

function sameArgs(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Does a length `inner` (undefined: unbounded) fit in `outer` (undefined: unbounded)? */
function fits(inner: number | undefined, outer: number | undefined): boolean {
  if (outer === undefined) return true;
  return inner !== undefined && inner <= outer;
}
