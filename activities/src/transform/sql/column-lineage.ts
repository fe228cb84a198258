// Column-level lineage of a transform.sql query: for each output column, the columns of inputs and
// warehouse tables it is computed from, and whether it is a plain copy. Pure: it parses, never queries.
import {
  parse,
  type Alias,
  type CaseExpr,
  type ColumnRef,
  type CommonTableExpr,
  type FuncCall,
  type JoinExpr,
  type Node,
  type RangeFunction,
  type RangeVar,
  type SelectStmt,
  type WindowDef,
} from 'libpg-query';
import { quoteIdent } from '../../sql.js';
import { figureName, functionColumns, nodeAs, strings } from './column-names.js';
import { renderSql } from './render-sql.js';

export type RelationRef = { kind: 'input'; node: string } | { kind: 'table'; schema: string; table: string };
/**
 * How a source column makes an output value (OpenLineage's DIRECT subtypes): `direct` IDENTITY, a
 * plain copy; `derived` TRANSFORMATION, through some expression; `aggregation` AGGREGATION, through
 * an aggregate function (sum, count, array_agg …).
 */
export type DirectTransformation = 'direct' | 'derived' | 'aggregation';
/** How a column affects an output without being part of its value (OpenLineage's INDIRECT subtypes). */
export type IndirectSubtype = 'JOIN' | 'FILTER' | 'GROUP_BY' | 'SORT' | 'WINDOW' | 'CONDITIONAL';
export interface ColumnSource {
  relation: RelationRef;
  column: string;
  transformation: DirectTransformation;
}
export interface IndirectSource {
  relation: RelationRef;
  column: string;
  subtype: IndirectSubtype;
}
export interface OutputColumn {
  name: string;
  sources: ColumnSource[];
  /** Columns that decide this column's value without being part of it (CASE conditions, FILTER, window PARTITION/ORDER BY); absent when none. */
  indirect?: IndirectSource[];
}
export interface ColumnLineage {
  /** In output order. */
  columns: OutputColumn[];
  /** Columns that affect every output row (JOIN … ON, WHERE, HAVING, GROUP BY, ORDER BY, EXISTS/IN subqueries). */
  indirect: IndirectSource[];
  /** Every input and warehouse table the query reads, wherever it names it, in order of appearance. */
  relations: RelationRef[];
  /** false when some part could not be resolved (e.g. `*` over a relation of unknown columns); see problems. */
  complete: boolean;
  problems: string[];
}
export interface ColumnLineageOptions {
  /** Schema of a table named without one (`orders`); default '' (meaning: the search path's). */
  defaultSchema?: string;
  /**
   * The step's search path: a table named without a schema is in the first of these schemas whose
   * tables `schemaOf` knows it, else in the first. Takes precedence over `defaultSchema`.
   */
  searchPath?: string[];
}

/**
 * The lineage of each output column of `sql` (as the user wrote it, placeholders included).
 * `schemaOf` tells the known columns of an input or warehouse table (undefined: unknown). Never
 * throws on bad SQL: a statement that does not render or parse gives no columns and a problem.
 *
 * - Names follow Postgres: the alias, else the column of a plain reference, else the function
 *   (`sum`, `coalesce`, `timezone` for AT TIME ZONE), a cast's type (`int4`), `case`, or `?column?`.
 * - Only what makes a value is a source: select-list expressions, through aggregates or not. What
 *   decides a value without being part of it is indirect: per column, CASE conditions, FILTER
 *   (WHERE …) and window PARTITION BY / ORDER BY; for every row, JOIN … ON / USING, WHERE and
 *   HAVING (FILTER), GROUP BY, ORDER BY, and everything an EXISTS / IN subquery there reads.
 * - count(*) and literals (params too) have no column sources; a whole-row reference (`t`, `t.*`
 *   in an expression) has every column of t.
 * - An unqualified name goes to the relation of known columns that has it, else to the only
 *   relation of unknown columns in scope, else an enclosing query's; ambiguity is a problem.
 * - A table without a schema is in the first schema of the search path that has it (else the
 *   first), unless a CTE has its name. Every table and input read anywhere is in `relations`.
 */
export async function columnLineage(
  sql: string,
  schemaOf: (ref: RelationRef) => string[] | undefined,
  options: ColumnLineageOptions = {},
): Promise<ColumnLineage> {
  const rendered = renderSql(sql, {
    input: (node) => `${quoteIdent(INPUT_SCHEMA)}.${quoteIdent(node)}`,
    param: () => ({ value: null }),
  });
  if (rendered.problems.length > 0) return failed(rendered.problems.map((p) => p.message));
  let stmts: { stmt?: Node }[];
  try {
    stmts = ((await parse(rendered.text)) as { stmts?: { stmt?: Node }[] }).stmts ?? [];
  } catch (error) {
    return failed([error instanceof Error ? error.message : String(error)]);
  }
  const select = stmts.length === 1 ? nodeAs(stmts[0]!.stmt, 'SelectStmt') : undefined;
  if (!select) return failed(['the statement is not exactly one SELECT']);
  const ctx: Ctx = {
    schemaOf,
    searchPath: options.searchPath?.length ? options.searchPath : [options.defaultSchema ?? ''],
    problems: new Set(),
    relations: new Map(),
  };
  const query = analyzeSelect(select, undefined, ctx);
  return {
    columns: query.columns.map((c) => ({
      name: c.name,
      sources: c.sources,
      ...(c.indirect?.length ? { indirect: c.indirect } : {}),
    })),
    indirect: query.indirect ?? [],
    relations: [...ctx.relations.values()],
    complete: ctx.problems.size === 0,
    problems: [...ctx.problems],
  };
}

