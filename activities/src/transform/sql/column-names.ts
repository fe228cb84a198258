// Reading the libpg-query parse tree for column lineage: typed access to a node of one kind, and
// the name Postgres gives an output column that has no alias (its FigureColname, on the raw tree)
// and the columns of well-known set-returning functions in FROM.
import type { Node, SelectStmt } from 'libpg-query';

export type NodeKind = Node extends infer U ? (U extends unknown ? keyof U : never) : never;
export type NodeOf<K extends NodeKind> = Extract<Node, Record<K, unknown>>[K];
/** The body of `node` when it is a node of that kind (`{ ColumnRef: {...} }` → `{...}`). */
export function nodeAs<K extends NodeKind>(node: Node | undefined, kind: K): NodeOf<K> | undefined {
  return node && kind in node ? (node as unknown as Record<K, NodeOf<K>>)[kind] : undefined;
}
/** The names in a list of String nodes (an A_Star, as in `t.*`, gives ''). */
export const strings = (nodes: Node[] | undefined): string[] =>
  (nodes ?? []).map((n) => nodeAs(n, 'String')?.sval ?? '');

const SQL_VALUE_NAMES: Record<string, string> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_role',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};
const NAMED_NODES: Record<string, string> = {
  CoalesceExpr: 'coalesce',
  A_ArrayExpr: 'array',
  RowExpr: 'row',
  GroupingFunc: 'grouping',
  MergeSupportFunc: 'merge_action',
  JsonObjectConstructor: 'json_object',
  JsonArrayConstructor: 'json_array',
  JsonArrayQueryConstructor: 'json_array',
  JsonObjectAgg: 'json_objectagg',
  JsonArrayAgg: 'json_arrayagg',
  JsonParseExpr: 'json',
  JsonScalarExpr: 'json_scalar',
  JsonSerializeExpr: 'json_serialize',
};

/** [name, strength]: 2 a real name, 1 a fallback (a type name or "case"), 0 none (`?column?`). */
export function figureName(
  node: Node | undefined,
  subqueryName: (select: SelectStmt) => string | undefined,
): [string, number] {
  const kind = node ? Object.keys(node)[0]! : '';
  if (NAMED_NODES[kind]) return [NAMED_NODES[kind], 2];
  const ref = nodeAs(node, 'ColumnRef');
  if (ref) {
    const last = strings(ref.fields).at(-1);
    return last ? [last, 2] : ['?column?', 0];
  }
  const ind = nodeAs(node, 'A_Indirection');
  if (ind) {
    const field = [...(ind.indirection ?? [])].reverse().find((n) => nodeAs(n, 'String'));
    return field ? [nodeAs(field, 'String')!.sval!, 2] : figureName(ind.arg, subqueryName);
  }
  const fn = nodeAs(node, 'FuncCall');
  if (fn) return [strings(fn.funcname).at(-1)!, 2];
  const expr = nodeAs(node, 'A_Expr');
  if (expr?.kind === 'AEXPR_NULLIF') return ['nullif', 2];
  const cast = nodeAs(node, 'TypeCast');
  if (cast) {
    const inner = figureName(cast.arg, subqueryName);
    return inner[1] >= 2 ? inner : [strings(cast.typeName?.names).at(-1)!, 1];
  }
  const collate = nodeAs(node, 'CollateClause');
  if (collate) return figureName(collate.arg, subqueryName);
  const caseExpr = nodeAs(node, 'CaseExpr');
  if (caseExpr) {
    const inner = figureName(caseExpr.defresult, subqueryName);
    return inner[1] >= 2 ? inner : ['case', 1];
  }
  const minmax = nodeAs(node, 'MinMaxExpr');
  if (minmax) return [minmax.op === 'IS_LEAST' ? 'least' : 'greatest', 2];
  const svf = nodeAs(node, 'SQLValueFunction');
  if (svf) return [SQL_VALUE_NAMES[svf.op ?? ''] ?? '?column?', 2];
  const sub = nodeAs(node, 'SubLink');
  if (sub?.subLinkType === 'EXISTS_SUBLINK') return ['exists', 2];
  if (sub?.subLinkType === 'ARRAY_SUBLINK') return ['array', 2];
  if (sub?.subLinkType === 'EXPR_SUBLINK') {
    // The name the subquery gives its one column.
    const name = subqueryName(nodeAs(sub.subselect, 'SelectStmt')!);
    if (name) return [name, 2];
  }
  return ['?column?', 0];
}

/** Set-returning functions whose result columns Postgres names for them (OUT parameters). */
const FUNCTION_COLUMNS: Record<string, string[]> = {
  json_array_elements: ['value'],
  json_array_elements_text: ['value'],
  jsonb_array_elements: ['value'],
  jsonb_array_elements_text: ['value'],
  json_each: ['key', 'value'],
  json_each_text: ['key', 'value'],
  jsonb_each: ['key', 'value'],
  jsonb_each_text: ['key', 'value'],
};
/** Set-returning functions of a scalar result: one column per call, named by the alias, else the function. */
const SCALAR_FUNCTIONS = new Set([
  'unnest',
  'generate_series',
  'generate_subscripts',
  'regexp_split_to_table',
  'string_to_table',
  'json_object_keys',
  'jsonb_object_keys',
  'regexp_matches',
]);

/** The columns of the calls of one FROM function item, if all are functions above; else undefined. */
export function functionColumns(
  calls: (Node | undefined)[],
  alias: string | undefined,
): string[] | undefined {
  const names: string[] = [];
  for (const call of calls) {
    const fn = nodeAs(call, 'FuncCall');
    const called = strings(fn?.funcname).at(-1) ?? '';
    const argCount = fn?.args?.length ?? 0;
    if (FUNCTION_COLUMNS[called]) names.push(...FUNCTION_COLUMNS[called]);
    // unnest(a, b) gives one column per array, each named unnest.
    else if (called === 'unnest' && argCount > 1) names.push(...Array<string>(argCount).fill('unnest'));
    else if (SCALAR_FUNCTIONS.has(called)) names.push(calls.length === 1 && alias ? alias : called);
    else return undefined;
  }
  return names;
}
