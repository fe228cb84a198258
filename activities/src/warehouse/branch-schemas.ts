// Development branches in the warehouse: a branch writes `<schema>__<branch>` instead of `<schema>`
// and reads main's table wherever it has not written its own. The names are made here, once, for the
// engine (which creates, diffs and drops them) and for the steps (which write and read them).
import type { TableRef } from '../node-type.js';
import type { Queryable } from '../sql.js';
import { quoteTable } from '../sql.js';

/** A branch name: lowercase words joined by single hyphens (so `a-b` and `a_b` never collide). */
export const BRANCH_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Longest branch name whatever the schemas (the per-project limit may be shorter). */
export const BRANCH_NAME_MAX = 40;
const MAX_IDENTIFIER = 63;

/** The comment every branch schema carries: the project and branch follow it. */
export const BRANCH_SCHEMA_COMMENT = 'tributary branch ';

export const branchSchemaComment = (project: string, branch: string, base: string) =>
  `${BRANCH_SCHEMA_COMMENT}${project}/${branch} of ${base}`;

/** `sales` in branch `new-metrics` is `sales__new_metrics`. */
export function branchSchemaName(schema: string, branch: string): string {
  return `${schema}__${branch.replace(/-/g, '_')}`;
}

/** Whether `<schema>__<branch>` fits Postgres's 63-byte identifiers. */
export function branchSchemaFits(schema: string, branch: string): boolean {
  return Buffer.byteLength(branchSchemaName(schema, branch)) <= MAX_IDENTIFIER;
}

/** How long a branch name may be so that every one of `schemas` fits with it. */
export function branchNameLimit(schemas: readonly string[]): number {
  const longest = Math.max(0, ...schemas.map((s) => Buffer.byteLength(s)));
  return Math.min(BRANCH_NAME_MAX, MAX_IDENTIFIER - 2 - longest);
}

/** The step's branch, as the warehouse sees it. */
export interface WarehouseBranch {
  name: string;
  /** Creates the branch schema of `schema` if missing (provisioning connection) and returns its name. */
  ensureSchema(schema: string): Promise<string>;
}

/** Where a branch writes `table`. */
export const branchTable = (table: TableRef, branch: string): TableRef => ({
  schema: branchSchemaName(table.schema, branch),
  table: table.table,
});

/** What a branch reads for `table`: its own copy when it wrote one, else main's (read-only). */
export async function readThroughBranch(db: Queryable, table: TableRef, branch: string): Promise<TableRef> {
  if (table.schema.startsWith('tr_run_')) return table;
  const own = branchTable(table, branch);
  if (!branchSchemaFits(table.schema, branch)) return table;
  const { rows } = await db.query<{ found: boolean }>('select to_regclass($1) is not null as found', [
    quoteTable(own),
  ]);
  return rows[0]!.found ? own : table;
}