/** Inputs render into this schema; no user can name it, renderSql refuses any other `{{ … }}`. */
const INPUT_SCHEMA = '{{inputs}}';

const failed = (problems: string[]): ColumnLineage => ({
  columns: [],
  indirect: [],
  relations: [],
  complete: false,
  problems,
});

// ---- The model: relations in scope and what their columns come from ----

interface Resolved {
  sources: ColumnSource[];
  /** The value is a plain copy of its sources (a literal is not: it copies nothing). */
  direct: boolean;
  /** Columns that decide the value without being part of it. */
  indirect?: IndirectSource[];
}
interface Col extends Resolved {
  name: string;
}
/** A query's result, or what is known of it: `open` answers for columns a `*` over the unknown hides. */
interface Query {
  columns: Col[];
  open?: (name: string) => Resolved | undefined;
  /** What affects every row of the result (its joins, filters, grouping, ordering). */
  indirect?: IndirectSource[];
}
/** A relation in FROM, named by its alias (or table name). With `open`, its columns list is not complete. */
interface Rel extends Query {
  name: string | undefined;
  label: string;
  base?: RelationRef;
}
type From =
  { kind: 'rel'; rel: Rel } | { kind: 'join'; left: From; right: From; using: string[]; type: string };
interface Scope {
  from: From[];
  ctes: Map<string, Query>;
  windows: Map<string, WindowDef>;
  parent: Scope | undefined;
  /** Row-level indirect lineage collected while reading FROM (join conditions, subqueries' own). */
  indirect: IndirectSource[];
}
interface Ctx {
  schemaOf: (ref: RelationRef) => string[] | undefined;
  searchPath: string[];
  problems: Set<string>;
  relations: Map<string, RelationRef>;
}
/** Where in an expression a walk is: inside an aggregate's arguments, or in an indirect position. */
interface Mode {
  aggregate?: boolean;
  indirect?: IndirectSubtype;
}
interface Collected {
  sources: ColumnSource[];
  indirect: IndirectSource[];
}
type Hit =
  | { kind: 'found'; value: Resolved }
  | { kind: 'maybe'; rels: Rel[] }
  | { kind: 'none' }
  | { kind: 'ambiguous' };

const label = (ref: RelationRef): string =>
  ref.kind === 'input' ? `{{ inputs.${ref.node} }}` : ref.schema ? `${ref.schema}.${ref.table}` : ref.table;

const RANK: Record<DirectTransformation, number> = { direct: 0, derived: 1, aggregation: 2 };

/** Any expression other than a plain reference: a copied source becomes derived (an aggregated one stays so). */
const derive = (sources: ColumnSource[], indirect: IndirectSource[] = []): Resolved => ({
  sources: dedupe(
    sources.map((s) => (s.transformation === 'direct' ? { ...s, transformation: 'derived' } : s)),
  ),
  direct: false,
  ...(indirect.length > 0 ? { indirect: dedupeIndirect(indirect) } : {}),
});

/** One entry per column of a relation; when the same column comes several ways, the furthest from a copy wins. */
function dedupe(sources: ColumnSource[]): ColumnSource[] {
  const byKey = new Map<string, ColumnSource>();
  for (const s of sources) {
    const key = JSON.stringify([s.relation, s.column]);
    const seen = byKey.get(key);
    if (!seen || RANK[s.transformation] > RANK[seen.transformation]) byKey.set(key, s);
  }
  return [...byKey.values()];
}

function dedupeIndirect(sources: IndirectSource[]): IndirectSource[] {
  const byKey = new Map<string, IndirectSource>();
  for (const s of sources) byKey.set(JSON.stringify([s.relation, s.column, s.subtype]), s);
  return [...byKey.values()];
}

/** Everything a resolved value reads, as indirect lineage of one kind. */
const asIndirect = (value: Resolved, subtype: IndirectSubtype): IndirectSource[] => [
  ...value.sources.map(({ relation, column }) => ({ relation, column, subtype })),
  ...(value.indirect ?? []).map((s) => ({ ...s, subtype })),
];

function renamed(query: Query, alias: Alias | undefined): Query {
  const names = strings(alias?.colnames);
  if (names.length === 0) return query;
  return {
    ...query,
    columns: query.columns.map((c, i) => (i < names.length ? { ...c, name: names[i]! } : c)),
  };
}

// ---- Queries ----

