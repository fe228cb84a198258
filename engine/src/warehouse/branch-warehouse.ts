// A branch's schemas in the warehouse: created on demand beside the schema a step writes (owned by
// the project's branch role, which may write nothing of main: branch-role.ts), listed for the diff, dropped with the branch. Runs on
// the owner connection; a branch schema is known by its comment, never guessed from its name.
import {
  branchSchemaComment,
  branchSchemaFits,
  branchSchemaName,
  BRANCH_SCHEMA_COMMENT,
  describeForeignSchema,
  quoteIdent,
  readSchemaOwner,
  StepError,
} from '@tributary/activities';
import pg from 'pg';
import { ensureProjectSchema } from './provision.js';
import { branchRole } from './roles.js';

const commentPrefix = (project: string, branch: string) => `${BRANCH_SCHEMA_COMMENT}${project}/${branch} of `;

/**
 * The branch schema of `base`, created when missing. `base` must be a schema the project may write
 * on main (so a branch never reaches further than main does); the branch schema is then the
 * project role's too.
 */
export async function ensureBranchSchema(
  owner: pg.Pool,
  project: string,
  branch: string,
  base: string,
): Promise<string> {
  if (!branchSchemaFits(base, branch)) {
    throw new StepError(
      `schema ${base} has no room for branch "${branch}": ${branchSchemaName(base, branch)} would pass Postgres's 63-byte limit; use a shorter branch name`,
      'config',
    );
  }
  const name = branchSchemaName(base, branch);
  const current = await readSchemaOwner(owner, name);
  const comment = await schemaComment(owner, name);
  if (
    current.kind === 'project' &&
    current.project === project &&
    comment?.startsWith(commentPrefix(project, branch))
  )
    return name;
  if (current.kind !== 'missing') {
    throw new StepError(
      `schema ${name} exists and is not branch "${branch}"'s copy of ${base} (${describeForeignSchema(current, name, `schema ${name}`, project)}); rename the branch`,
      'config',
    );
  }
  // The base is checked (and, when the naming rule gives it to the project, created) as main would.
  await ensureProjectSchema(owner, project, base);
  await owner.query(
    `create schema if not exists ${quoteIdent(name)} authorization ${quoteIdent(branchRole(project))}`,
  );
  await owner.query(
    `comment on schema ${quoteIdent(name)} is ${pg.escapeLiteral(branchSchemaComment(project, branch, base))}`,
  );
  return name;
}

export interface BranchSchema {
  /** The branch schema. */
  name: string;
  /** main's schema it stands for. */
  base: string;
}

/** The schemas a branch has written into. */
export async function branchSchemas(db: pg.Pool, project: string, branch: string): Promise<BranchSchema[]> {
  const prefix = commentPrefix(project, branch);
  const { rows } = await db.query<{ name: string; comment: string }>(
    `select nspname as name, obj_description(oid, 'pg_namespace') as comment
       from pg_namespace where starts_with(coalesce(obj_description(oid, 'pg_namespace'), ''), $1)
      order by nspname`,
    [prefix],
  );
  return rows.map((r) => ({ name: r.name, base: r.comment.slice(prefix.length) }));
}

/** Drops every schema of the branch, with its tables. */
export async function dropBranchSchemas(owner: pg.Pool, project: string, branch: string): Promise<string[]> {
  const schemas = await branchSchemas(owner, project, branch);
  for (const { name } of schemas) await owner.query(`drop schema if exists ${quoteIdent(name)} cascade`);
  return schemas.map((s) => s.name);
}

async function schemaComment(db: pg.Pool, schema: string): Promise<string | null> {
  const { rows } = await db.query<{ comment: string | null }>(
    `select obj_description(oid, 'pg_namespace') as comment from pg_namespace where nspname = $1`,
    [schema],
  );
  return rows[0]?.comment ?? null;
}
