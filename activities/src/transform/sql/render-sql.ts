// Rewrites the placeholders of a transform.sql statement: `{{ inputs.<node> }}` becomes the quoted
// table of that input, `{{ params.<name> }}` a bound parameter `$n` (never spliced text). Pure. It
// keeps a map of every replacement so that a position in the rewritten text (from the parser or
// from Postgres) can be shown as a line and column of the SQL the user wrote.
import { findMalformedPlaceholders, findPlaceholders } from '../../placeholders.js';

/** A problem with the user's SQL, located in that SQL when the position is known. */
export interface SqlProblem {
  message: string;
  /** 1-based, in the user's SQL. */
  line?: number;
  column?: number;
  /** The user's text around the position. */
  excerpt?: string;
}

export interface Replacement {
  /** `table`: a schema name a branch run points at the branch's copy (see branch-sql.ts). */
  kind: 'input' | 'param' | 'table';
  name: string;
  /** Where the placeholder starts in the user's SQL, and its length there. */
  sourceIndex: number;
  sourceLength: number;
  /** Where the replacement starts in the rewritten text, and its length there. */
  index: number;
  length: number;
  /** For params: the rewritten index of `$n` itself (after any padding space). */
  paramIndex?: number;
}

export interface RenderedSql {
  /** The SQL as the user wrote it. */
  source: string;
  /** The SQL with placeholders replaced. */
  text: string;
  /** Values of `$1`, `$2`, … in order. */
  values: unknown[];
  replacements: Replacement[];
  /** Placeholders that could not be replaced; when not empty, `text` must not run. */
  problems: SqlProblem[];
}

export interface PlaceholderResolver {
  /**
   * The quoted table of an input node (or of one of its streams), or undefined when the step has
   * no such input.
   */
  input(name: string, stream?: string): string | undefined;
  /** A param's value (null is a value), or undefined when the run has no such param. */
  param(name: string): { value: unknown } | undefined;
  /** The inputs the step has, named in the message about an unknown one. */
  inputNames?: string[];
}

// A `$n` glued to a name or a digit would change meaning (`$1` + `0` is `$10`); a space keeps it apart.
const WORD_CHAR = /[A-Za-z0-9_$]/;

export function renderSql(source: string, resolve: PlaceholderResolver): RenderedSql {
  const problems: SqlProblem[] = [];
  for (const bad of new Set(findMalformedPlaceholders(source))) {
    problems.push(
      problemAt(
        source,
        source.indexOf(bad),
        `"${bad}" is not a placeholder; use {{ inputs.<node> }} or {{ params.<name> }}`,
      ),
    );
  }
  const values: unknown[] = [];
  const paramNumbers = new Map<string, number>();
  const replacements: Replacement[] = [];
  let text = '';
  let copied = 0;
  for (const p of findPlaceholders(source)) {
    text += source.slice(copied, p.index);
    copied = p.index + p.text.length;
    const kind: Replacement['kind'] = p.namespace === 'inputs' ? 'input' : 'param';
    let replacement: string | undefined;
    let paramOffset = 0;
    if (p.namespace === 'inputs') {
      replacement = resolve.input(p.name, p.stream);
      if (replacement === undefined) {
        const known = resolve.inputNames?.length ? ` (its inputs: ${resolve.inputNames.join(', ')})` : '';
        problems.push(
          problemAt(source, p.index, `${p.text}: "${p.name}" is not an input of this step${known}`),
        );
      }
    } else if (p.namespace === 'params') {
      let n = paramNumbers.get(p.name);
      if (n === undefined) {
        const param = resolve.param(p.name);
        if (param === undefined) {
          problems.push(problemAt(source, p.index, `${p.text}: the run has no param "${p.name}"`));
        } else {
          values.push(param.value);
          n = values.length;
          paramNumbers.set(p.name, n);
        }
      }
      if (n !== undefined) {
        const before = WORD_CHAR.test(text.slice(-1)) ? ' ' : '';
        const after = WORD_CHAR.test(source.charAt(copied)) ? ' ' : '';
        replacement = `${before}$${n}${after}`;
        paramOffset = before.length;
      }
    } else {
      problems.push(
        problemAt(source, p.index, `${p.text}: unknown placeholder namespace; use inputs or params`),
      );
    }
    if (replacement === undefined) {
      text += p.text;
      continue;
    }
    replacements.push({
      kind,
      name: p.name,
      sourceIndex: p.index,
      sourceLength: p.text.length,
      index: text.length,
      length: replacement.length,
      ...(kind === 'param' ? { paramIndex: text.length + paramOffset } : {}),
    });
    text += replacement;
  }
  text += source.slice(copied);
  return { source, text, values, replacements, problems };
}

/** Maps an index in the rewritten text to the user's SQL; inside a replacement, its placeholder. */
export function toSourceIndex(rendered: RenderedSql, index: number): number {
  let shift = 0;
  for (const r of rendered.replacements) {
    if (index < r.index) break;
    if (index < r.index + r.length) return r.sourceIndex;
    shift += r.length - r.sourceLength;
  }
  return Math.min(Math.max(0, index - shift), rendered.source.length);
}

/** The replacement covering an index of the rewritten text, if any. */
export function replacementAt(rendered: RenderedSql, index: number): Replacement | undefined {
  return rendered.replacements.find((r) => index >= r.index && index < r.index + r.length);
}

/** A problem at an index (UTF-16) of the user's SQL. */
export function problemAt(source: string, index: number, message: string): SqlProblem {
  const lineStart = source.lastIndexOf('\n', index - 1) + 1;
  const lineEnd = source.indexOf('\n', index) === -1 ? source.length : source.indexOf('\n', index);
  const line = source.slice(0, lineStart).split('\n').length;
  const column = index - lineStart + 1;
  const from = Math.max(lineStart, index - 30);
  const to = Math.min(lineEnd, index + 30);
  const excerpt = `${from > lineStart ? '…' : ''}${source.slice(from, to)}${to < lineEnd ? '…' : ''}`;
  return { message, line, column, excerpt };
}

/** One line for an error message: what, and where in the user's SQL. */
export function formatSqlProblem(problem: SqlProblem): string {
  if (problem.line === undefined) return problem.message;
  return `${problem.message} (at line ${problem.line}, column ${problem.column}: ${JSON.stringify(problem.excerpt)})`;
}

/** Postgres counts positions in characters (code points); JavaScript strings index UTF-16 units. */
export function codePointToIndex(text: string, codePoints: number): number {
  let index = 0;
  for (let k = 0; k < codePoints && index < text.length; k++) {
    index += text.codePointAt(index)! > 0xffff ? 2 : 1;
  }
  return index;
}

/** Parse-tree locations are byte offsets into the UTF-8 text. */
export function byteToIndex(text: string, bytes: number): number {
  return Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8').length;
}