function analyzeSelect(stmt: SelectStmt, parent: Scope | undefined, ctx: Ctx): Query {
  const scope: Scope = { from: [], ctes: new Map(), windows: new Map(), parent, indirect: [] };
  for (const cte of stmt.withClause?.ctes ?? [])
    defineCte(nodeAs(cte, 'CommonTableExpr')!, stmt.withClause?.recursive ?? false, scope, ctx);

  if (stmt.op && stmt.op !== 'SETOP_NONE') {
    // Output column i takes the name of the left branch and the sources of every branch.
    const left = analyzeSelect(stmt.larg!, scope, ctx);
    const right = analyzeSelect(stmt.rarg!, scope, ctx);
    if (!left.open && !right.open && left.columns.length !== right.columns.length) {
      ctx.problems.add(`the branches of a ${stmt.op.slice(6)} have different numbers of columns`);
    }
    const columns = left.columns.map((l, i) => {
      const r = right.columns[i];
      const direct = l.direct && (r?.direct ?? false);
      const sources = [...l.sources, ...(r?.sources ?? [])];
      const indirect = [...(l.indirect ?? []), ...(r?.indirect ?? [])];
      return {
        name: l.name,
        ...(direct
          ? {
              sources: dedupe(sources),
              direct,
              ...(indirect.length ? { indirect: dedupeIndirect(indirect) } : {}),
            }
          : derive(sources, indirect)),
      };
    });
    // A set operation's own ORDER BY / LIMIT sorts and cuts the combined rows.
    const combined: Query = { columns };
    const indirect = [
      ...(left.indirect ?? []),
      ...(right.indirect ?? []),
      ...clauseIndirect(stmt, combined, scope, ctx),
    ];
    return {
      columns,
      indirect: dedupeIndirect(indirect),
      ...(left.open || right.open ? { open: () => undefined } : {}),
    };
  }

  if (stmt.valuesLists) {
    const rows = stmt.valuesLists.map((row) => nodeAs(row, 'List')?.items ?? []);
    return {
      columns: (rows[0] ?? []).map((_, i) => {
        const values = rows.map((items) => expression(items[i], scope, ctx));
        const direct = values.every((v) => v.direct);
        const sources = values.flatMap((v) => v.sources);
        const indirect = values.flatMap((v) => v.indirect ?? []);
        return {
          name: `column${i + 1}`,
          ...(direct ? { sources: dedupe(sources), direct } : derive(sources, indirect)),
        };
      }),
      indirect: [],
    };
  }

  // FROM first, left to right: a LATERAL item (and any function) sees the items before it.
  const from: From[] = [];
  for (const item of stmt.fromClause ?? []) from.push(fromItem(item, scope, from.slice(), ctx));
  scope.from = from;
  for (const w of stmt.windowClause ?? []) {
    const def = nodeAs(w, 'WindowDef');
    if (def?.name) scope.windows.set(def.name, def);
  }

  const columns: Col[] = [];
  let open: Query['open'];
  for (const target of stmt.targetList ?? []) {
    const res = nodeAs(target, 'ResTarget')!;
    const ref = nodeAs(res.val, 'ColumnRef');
    if (ref && ref.fields?.length && nodeAs(ref.fields[ref.fields.length - 1], 'A_Star')) {
      const star = expandStar(ref, scope, ctx);
      columns.push(...star.columns);
      open ??= star.open;
      continue;
    }
    const field = nodeAs(res.val, 'A_Indirection');
    if (field?.indirection?.length && nodeAs(field.indirection[field.indirection.length - 1], 'A_Star')) {
      // (composite).*: the columns of a row value's type, which the parse tree does not tell.
      ctx.problems.add('(…).* expands a row value whose columns are unknown');
      open ??= () => undefined;
      continue;
    }
    const { sources, direct, indirect } = expression(res.val, scope, ctx);
    columns.push({
      name: res.name ?? figureName(res.val, subqueryName(scope, ctx))[0],
      sources,
      direct,
      ...(indirect?.length ? { indirect } : {}),
    });
  }
  const query: Query = { columns, ...(open ? { open } : {}) };
  const indirect = [...scope.indirect, ...clauseIndirect(stmt, query, scope, ctx)];
  return { ...query, indirect: dedupeIndirect(indirect) };
}

/**
 * What the clauses after the select list read, as row-level indirect lineage: WHERE and HAVING
 * (and DISTINCT ON, LIMIT) filter, GROUP BY groups, ORDER BY sorts. GROUP BY and ORDER BY may name
 * an output column by position or by name (ORDER BY prefers the output's name, GROUP BY the input's).
 */
