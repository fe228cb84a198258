// The condition language of flow.if and flow.switch: a small declared grammar, parsed here and
// evaluated by walking the tree (never eval). The compiler type-checks a condition against what is
// known upstream; the decision step evaluates it over the facts the run has at that point.
//
//   expr    := or
//   or      := and ('or' and)*
//   and     := not ('and' not)*
//   not     := 'not' not | compare
//   compare := operand (('==' | '!=' | '<' | '<=' | '>' | '>=') operand)?
//   operand := number | 'string' | "string" | true | false | null | ref | '(' expr ')'
//   ref     := steps.<node>.<fact> | params.<name> | query

export type ValueType = 'number' | 'string' | 'boolean';
export type Value = number | string | boolean | null;

export type Ref =
  { kind: 'step'; step: string; fact: string } | { kind: 'param'; name: string } | { kind: 'query' };

export type Expr =
  | { op: 'literal'; value: Value; at: number }
  | { op: 'ref'; ref: Ref; text: string; at: number }
  | { op: 'not'; operand: Expr; at: number }
  | { op: 'and' | 'or'; left: Expr; right: Expr; at: number }
  | { op: CompareOp; left: Expr; right: Expr; at: number };

export const COMPARE_OPS = ['==', '!=', '<', '<=', '>', '>='] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];

/** A problem in a condition, with the 1-based column it is at. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(`${message} (at column ${column})`);
    this.name = 'ConditionError';
  }
}

/** A fact a step offers to conditions: its type and, for strings, the values it can take. */
export interface FactSpec {
  type: ValueType;
  values?: readonly string[];
  description?: string;
}

/** Facts every step has, whatever its type. */
export const STEP_FACTS: Record<string, FactSpec> = {
  status: {
    type: 'string',
    values: ['succeeded', 'failed', 'skipped', 'reused', 'cancelled'],
    description: 'How the step ended',
  },
  rowsIn: { type: 'number', description: 'Rows the step read (null when it did not run)' },
  rowsOut: { type: 'number', description: 'Rows the step wrote (null when it did not run)' },
  error: { type: 'string', description: 'The first line of its error (null unless it failed)' },
};

type Token =
  | { t: 'num'; v: number; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'word'; v: string; at: number }
  | { t: 'sym'; v: string; at: number }
  | { t: 'end'; at: number };

const MAX_LENGTH = 2_000;
const MAX_DEPTH = 50;

function tokenize(text: string): Token[] {
  if (text.length > MAX_LENGTH)
    throw new ConditionError(`a condition may be at most ${MAX_LENGTH} characters`, 1);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i + 1;
    const number = /^\d+(\.\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ t: 'num', v: Number(number[0]), at });
      i += number[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) j++;
        value += text[j];
        j++;
      }
      if (j >= text.length) throw new ConditionError('a string is not closed', at);
      tokens.push({ t: 'str', v: value, at });
      i = j + 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*/.exec(text.slice(i));
    if (word) {
      tokens.push({ t: 'word', v: word[0], at });
      i += word[0].length;
      continue;
    }
    const sym = /^(==|!=|<=|>=|<|>|\(|\)|&&|\|\||!)/.exec(text.slice(i));
    if (sym) {
      const v = { '&&': 'and', '||': 'or', '!': 'not' }[sym[0]] ?? sym[0];
      tokens.push(v === sym[0] ? { t: 'sym', v, at } : { t: 'word', v, at });
      i += sym[0].length;
      continue;
    }
    if (c === '=') throw new ConditionError('"=" is not an operator; compare with "=="', at);
    throw new ConditionError(`unexpected "${c}"`, at);
  }
  tokens.push({ t: 'end', at: text.length + 1 });
  return tokens;
}

