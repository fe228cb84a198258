// Checks a transform.sql statement with the real Postgres parser (libpg-query) before it runs: it
// must be exactly one read-only query — SELECT, WITH … SELECT or VALUES — with no INTO, no
// data-modifying CTE, no row locks, no call of a function that reaches outside the database or
// changes session settings, and (at run time) no table in a schema its project does not own. This
// is the second fence: what the statement may touch is bounded first by the project's role.
import { parse } from 'libpg-query';
import { quoteTable } from '../../sql.js';
import { describeForeignSchema, type SchemaOwners } from '../../warehouse/schema-owners.js';
import {
  byteToIndex,
  codePointToIndex,
  problemAt,
  renderSql,
  replacementAt,
  toSourceIndex,
  type RenderedSql,
  type SqlProblem,
} from './render-sql.js';

const STATEMENT_NAMES: Record<string, string> = {
  InsertStmt: 'an INSERT',
  UpdateStmt: 'an UPDATE',
  DeleteStmt: 'a DELETE',
  MergeStmt: 'a MERGE',
  CreateStmt: 'a CREATE TABLE',
  CreateTableAsStmt: 'a CREATE TABLE … AS',
  ViewStmt: 'a CREATE VIEW',
  IndexStmt: 'a CREATE INDEX',
  DropStmt: 'a DROP',
  AlterTableStmt: 'an ALTER TABLE',
  TruncateStmt: 'a TRUNCATE',
  CopyStmt: 'a COPY',
  VariableSetStmt: 'a SET',
  VariableShowStmt: 'a SHOW',
  TransactionStmt: 'a transaction control (BEGIN/COMMIT/ROLLBACK)',
  ExplainStmt: 'an EXPLAIN',
  GrantStmt: 'a GRANT/REVOKE',
  DoStmt: 'a DO',
  CallStmt: 'a CALL',
  VacuumStmt: 'a VACUUM/ANALYZE',
  LockStmt: 'a LOCK',
  CreateSchemaStmt: 'a CREATE SCHEMA',
  CreateFunctionStmt: 'a CREATE FUNCTION',
};
const DATA_MODIFYING: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};
const LOCK_STRENGTHS: Record<string, string> = {
  LCS_FORUPDATE: 'FOR UPDATE',
  LCS_FORNOKEYUPDATE: 'FOR NO KEY UPDATE',
  LCS_FORSHARE: 'FOR SHARE',
  LCS_FORKEYSHARE: 'FOR KEY SHARE',
};

/**
 * Functions a pipeline's SQL may not call, by name or prefix: they change session settings (and
 * so how later statements parse), reach files, programs, large objects or other databases, signal
 * other sessions, or take locks the platform's own publishing relies on.
 */
const FORBIDDEN_FUNCTION = new RegExp(
  '^(set_config|dblink.*|lo_.*|loread|lowrite|pg_read_.*|pg_ls_.*|pg_stat_file|pg_file_.*|' +
    'pg_terminate_backend|pg_cancel_backend|pg_signal_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|' +
    'pg_logical_.*|pg_replication_.*|pg_create_.*_slot|pg_drop_replication_slot|pg_copy_.*_slot|' +
    'pg_.*advisory.*|pg_import_system_collations|pg_switch_wal|pg_backup_.*)$',
);

/** Schemas any query may read from (the catalogue) besides the project's own. */
const CATALOG_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

/** What the run-time check knows of the step: its project, who owns which schema, its inputs. */
export interface SqlAccess {
  project: string;
  owners: SchemaOwners;
  /** Schemas the step may read whatever their owner (its run's staging). */
  readable: string[];
  /** Whether a table of another project was shared with this one. */
  mayRead(table: { schema: string; table: string }): Promise<boolean>;
}

interface ParseTree {
  stmts?: { stmt: Record<string, unknown>; stmt_location?: number }[];
}
type AstObject = Record<string, unknown>;

/**
 * Checks a statement as the user wrote it, placeholders included (inputs and params stand in for
 * any table and value). Pure; the compiler or the builder can call it without a run. Returns
 * every problem found, located in the user's SQL; an empty list means the statement is accepted.
 */