function clauseIndirect(stmt: SelectStmt, query: Query, scope: Scope, ctx: Ctx): IndirectSource[] {
  const out: Collected = { sources: [], indirect: [] };
  const filter: Mode = { indirect: 'FILTER' };
  walk([stmt.whereClause, stmt.havingClause, stmt.limitCount, stmt.limitOffset], scope, ctx, out, filter);
  for (const d of stmt.distinctClause ?? []) if (Object.keys(d).length > 0) walk(d, scope, ctx, out, filter);
  const byOutput = (node: Node | undefined, subtype: IndirectSubtype, outputFirst: boolean): void => {
    const set = nodeAs(node, 'GroupingSet');
    if (set) {
      for (const item of set.content ?? []) byOutput(item, subtype, outputFirst);
      return;
    }
    const ival = (nodeAs(node, 'A_Const') as { ival?: { ival?: number } } | undefined)?.ival?.ival;
    if (ival !== undefined && query.columns[ival - 1]) {
      out.indirect.push(...asIndirect(query.columns[ival - 1]!, subtype));
      return;
    }
    const ref = nodeAs(node, 'ColumnRef');
    const name = ref?.fields?.length === 1 ? nodeAs(ref.fields[0], 'String')?.sval : undefined;
    if (name !== undefined) {
      const output = query.columns.find((c) => c.name === name);
      const inInput =
        scope.from.map((f) => lookup(f, name)).reduce(combine, { kind: 'none' } as Hit).kind !== 'none';
      if (output && (outputFirst || !inInput)) {
        out.indirect.push(...asIndirect(output, subtype));
        return;
      }
    }
    walk(node, scope, ctx, out, { indirect: subtype });
  };
  for (const g of stmt.groupClause ?? []) byOutput(g, 'GROUP_BY', false);
  for (const s of stmt.sortClause ?? []) byOutput(nodeAs(s, 'SortBy')?.node, 'SORT', true);
  return out.indirect;
}

function defineCte(cte: CommonTableExpr, recursive: boolean, scope: Scope, ctx: Ctx): void {
  const stmt = nodeAs(cte.ctequery, 'SelectStmt');
  const name = cte.ctename!;
  const alias: Alias = { colnames: cte.aliascolnames ?? [] };
  if (!stmt) {
    ctx.problems.add(`WITH ${name}: only a SELECT can be followed`);
    scope.ctes.set(name, { columns: [], open: () => undefined });
    return;
  }
  if (recursive && stmt.op === 'SETOP_UNION' && stmt.larg) {
    // Recursive (best effort): the non-recursive branch gives a first guess of the columns; two
    // rounds over the whole union let the recursive branch's references to itself settle.
    scope.ctes.set(name, renamed(analyzeSelect(stmt.larg, scope, ctx), alias));
    for (let round = 0; round < 2; round++)
      scope.ctes.set(name, renamed(analyzeSelect(stmt, scope, ctx), alias));
    return;
  }
  scope.ctes.set(name, renamed(analyzeSelect(stmt, scope, ctx), alias));
}

function findCte(scope: Scope | undefined, name: string): Query | undefined {
  for (let s = scope; s; s = s.parent) {
    const cte = s.ctes.get(name);
    if (cte) return cte;
  }
  return undefined;
}

// ---- FROM ----

/** `lateral`: the FROM items before this one, which a LATERAL subquery or a function may use. */
function fromItem(node: Node, scope: Scope, lateral: From[], ctx: Ctx): From {
  const lateralScope: Scope = {
    from: lateral,
    ctes: new Map(),
    windows: new Map(),
    parent: scope,
    indirect: [],
  };
  // TABLESAMPLE samples rows; the columns are the table's.
  const range = nodeAs(node, 'RangeVar') ?? nodeAs(nodeAs(node, 'RangeTableSample')?.relation, 'RangeVar');
  if (range) return { kind: 'rel', rel: relation(range, scope, ctx) };

  const sub = nodeAs(node, 'RangeSubselect');
  if (sub) {
    const stmt = nodeAs(sub.subquery, 'SelectStmt')!;
    const query = renamed(analyzeSelect(stmt, sub.lateral ? lateralScope : scope, ctx), sub.alias);
    // What filters or joins inside the subquery filters the rows of this query too.
    scope.indirect.push(...(query.indirect ?? []));
    const name = sub.alias?.aliasname;
    return { kind: 'rel', rel: { ...query, name, label: name ?? 'a subquery' } };
  }

  const fn = nodeAs(node, 'RangeFunction');
  if (fn) return { kind: 'rel', rel: functionRel(fn, lateralScope, ctx) };

  const xml = nodeAs(node, 'RangeTableFunc');
  if (xml) return { kind: 'rel', rel: tableFunctionRel(xml, 'XMLTABLE(…)', lateralScope, ctx) };
  const json = nodeAs(node, 'JsonTable');
  if (json) return { kind: 'rel', rel: tableFunctionRel(json, 'JSON_TABLE(…)', lateralScope, ctx) };

  const join = nodeAs(node, 'JoinExpr');
  if (join) return joinFrom(join, scope, lateral, ctx);

  ctx.problems.add(`FROM ${Object.keys(node)[0]}: this kind of FROM item is not followed`);
  return {
    kind: 'rel',
    rel: { name: undefined, label: 'an unsupported FROM item', columns: [], open: () => undefined },
  };
}