/** Parses a condition; throws a ConditionError naming the column of the first problem. */
export function parseCondition(text: string): Expr {
  const tokens = tokenize(text);
  let pos = 0;
  let depth = 0;
  const peek = () => tokens[pos]!;
  const isWord = (v: string) => peek().t === 'word' && (peek() as { v: string }).v === v;
  const isSym = (v: string) => peek().t === 'sym' && (peek() as { v: string }).v === v;
  const describe = (token: Token) =>
    token.t === 'end' ? 'the end of the condition' : `"${String((token as { v: unknown }).v)}"`;

  const expr = (): Expr => {
    if (++depth > MAX_DEPTH) throw new ConditionError(`nested more than ${MAX_DEPTH} deep`, peek().at);
    const result = or();
    depth--;
    return result;
  };
  const or = (): Expr => {
    let left = and();
    while (isWord('or')) {
      const at = tokens[pos++]!.at;
      left = { op: 'or', left, right: and(), at };
    }
    return left;
  };
  const and = (): Expr => {
    let left = not();
    while (isWord('and')) {
      const at = tokens[pos++]!.at;
      left = { op: 'and', left, right: not(), at };
    }
    return left;
  };
  const not = (): Expr => {
    if (isWord('not')) {
      const at = tokens[pos++]!.at;
      if (++depth > MAX_DEPTH) throw new ConditionError(`nested more than ${MAX_DEPTH} deep`, at);
      const operand = not();
      depth--;
      return { op: 'not', operand, at };
    }
    return compare();
  };
  const compare = (): Expr => {
    const left = operand();
    const token = peek();
    if (token.t === 'sym' && (COMPARE_OPS as readonly string[]).includes(token.v)) {
      pos++;
      const right = operand();
      return { op: token.v as CompareOp, left, right, at: token.at };
    }
    return left;
  };
  const operand = (): Expr => {
    const token = tokens[pos++]!;
    if (token.t === 'num') return { op: 'literal', value: token.v, at: token.at };
    if (token.t === 'str') return { op: 'literal', value: token.v, at: token.at };
    if (token.t === 'sym' && token.v === '(') {
      const inner = expr();
      if (!isSym(')')) throw new ConditionError(`expected ")" but found ${describe(peek())}`, peek().at);
      pos++;
      return inner;
    }
    if (token.t === 'word') {
      if (token.v === 'true' || token.v === 'false')
        return { op: 'literal', value: token.v === 'true', at: token.at };
      if (token.v === 'null') return { op: 'literal', value: null, at: token.at };
      return { op: 'ref', ref: parseRef(token.v, token.at), text: token.v, at: token.at };
    }
    throw new ConditionError(`expected a value but found ${describe(token)}`, token.at);
  };

  const result = expr();
  if (peek().t !== 'end') throw new ConditionError(`unexpected ${describe(peek())}`, peek().at);
  return result;
}

function parseRef(text: string, at: number): Ref {
  const parts = text.split('.');
  if (parts[0] === 'steps') {
    if (parts.length !== 3)
      throw new ConditionError(
        `"${text}" is not a step fact; write steps.<node>.<fact>, e.g. steps.load.rowsOut`,
        at,
      );
    return { kind: 'step', step: parts[1]!, fact: parts[2]! };
  }
  if (parts[0] === 'params') {
    if (parts.length !== 2) throw new ConditionError(`"${text}" is not a param; write params.<name>`, at);
    return { kind: 'param', name: parts[1]! };
  }
  if (text === 'query') return { kind: 'query' };
  throw new ConditionError(
    `unknown name "${text}"; a condition reads steps.<node>.<fact>, params.<name> or query`,
    at,
  );
}

/** What a condition may read where it stands: the ancestors' facts, the params, the query's type. */
export interface ConditionScope {
  /** Upstream steps (ancestors of the deciding node) and the facts each offers. */
  steps: ReadonlyMap<string, Record<string, FactSpec>>;
  params: Readonly<Record<string, ValueType>>;
  /** The type of the node's one-row query, when it has one. */
  query?: ValueType;
}

type Checked = ValueType | 'null';

/** Type-checks a parsed condition; returns its problems (empty when it can be evaluated). */
export function checkCondition(
  expr: Expr,
  scope: ConditionScope,
  want: ValueType | 'any' = 'boolean',
): ConditionError[] {
  const problems: ConditionError[] = [];
  const typeOf = (e: Expr): Checked | undefined => {
    switch (e.op) {
      case 'literal':
        return e.value === null ? 'null' : (typeof e.value as ValueType);
      case 'ref':
        return refType(e, scope, problems);
      case 'not': {
        const t = typeOf(e.operand);
        if (t !== undefined && t !== 'boolean')
          problems.push(new ConditionError(`"not" needs a true/false value, not a ${t}`, e.at));
        return 'boolean';
      }
      case 'and':
      case 'or': {
        for (const side of [e.left, e.right]) {
          const t = typeOf(side);
          if (t !== undefined && t !== 'boolean')
            problems.push(
              new ConditionError(`"${e.op}" needs true/false values on both sides, not a ${t}`, side.at),
            );
        }
        return 'boolean';
      }
      default: {
        const left = typeOf(e.left);
        const right = typeOf(e.right);
        if (left === undefined || right === undefined) return 'boolean';
        const ordered = e.op !== '==' && e.op !== '!=';
        if (left !== 'null' && right !== 'null' && left !== right) {
          problems.push(new ConditionError(`cannot compare a ${left} with a ${right} using "${e.op}"`, e.at));
        } else if (ordered && (left === 'null' || right === 'null' || left === 'boolean')) {
          problems.push(
            new ConditionError(
              `"${e.op}" orders numbers or strings, not ${left === 'null' || right === 'null' ? 'null' : 'true/false'}`,
              e.at,
            ),
          );
        }
        // A string fact with known values compared with a literal: the literal must be one of them.
        for (const [ref, lit] of [
          [e.left, e.right],
          [e.right, e.left],
        ] as const) {
          if (ref.op !== 'ref' || lit.op !== 'literal' || typeof lit.value !== 'string') continue;
          const values =
            ref.ref.kind === 'step' ? scope.steps.get(ref.ref.step)?.[ref.ref.fact]?.values : undefined;
          if (values && !values.includes(lit.value)) {
            problems.push(
              new ConditionError(
                `${ref.text} is never "${lit.value}"; it is one of ${values.map((v) => `"${v}"`).join(', ')}`,
                lit.at,
              ),
            );
          }
        }
        return 'boolean';
      }
    }
  };
  const result = typeOf(expr);
  if (want !== 'any' && result !== undefined && result !== want && problems.length === 0) {
    problems.push(new ConditionError(`the condition must be true or false, but it is a ${result}`, expr.at));
  }
  return problems;
}

