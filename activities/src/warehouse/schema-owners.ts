// Which project owns a warehouse schema. The database is the source of truth (a schema's owner is
// a project role, whose comment names the project); the naming rule says which names a project may
// create. Used for messages that name the owner ("ask its owners to share it") and for the
// parser's second fence in front of pipeline SQL.
import { isPgError } from '../errors.js';
import type { Queryable } from '../sql.js';

export type SchemaOwner =
  | { kind: 'project'; project: string }
  /** Owned by the platform (e.g. tributary_telemetry), not by any project. */
  | { kind: 'platform' }
  | { kind: 'missing' };

export interface SchemaOwners {
  ownerOf(schema: string): Promise<SchemaOwner>;
}

/** The comment every project role carries; the project id follows it. */
export const PROJECT_ROLE_COMMENT = 'tributary project ';

/** Staging schemas of runs (`tr_run_…`): each belongs to its run's project role. */
export const STAGING_PREFIX = 'tr_run_';

/** A project's own schema name: its id with "-" as "_", so SQL can name it without quotes. */
export function projectSchemaName(project: string): string {
  return project.replace(/-/g, '_');
}

/**
 * Whether `project` may create a schema of this name: its own (`sales`, or `web_shop` for project
 * `web-shop`), `<that>_…`, and `public` for the default project. Other names it owns only when
 * provisioning created them for it.
 */
export function projectMayCreateSchema(project: string, schema: string): boolean {
  const own = projectSchemaName(project);
  if (schema === own || schema.startsWith(`${own}_`)) return true;
  return project === 'default' && schema === 'public';
}

/** The schema a project's unqualified table names live in. */
export function defaultSchemaOf(project: string): string {
  return project === 'default' ? 'public' : projectSchemaName(project);
}

/** Who owns a schema, from the catalogue: the comment on its owner role names a project. */
export async function readSchemaOwner(db: Queryable, schema: string): Promise<SchemaOwner> {
  const { rows } = await db.query<{ comment: string | null }>(
    `select shobj_description(nspowner, 'pg_authid') as comment from pg_namespace where nspname = $1`,
    [schema],
  );
  if (rows.length === 0) return { kind: 'missing' };
  const comment = rows[0]!.comment ?? '';
  return comment.startsWith(PROJECT_ROLE_COMMENT)
    ? { kind: 'project', project: comment.slice(PROJECT_ROLE_COMMENT.length) }
    : { kind: 'platform' };
}

/** Reads owners from the warehouse catalogue (readable by any role), remembering answers. */
export function catalogSchemaOwners(db: Queryable): SchemaOwners {
  const known = new Map<string, Promise<SchemaOwner>>();
  return {
    ownerOf(schema) {
      let owner = known.get(schema);
      if (!owner) {
        owner = readSchemaOwner(db, schema);
        known.set(schema, owner);
      }
      return owner;
    },
  };
}

/** Why `project` may not touch `what` (a table or schema name) in `schema`, in words. */
export function describeForeignSchema(
  owner: SchemaOwner,
  schema: string,
  what: string,
  project: string,
): string {
  if (owner.kind === 'project' && owner.project !== project) {
    return `${what} belongs to project ${owner.project}; ask its owners to share it`;
  }
  if (owner.kind === 'missing') {
    return `schema ${schema} does not exist (project ${project} owns "${defaultSchemaOf(project)}" and "${projectSchemaName(project)}_…" schemas)`;
  }
  return `${what} belongs to the platform, not to project ${project}; pipelines cannot touch it`;
}

/**
 * Turns Postgres's "permission denied for schema x" into a message naming who owns it. Other
 * errors come back unchanged.
 */
export async function explainPermissionError(
  error: unknown,
  owners: SchemaOwners,
  project: string,
): Promise<unknown> {
  if (!isPgError(error) || error.code !== '42501') return error;
  const match = /permission denied for schema (.+)$/.exec(error.message);
  if (!match) return error;
  const schema = match[1]!;
  const owner = await owners.ownerOf(schema).catch((): SchemaOwner => ({ kind: 'platform' }));
  if (owner.kind === 'project' && owner.project === project) return error;
  error.message = describeForeignSchema(owner, schema, `schema ${schema}`, project);
  return error;
}