function relation(rv: RangeVar, scope: Scope, ctx: Ctx): Rel {
  const table = rv.relname!;
  const name = rv.alias?.aliasname ?? table;
  const cte = rv.schemaname ? undefined : findCte(scope, table);
  if (cte) {
    scope.indirect.push(...(cte.indirect ?? []));
    return { ...renamed(cte, rv.alias), name, label: table };
  }
  const ref: RelationRef =
    rv.schemaname === INPUT_SCHEMA
      ? { kind: 'input', node: table }
      : { kind: 'table', schema: rv.schemaname ?? searchSchema(table, ctx), table };
  ctx.relations.set(JSON.stringify(ref), ref);
  const direct = (column: string): Resolved => ({
    sources: [{ relation: ref, column, transformation: 'direct' }],
    direct: true,
  });
  const known = ctx.schemaOf(ref);
  const rel: Rel = { name, label: label(ref), base: ref, columns: [] };
  if (!known) return { ...rel, open: direct };
  return { ...rel, ...renamed({ columns: known.map((c) => ({ name: c, ...direct(c) })) }, rv.alias) };
}

/** The schema of a table named without one: the first of the search path that has it, else the first. */
function searchSchema(table: string, ctx: Ctx): string {
  const found = ctx.searchPath.find((schema) => ctx.schemaOf({ kind: 'table', schema, table }) !== undefined);
  return found ?? ctx.searchPath[0] ?? '';
}

/**
 * A function in FROM (unnest, generate_series, jsonb_to_recordset …): every column derives from
 * all its arguments. Its columns are known from a column list, or for the functions above.
 */
function functionRel(fn: RangeFunction, scope: Scope, ctx: Ctx): Rel {
  const calls = (fn.functions ?? []).map((f) => nodeAs(f, 'List')?.items ?? []);
  const values = calls.map(([call]) => expression(call, scope, ctx));
  const args = derive(
    values.flatMap((v) => v.sources),
    values.flatMap((v) => v.indirect ?? []),
  );
  const fnName = figureName(calls[0]?.[0], subqueryName(scope, ctx))[0];
  const alias = fn.alias?.aliasname;
  const colnames = strings(fn.alias?.colnames);
  const defs = [...(fn.coldeflist ?? []), ...calls.flatMap(([, defs]) => nodeAs(defs, 'List')?.items ?? [])];
  let names: string[] | undefined = defs.map((d) => nodeAs(d, 'ColumnDef')?.colname ?? '');
  if (names.length === 0)
    names = functionColumns(
      calls.map((call) => call[0]),
      alias,
    );
  // An alias's column list renames what is known, or (for a function we do not know) is all we know.
  names = names ? names.map((n, i) => colnames[i] ?? n) : colnames.length > 0 ? colnames : undefined;
  const columns: Col[] = (names ?? []).map((name) => ({ name, ...args }));
  if (fn.ordinality)
    columns.push({ name: colnames[columns.length] ?? 'ordinality', sources: [], direct: false });
  const rel: Rel = { name: alias ?? fnName, label: `${fnName}(…)`, columns };
  return names ? rel : { ...rel, open: () => args };
}

/** XMLTABLE and JSON_TABLE: declared columns, all derived from the document they read. */
function tableFunctionRel(
  node: { docexpr?: Node; context_item?: { raw_expr?: Node }; columns?: Node[]; alias?: Alias },
  kind: string,
  scope: Scope,
  ctx: Ctx,
): Rel {
  const doc = expression(node.docexpr ?? node.context_item?.raw_expr, scope, ctx);
  const args = derive(doc.sources, doc.indirect);
  const names = (cols: Node[] | undefined): string[] =>
    (cols ?? []).flatMap((c) => {
      const xml = nodeAs(c, 'RangeTableFuncCol');
      if (xml) return [xml.colname ?? ''];
      const json = nodeAs(c, 'JsonTableColumn');
      return json?.coltype === 'JTC_NESTED' ? names(json.columns) : [json?.name ?? ''];
    });
  const query = renamed({ columns: names(node.columns).map((name) => ({ name, ...args })) }, node.alias);
  return { ...query, name: node.alias?.aliasname, label: kind };
}

function joinFrom(join: JoinExpr, scope: Scope, lateral: From[], ctx: Ctx): From {
  const left = fromItem(join.larg!, scope, lateral, ctx);
  const right = fromItem(join.rarg!, scope, [...lateral, left], ctx);
  let using = strings(join.usingClause);
  if (join.isNatural) {
    const l = columnsOf(left);
    const r = columnsOf(right);
    if (l.unknown.length + r.unknown.length > 0) {
      ctx.problems.add(
        `NATURAL JOIN over ${[...l.unknown, ...r.unknown].map((u) => u.label).join(', ')}, whose columns are unknown`,
      );
    }
    using = l.columns.map((c) => c.name).filter((n) => r.columns.some((c) => c.name === n));
  }
  const from: From = { kind: 'join', left, right, using, type: join.jointype ?? 'JOIN_INNER' };
  // What the join matches on decides which rows there are: JOIN lineage of every output row.
  for (const name of using) {
    for (const side of [left, right]) {
      const value = settle(lookup(side, name), name);
      if (value) scope.indirect.push(...asIndirect(value, 'JOIN'));
    }
  }
  if (join.quals) {
    const onScope: Scope = {
      from: [left, right],
      ctes: new Map(),
      windows: new Map(),
      parent: scope,
      indirect: [],
    };
    const out: Collected = { sources: [], indirect: [] };
    walk(join.quals, onScope, ctx, out, { indirect: 'JOIN' });
    scope.indirect.push(...out.indirect);
  }
  if (!join.alias) return from;
  // An aliased join hides the relations inside it: it is one relation of the join's columns.
  const { unknown: _unknown, ...cols } = columnsOf(from);
  return {
    kind: 'rel',
    rel: {
      ...renamed(cols, join.alias),
      name: join.alias.aliasname,
      label: join.alias.aliasname ?? 'a join',
    },
  };
}

