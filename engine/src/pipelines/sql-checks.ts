// SQL checked as the builder types it: every warehouse query in a document (the node types say
// where, `sqlFields`) goes through the real Postgres parser and the same rules a run applies, and
// each problem becomes a compile error naming the node, the field and the line and column in it.
// Pure and fast (no database): the builder calls validate on each pause in typing.
import { checkSql, type SqlProblem } from '@tributary/activities';
import type { NodeCatalog } from '../compiler/compile.js';
import type { CompileError } from '../compiler/errors.js';

/** One SQL field of one node, located in the document. */
export interface DocumentSqlField {
  nodeId: string;
  /** `nodes[1].config.sql` */
  path: string;
  sql: string;
}

/** Every SQL field of the document's nodes, read from the document as written (maybe malformed). */
export function sqlFieldsOf(document: unknown, catalog: NodeCatalog): DocumentSqlField[] {
  const nodes = (document as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes.flatMap((node: unknown, index) => {
    const { id, type, config } = (node ?? {}) as { id?: unknown; type?: unknown; config?: unknown };
    if (typeof id !== 'string' || typeof type !== 'string') return [];
    const fields = catalog.get(type)?.sqlFields?.(config) ?? [];
    return fields.map((field) => ({
      nodeId: id,
      path: `nodes[${index}].config${field.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`,
      sql: field.sql,
    }));
  });
}

/** The problems of each SQL field, as compile errors with line and column. */
export async function sqlErrors(document: unknown, catalog: NodeCatalog): Promise<CompileError[]> {
  return sqlStaticErrors(sqlFieldsOf(document, catalog));
}

/** What the parser and the run's rules find in these fields, without a database. */
export async function sqlStaticErrors(fields: DocumentSqlField[]): Promise<CompileError[]> {
  const errors: CompileError[] = [];
  for (const field of fields) {
    for (const problem of await checkSql(field.sql)) errors.push(sqlError(field, problem, 'invalid_sql'));
  }
  return errors;
}

/**
 * A problem in a SQL field as a compile error. One the parser cannot place (the statement's kind,
 * say) is put at the statement's first character, so the editor still has somewhere to mark.
 */
export function sqlError(
  field: DocumentSqlField,
  problem: SqlProblem,
  code: CompileError['code'],
): CompileError {
  const { line, column } =
    problem.line !== undefined && problem.column !== undefined
      ? { line: problem.line, column: problem.column }
      : firstCharacter(field.sql);
  return {
    code,
    nodeId: field.nodeId,
    path: field.path,
    line,
    column,
    message: `Node "${field.nodeId}", line ${line}, column ${column}: ${capitalise(problem.message)}`,
  };
}

function firstCharacter(sql: string): { line: number; column: number } {
  const index = sql.search(/\S/);
  const before = sql.slice(0, Math.max(0, index));
  const line = before.split('\n').length;
  return { line, column: before.length - (before.lastIndexOf('\n') + 1) + 1 };
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