export async function checkSql(sql: string): Promise<SqlProblem[]> {
  const rendered = renderSql(sql, {
    input: (name, stream) => quoteTable({ schema: 'inputs', table: stream ? `${name}.${stream}` : name }),
    param: () => ({ value: null }),
  });
  return checkRenderedSql(rendered);
}

/**
 * Checks the rewritten statement, locating problems in the user's SQL. With `access` (at run time)
 * it also refuses tables in schemas the project does not own, naming the owner.
 */
export async function checkRenderedSql(rendered: RenderedSql, access?: SqlAccess): Promise<SqlProblem[]> {
  if (rendered.problems.length > 0) return rendered.problems;
  if (!/\S/.test(rendered.text)) return [{ message: 'the statement is empty; write one SELECT' }];
  let tree: ParseTree;
  try {
    tree = (await parse(rendered.text)) as ParseTree;
  } catch (error) {
    return [syntaxProblem(rendered, error)];
  }
  const problems = inspect(rendered, tree);
  if (problems.length > 0 || !access) return problems;
  return checkAccess(rendered, tree, access);
}

/** Every schema-qualified table the statement names must be in a schema the project may read. */
async function checkAccess(rendered: RenderedSql, tree: ParseTree, access: SqlAccess): Promise<SqlProblem[]> {
  const problems: SqlProblem[] = [];
  const seen = new Set<string>();
  for (const ref of collect(tree, 'RangeVar') as {
    schemaname?: string;
    relname?: string;
    location?: number;
  }[]) {
    const schema = ref.schemaname;
    if (!schema || CATALOG_SCHEMAS.has(schema) || access.readable.includes(schema)) continue;
    const key = `${schema}.${ref.relname ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const owner = await access.owners.ownerOf(schema);
    if (owner.kind === 'project' && owner.project === access.project) continue;
    if (owner.kind === 'project' && ref.relname && (await access.mayRead({ schema, table: ref.relname })))
      continue;
    problems.push(
      locate(rendered, ref.location, describeForeignSchema(owner, schema, `table ${key}`, access.project)),
    );
  }
  return problems;
}

function collect(node: unknown, kind: string, found: unknown[] = []): unknown[] {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, kind, found);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node as AstObject)) {
      if (key === kind) found.push(value);
      collect(value, kind, found);
    }
  }
  return found;
}

function locate(rendered: RenderedSql, byteLocation: number | undefined, message: string): SqlProblem {
  return byteLocation === undefined || byteLocation < 0
    ? { message }
    : problemAt(rendered.source, toSourceIndex(rendered, byteToIndex(rendered.text, byteLocation)), message);
}

function syntaxProblem(rendered: RenderedSql, error: unknown): SqlProblem {
  const message = error instanceof Error ? error.message : String(error);
  const cursor = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails?.cursorPosition;
  if (cursor === undefined) return { message };
  const index = codePointToIndex(rendered.text, cursor);
  const inside = replacementAt(rendered, index);
  const hint =
    inside?.kind === 'param'
      ? ` — {{ params.${inside.name} }} is a bound value; it cannot stand for a table, column or keyword`
      : '';
  // The parser quotes the rewritten text there (`"inputs"`); the user wrote the placeholder.
  const near =
    inside?.kind === 'input'
      ? message.replace(/at or near ".*"$/, `at or near {{ inputs.${inside.name} }}`)
      : message;
  return problemAt(rendered.source, toSourceIndex(rendered, index), `${near}${hint}`);
}

function inspect(rendered: RenderedSql, tree: ParseTree): SqlProblem[] {
  const at = (byteLocation: number | undefined, message: string): SqlProblem =>
    byteLocation === undefined || byteLocation < 0
      ? { message }
      : problemAt(
          rendered.source,
          toSourceIndex(rendered, byteToIndex(rendered.text, byteLocation)),
          message,
        );

  const stmts = tree.stmts ?? [];
  if (stmts.length === 0) return [{ message: 'the statement is empty (only comments?); write one SELECT' }];
  if (stmts.length > 1) {
    const second = byteToIndex(rendered.text, stmts[1]!.stmt_location ?? 0);
    const start = second + (/^\s*/.exec(rendered.text.slice(second))?.[0].length ?? 0);
    return [
      problemAt(
        rendered.source,
        toSourceIndex(rendered, start),
        `found ${stmts.length} statements; write exactly one SELECT (the step's result is one table)`,
      ),
    ];
  }
  const [kind] = Object.keys(stmts[0]!.stmt);
  if (kind !== 'SelectStmt') {
    const name = STATEMENT_NAMES[kind!] ?? `a ${kind!.replace(/Stmt$/, '')}`;
    return [{ message: `this is ${name} statement; only SELECT, WITH … SELECT and VALUES are allowed` }];
  }

  const problems: SqlProblem[] = [];
  const paramRefs: { number: number; location: number }[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as AstObject)) {
      const child = value as AstObject;
      if (key === 'CommonTableExpr') {
        const query = Object.keys((child.ctequery as AstObject | undefined) ?? {})[0] ?? '';
        if (DATA_MODIFYING[query]) {
          problems.push(
            at(
              child.location as number,
              `WITH ${String(child.ctename)} AS (${DATA_MODIFYING[query]} …) modifies data; a transform may only read`,
            ),
          );
          visit({ ...child, ctequery: undefined });
          continue;
        }
      } else if (DATA_MODIFYING[key]) {
        problems.push({ message: `${DATA_MODIFYING[key]} modifies data; a transform may only read` });
      } else if (key === 'intoClause') {
        const rel = (child.rel ?? {}) as { relname?: string; location?: number };
        problems.push(
          at(
            rel.location,
            `SELECT … INTO ${rel.relname ?? ''} creates a table; remove the INTO clause (the step writes its result to its own table)`,
          ),
        );
      } else if (key === 'lockingClause' && Array.isArray(value)) {
        for (const clause of value as { LockingClause?: { strength?: string } }[]) {
          const strength = LOCK_STRENGTHS[clause.LockingClause?.strength ?? ''] ?? 'FOR UPDATE';
          problems.push({ message: `${strength} locks rows; remove it (a transform only reads)` });
        }
      } else if (key === 'FuncCall') {
        const names = ((child.funcname ?? []) as { String?: { sval?: string } }[]).map(
          (n) => n.String?.sval ?? '',
        );
        const name = names[names.length - 1]!.toLowerCase();
        if (FORBIDDEN_FUNCTION.test(name)) {
          problems.push(
            at(
              child.location as number,
              `${names.join('.')}() is not allowed in pipeline SQL: it changes session settings, reaches outside the database or signals other sessions`,
            ),
          );
        }
      } else if (key === 'ParamRef') {
        paramRefs.push({ number: Number(child.number), location: Number(child.location) });
      }
      visit(value);
    }
  };
  visit(stmts[0]!.stmt);
  if (problems.length > 0) return problems.sort(byPosition);

  // Every `$n` we wrote must be a parameter in the tree, and every parameter in the tree one we wrote:
  // otherwise a placeholder sits inside a string, a quoted name or a comment, or the user wrote `$1`.
  const ours = rendered.replacements.flatMap((r) =>
    r.paramIndex === undefined
      ? []
      : [{ ...r, location: Buffer.byteLength(rendered.text.slice(0, r.paramIndex), 'utf8') }],
  );
  const oursAt = new Set(ours.map((r) => r.location));
  const found = new Set(paramRefs.map((ref) => ref.location));
  for (const ref of paramRefs) {
    if (!oursAt.has(ref.location)) {
      problems.push(
        at(ref.location, `$${ref.number} is a positional parameter; use {{ params.<name> }} for values`),
      );
    }
  }
  for (const r of ours) {
    if (!found.has(r.location)) {
      problems.push(
        problemAt(
          rendered.source,
          r.sourceIndex,
          `{{ params.${r.name} }} is inside a string, a quoted name or a comment, where it cannot be a value; ` +
            `write it where a value goes, without quotes (e.g. where day = {{ params.${r.name} }})`,
        ),
      );
    }
  }
  return problems.sort(byPosition);
}

/** Located problems first, in the order they appear in the SQL. */
function byPosition(a: SqlProblem, b: SqlProblem): number {
  return (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0);
}