/** The columns `*` gives over a FROM item, and the relations of unknown columns it leaves out. */
function columnsOf(from: From): Query & { unknown: Rel[] } {
  if (from.kind === 'rel') return { ...from.rel, unknown: from.rel.open ? [from.rel] : [] };
  const l = columnsOf(from.left);
  const r = columnsOf(from.right);
  // USING columns come first, once, then the rest of each side (as Postgres orders them).
  const merged = from.using.map((name) => ({ name, ...mergedColumn(from, name) }));
  const columns = [
    ...merged,
    ...l.columns.filter((c) => !from.using.includes(c.name)),
    ...r.columns.filter((c) => !from.using.includes(c.name)),
  ];
  const unknown = [...l.unknown, ...r.unknown];
  return {
    columns,
    unknown,
    ...(unknown.length > 0 ? { open: (name: string) => settle(lookup(from, name), name) } : {}),
  };
}

/** A USING column: the left side's for inner and left joins, the right's for right, both for full. */
function mergedColumn(join: From & { kind: 'join' }, name: string): Resolved {
  const l = settle(lookup(join.left, name), name) ?? { sources: [], direct: false };
  const r = settle(lookup(join.right, name), name) ?? { sources: [], direct: false };
  if (join.type === 'JOIN_RIGHT') return r;
  if (join.type === 'JOIN_FULL')
    return derive([...l.sources, ...r.sources], [...(l.indirect ?? []), ...(r.indirect ?? [])]);
  return l;
}

/** What a lookup tells without a scope to report in: a found column, or the only relation that may have it. */
function settle(hit: Hit, name: string): Resolved | undefined {
  if (hit.kind === 'found') return hit.value;
  if (hit.kind === 'maybe' && hit.rels.length === 1) return hit.rels[0]!.open?.(name);
  return undefined;
}

/** An unqualified column name in one FROM item. */
function lookup(from: From, name: string): Hit {
  if (from.kind === 'rel') {
    const col = from.rel.columns.find((c) => c.name === name);
    if (col) return { kind: 'found', value: col };
    return from.rel.open ? { kind: 'maybe', rels: [from.rel] } : { kind: 'none' };
  }
  if (from.using.includes(name)) return { kind: 'found', value: mergedColumn(from, name) };
  return combine(lookup(from.left, name), lookup(from.right, name));
}

// Found beats maybe: if a relation of known columns has it, a valid query cannot find it elsewhere.
function combine(a: Hit, b: Hit): Hit {
  if (a.kind === 'ambiguous' || b.kind === 'ambiguous') return { kind: 'ambiguous' };
  if (a.kind === 'found' && b.kind === 'found') return { kind: 'ambiguous' };
  if (a.kind === 'found') return a;
  if (b.kind === 'found') return b;
  if (a.kind === 'maybe' || b.kind === 'maybe') {
    return {
      kind: 'maybe',
      rels: [...(a.kind === 'maybe' ? a.rels : []), ...(b.kind === 'maybe' ? b.rels : [])],
    };
  }
  return { kind: 'none' };
}

/** The relation a qualifier names in one scope (looking inside unaliased joins). */
function findRel(from: From[], name: string): Rel | undefined {
  for (const f of from) {
    const rel =
      f.kind === 'rel' ? (f.rel.name === name ? f.rel : undefined) : findRel([f.left, f.right], name);
    if (rel) return rel;
  }
  return undefined;
}

// ---- Column references and expressions ----

function expandStar(ref: ColumnRef, scope: Scope, ctx: Ctx): Query {
  const qualifier = strings(ref.fields).slice(0, -1);
  let items: Query & { unknown: Rel[] };
  if (qualifier.length > 0) {
    const name = qualifier[qualifier.length - 1]!;
    const rel = findRelInScopes(scope, name);
    if (!rel) {
      ctx.problems.add(`${qualifier.join('.')}.*: no relation "${name}" in FROM`);
      return { columns: [], open: () => undefined };
    }
    items = columnsOf({ kind: 'rel', rel });
  } else {
    const all = scope.from.map(columnsOf);
    items = {
      columns: all.flatMap((a) => a.columns),
      unknown: all.flatMap((a) => a.unknown),
      open: (name) => resolveUnqualified(name, scope, ctx),
    };
  }
  if (items.unknown.length === 0) return { columns: items.columns };
  const text = qualifier.length > 0 ? `${qualifier.join('.')}.*` : '*';
  ctx.problems.add(`${text} over ${items.unknown.map((u) => u.label).join(', ')}, whose columns are unknown`);
  return { columns: items.columns, ...(items.open ? { open: items.open } : {}) };
}