function refType(
  e: Extract<Expr, { op: 'ref' }>,
  scope: ConditionScope,
  problems: ConditionError[],
): Checked | undefined {
  const { ref } = e;
  if (ref.kind === 'param') {
    const type = scope.params[ref.name];
    if (!type) problems.push(new ConditionError(`the pipeline declares no param "${ref.name}"`, e.at));
    return type;
  }
  if (ref.kind === 'query') {
    if (!scope.query) problems.push(new ConditionError('"query" is used, but the node has no query', e.at));
    return scope.query;
  }
  const facts = scope.steps.get(ref.step);
  if (!facts) {
    problems.push(
      new ConditionError(
        `"${ref.step}" is not upstream of this node; connect it or name an upstream node`,
        e.at,
      ),
    );
    return undefined;
  }
  const fact = facts[ref.fact];
  if (!fact) {
    problems.push(
      new ConditionError(
        `step "${ref.step}" has no fact "${ref.fact}"; it has ${Object.keys(facts).join(', ')}`,
        e.at,
      ),
    );
    return undefined;
  }
  return fact.type;
}

/** The steps a condition reads, and whether it reads the query's value. */
export function conditionReads(expr: Expr): { steps: string[]; query: boolean } {
  const steps = new Set<string>();
  let query = false;
  const walk = (e: Expr): void => {
    if (e.op === 'ref') {
      if (e.ref.kind === 'step') steps.add(e.ref.step);
      if (e.ref.kind === 'query') query = true;
    } else if (e.op === 'not') walk(e.operand);
    else if (e.op !== 'literal') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(expr);
  return { steps: [...steps].sort(), query };
}

/** What a condition is evaluated over. */
export interface ConditionFacts {
  steps: Record<string, Record<string, Value>>;
  params: Record<string, Value>;
  query?: Value;
}

/**
 * Evaluates a checked condition. A comparison with a value that is null (a step that did not run has
 * no row count) is false, except == / != null; "not" of it is then true, as in most languages.
 */
export function evaluateCondition(expr: Expr, facts: ConditionFacts): Value {
  const value = (e: Expr): Value => {
    switch (e.op) {
      case 'literal':
        return e.value;
      case 'ref':
        if (e.ref.kind === 'param') return facts.params[e.ref.name] ?? null;
        if (e.ref.kind === 'query') return facts.query ?? null;
        return facts.steps[e.ref.step]?.[e.ref.fact] ?? null;
      case 'not':
        return value(e.operand) !== true;
      case 'and':
        return value(e.left) === true && value(e.right) === true;
      case 'or':
        return value(e.left) === true || value(e.right) === true;
      default: {
        const left = value(e.left);
        const right = value(e.right);
        if (e.op === '==') return left === right;
        if (e.op === '!=') return left !== right;
        if (left === null || right === null || typeof left !== typeof right) return false;
        if (e.op === '<') return left < right;
        if (e.op === '<=') return left <= right;
        if (e.op === '>') return left > right;
        return left >= right;
      }
    }
  };
  return value(expr);
}

/** The value of each ref in a condition, for the audit trail ("steps.load.rowsOut = 0"). */
export function referencedValues(expr: Expr, facts: ConditionFacts): Record<string, Value> {
  const out: Record<string, Value> = {};
  const walk = (e: Expr): void => {
    if (e.op === 'ref') out[e.text] = evaluateCondition(e, facts);
    else if (e.op === 'not') walk(e.operand);
    else if (e.op !== 'literal') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(expr);
  return out;
}