function findRelInScopes(scope: Scope | undefined, name: string): Rel | undefined {
  for (let s = scope; s; s = s.parent) {
    const rel = findRel(s.from, name);
    if (rel) return rel;
  }
  return undefined;
}

function resolveRef(ref: ColumnRef, scope: Scope, ctx: Ctx): Resolved {
  const fields = strings(ref.fields);
  const text = fields.map((f) => f || '*').join('.');
  if (ref.fields?.length && nodeAs(ref.fields[ref.fields.length - 1], 'A_Star')) {
    // t.* or * inside an expression (row_to_json(t.*)): every column it covers, derived.
    const columns = expandStar(ref, scope, ctx).columns;
    return derive(
      columns.flatMap((c) => c.sources),
      columns.flatMap((c) => c.indirect ?? []),
    );
  }
  if (fields.length === 1)
    return resolveUnqualified(fields[0]!, scope, ctx) ?? { sources: [], direct: false };
  // table.column or schema.table.column; if there is no such relation, column.field of a composite.
  const [qualifier, column] = fields.slice(-2) as [string, string];
  const rel = findRelInScopes(scope, qualifier);
  if (!rel) {
    const whole = resolveUnqualified(qualifier, scope, ctx);
    if (whole) return derive(whole.sources, whole.indirect);
    ctx.problems.add(`${text}: no relation "${qualifier}" in FROM`);
    return { sources: [], direct: false };
  }
  const col = rel.columns.find((c) => c.name === column) ?? rel.open?.(column);
  if (col) return col;
  ctx.problems.add(`${text}: ${rel.label} has no column "${column}" as far as its known columns tell`);
  return rel.base
    ? { sources: [{ relation: rel.base, column, transformation: 'direct' }], direct: true }
    : { sources: [], direct: false };
}

/** An unqualified name: this query's FROM first, then the enclosing queries' (correlation). */
function resolveUnqualified(name: string, scope: Scope, ctx: Ctx): Resolved | undefined {
  for (let s: Scope | undefined = scope; s; s = s.parent) {
    const hit = s.from.map((f) => lookup(f, name)).reduce(combine, { kind: 'none' } as Hit);
    if (hit.kind === 'found') return hit.value;
    if (hit.kind === 'ambiguous') {
      ctx.problems.add(`column "${name}" is ambiguous`);
      return undefined;
    }
    if (hit.kind === 'maybe') {
      if (hit.rels.length === 1) {
        const found = hit.rels[0]!.open!(name);
        if (!found) ctx.problems.add(`column "${name}" of ${hit.rels[0]!.label} could not be followed`);
        return found;
      }
      ctx.problems.add(
        `column "${name}" may come from any of ${hit.rels.map((r) => r.label).join(', ')}, whose columns are unknown`,
      );
      return undefined;
    }
    // No column by that name: a relation's name alone is a whole-row reference (select t from t).
    const rel = findRel(s.from, name);
    if (rel) {
      const columns = columnsOf({ kind: 'rel', rel }).columns;
      return derive(
        columns.flatMap((c) => c.sources),
        columns.flatMap((c) => c.indirect ?? []),
      );
    }
  }
  // Not found anywhere. With one relation in FROM, a valid query can only mean that one (its known
  // columns are out of date): attribute it there, but say so.
  const only = scope.from.length === 1 && scope.from[0]!.kind === 'rel' ? scope.from[0]!.rel : undefined;
  ctx.problems.add(
    only
      ? `column "${name}" is not among the known columns of ${only.label}`
      : `column "${name}" is not a column of any relation in FROM`,
  );
  if (only?.base)
    return { sources: [{ relation: only.base, column: name, transformation: 'direct' }], direct: true };
  return undefined;
}

/** A plain column reference keeps its sources as they are; any other expression derives from all it reads. */
function expression(node: Node | undefined, scope: Scope, ctx: Ctx): Resolved {
  const ref = nodeAs(node, 'ColumnRef');
  if (ref) return resolveRef(ref, scope, ctx);
  const out: Collected = { sources: [], indirect: [] };
  walk(node, scope, ctx, out, {});
  return derive(out.sources, out.indirect);
}

/** A value read at a place in an expression: a source (aggregated inside an aggregate), or indirect. */
function take(value: Resolved, out: Collected, mode: Mode): void {
  if (mode.indirect) {
    out.indirect.push(...asIndirect(value, mode.indirect));
    return;
  }
  out.sources.push(
    ...(mode.aggregate
      ? value.sources.map((s) => ({ ...s, transformation: 'aggregation' as const }))
      : value.sources),
  );
  out.indirect.push(...(value.indirect ?? []));
}

// Every column an expression reads, each at its place: arguments are sources (aggregated inside an
// aggregate); CASE conditions and FILTER are CONDITIONAL, window PARTITION/ORDER BY are WINDOW. In an
// indirect position (WHERE, ON …) everything is of that one kind.
function walk(node: unknown, scope: Scope, ctx: Ctx, out: Collected, mode: Mode): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, scope, ctx, out, mode);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const within = (subtype: IndirectSubtype): Mode => (mode.indirect ? mode : { indirect: subtype });
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key === 'ColumnRef') {
      take(resolveRef(value as ColumnRef, scope, ctx), out, mode);
    } else if (key === 'SelectStmt') {
      // A subquery (scalar, IN, EXISTS, ARRAY): its select list is what it gives; what it filters,
      // joins or sorts on decides that value (or, in WHERE, the rows).
      const query = analyzeSelect(value as SelectStmt, scope, ctx);
      for (const column of query.columns) take(column, out, mode);
      out.indirect.push(
        ...(mode.indirect
          ? (query.indirect ?? []).map((s) => ({ ...s, subtype: mode.indirect! }))
          : (query.indirect ?? [])),
      );
    } else if (key === 'FuncCall') {
      const call = value as FuncCall;
      const name = strings(call.funcname).at(-1) ?? '';
      const aggregate =
        !WINDOW_ONLY.has(name) &&
        (AGGREGATES.has(name) ||
          !!call.agg_star ||
          !!call.agg_distinct ||
          !!call.agg_within_group ||
          !!call.agg_filter ||
          (call.agg_order?.length ?? 0) > 0);
      const inner = aggregate && !mode.indirect ? { ...mode, aggregate: true } : mode;
      walk([call.args, call.agg_order], scope, ctx, out, inner);
      walk(call.agg_filter, scope, ctx, out, within('CONDITIONAL'));
      if (call.over) walkWindow(call.over, scope, ctx, out, within('WINDOW'));
    } else if (key === 'CaseExpr') {
      const expr = value as CaseExpr;
      walk(expr.arg, scope, ctx, out, within('CONDITIONAL'));
      for (const when of expr.args ?? []) {
        const w = nodeAs(when, 'CaseWhen');
        walk(w?.expr, scope, ctx, out, within('CONDITIONAL'));
        walk(w?.result, scope, ctx, out, mode);
      }
      walk(expr.defresult, scope, ctx, out, mode);
    } else {
      walk(value, scope, ctx, out, mode);
    }
  }
}

function walkWindow(def: WindowDef, scope: Scope, ctx: Ctx, out: Collected, mode: Mode): void {
  walk([def.partitionClause, def.orderClause], scope, ctx, out, mode);
  const named = def.name ?? def.refname;
  if (!named) return;
  let windowScope: Scope | undefined = scope;
  while (windowScope && !windowScope.windows.has(named)) windowScope = windowScope.parent;
  const base = windowScope?.windows.get(named);
  if (base && base !== def) walkWindow(base, scope, ctx, out, mode);
  else if (!base) ctx.problems.add(`window "${named}" is not defined`);
}

/** Built-in aggregate functions (a user-defined aggregate reads as a plain function: TRANSFORMATION). */
const AGGREGATES = new Set([
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'array_agg',
  'string_agg',
  'bool_and',
  'bool_or',
  'every',
  'json_agg',
  'jsonb_agg',
  'json_object_agg',
  'jsonb_object_agg',
  'json_agg_strict',
  'jsonb_agg_strict',
  'json_object_agg_strict',
  'jsonb_object_agg_strict',
  'json_object_agg_unique',
  'jsonb_object_agg_unique',
  'bit_and',
  'bit_or',
  'bit_xor',
  'stddev',
  'stddev_pop',
  'stddev_samp',
  'variance',
  'var_pop',
  'var_samp',
  'corr',
  'covar_pop',
  'covar_samp',
  'regr_avgx',
  'regr_avgy',
  'regr_count',
  'regr_intercept',
  'regr_r2',
  'regr_slope',
  'regr_sxx',
  'regr_sxy',
  'regr_syy',
  'percentile_cont',
  'percentile_disc',
  'mode',
  'xmlagg',
  'any_value',
  'range_agg',
  'range_intersect_agg',
]);
/** Window functions that aggregate nothing: their arguments are transformed (lag, first_value …). */
const WINDOW_ONLY = new Set([
  'row_number',
  'rank',
  'dense_rank',
  'percent_rank',
  'cume_dist',
  'ntile',
  'lag',
  'lead',
  'first_value',
  'last_value',
  'nth_value',
]);

/** The name of a scalar subquery's column, analysed quietly (its problems are reported where it is analysed). */
const subqueryName =
  (scope: Scope, ctx: Ctx) =>
  (select: SelectStmt): string | undefined =>
    analyzeSelect(select, scope, { ...ctx, problems: new Set() }).columns[0]?.name;
