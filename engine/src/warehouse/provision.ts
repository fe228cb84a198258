// Provisioning of the warehouse: the runner login role, a NOLOGIN role per project that owns the
// project's schemas, and the revocations that keep pipeline code inside the database and inside its
// project. Runs on the owner connection (never handed to a step), idempotently, under an advisory
// lock so that an API and workers starting together do not race on CREATE ROLE.
import {
  defaultSchemaOf,
  describeForeignSchema,
  PROJECT_ROLE_COMMENT,
  projectMayCreateSchema,
  LEDGER_DDL,
  projectSchemaName,
  quoteIdent,
  readSchemaOwner,
  StepError,
} from '@tributary/activities';
import pg from 'pg';
import { withTransaction } from '../store/transaction.js';
import { fenceFunctions } from './function-fence.js';
import { projectRole, RUNNER_ROLE, runnerPassword } from './roles.js';

/** The schema the telemetry sync writes; the default project (the operators') may read it. */
export const TELEMETRY_SCHEMA = 'tributary_telemetry';
/** Where the warehouse's sink ledger lives (the Postgres sink's LEDGER_TABLE). */
const LEDGER = 'tributary_meta';

const PROVISION_LOCK = 0x7472_6276; // 'trbv'

/** Schemas of the platform that no project's naming rule can claim. */
const RESERVED = /^(tributary|tributary_.*|tr_run_.*|pg_.*|information_schema)$/;

export class WarehouseSetupError extends Error {}

/**
 * Functions a project role must not run. set_config could switch the role (the runner is a member
 * of every project role) or change how strings parse; large objects reach files and other
 * sessions' data. Revoked from PUBLIC in the warehouse database when the owner is a superuser;
 * otherwise the start checks that someone else revoked them.
 */
const REVOKED_FUNCTIONS = [
  'pg_catalog.set_config(text, text, boolean)',
  'pg_catalog.lo_create(oid)',
  'pg_catalog.lo_creat(integer)',
  'pg_catalog.lo_open(oid, integer)',
  'pg_catalog.lo_unlink(oid)',
  'pg_catalog.lo_get(oid)',
  'pg_catalog.lo_get(oid, bigint, integer)',
  'pg_catalog.lo_put(oid, bigint, bytea)',
  'pg_catalog.lo_from_bytea(oid, bytea)',
  'pg_catalog.loread(integer, integer)',
  'pg_catalog.lowrite(integer, bytea)',
];

/** Creates (or re-checks) the runner role and the database-wide fences. Once per process start. */
export async function prepareWarehouse(owner: pg.Pool, masterKey: Buffer): Promise<void> {
  await withTransaction(owner, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [PROVISION_LOCK]);
    const me = await client.query<{ superuser: boolean; createrole: boolean; database: string }>(
      `select rolsuper as superuser, rolcreaterole as createrole, current_database() as database
         from pg_roles where rolname = current_user`,
    );
    const { superuser, createrole, database } = me.rows[0]!;
    if (!superuser && !createrole) {
      throw new WarehouseSetupError(
        `The warehouse user (WAREHOUSE_URL) must be able to create roles: run "ALTER ROLE <user> CREATEROLE" ` +
          `as a superuser. Tributary creates a login role "${RUNNER_ROLE}" for pipeline steps and one role per project.`,
      );
    }
    const password = runnerPassword(masterKey);
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [RUNNER_ROLE]);
    const attributes = 'login noinherit nosuperuser nocreatedb nocreaterole noreplication nobypassrls';
    await client.query(
      `${exists.rowCount ? 'alter' : 'create'} role ${quoteIdent(RUNNER_ROLE)} with ${attributes} password ${pg.escapeLiteral(password)}`,
    );
    // Nothing of the warehouse is anyone's by default: not the database, not the public schema.
    await client.query(`revoke create, temporary on database ${quoteIdent(database)} from public`);
    await client.query('revoke all on schema public from public');
    await createSinkLedger(client);
    if (superuser) {
      for (const fn of REVOKED_FUNCTIONS) await client.query(`revoke execute on function ${fn} from public`);
    }
    // Advisory locks, backend signalling and the like: the platform's roles only.
    const owner = (await client.query<{ me: string }>('select current_user as me')).rows[0]!.me;
    const fence = await fenceFunctions(client, superuser, [RUNNER_ROLE, owner]);
    if (fence.open.length > 0) {
      throw new WarehouseSetupError(
        `Pipeline steps could run ${fence.open.join(', ')} in the warehouse (locks and signals reaching other ` +
          `projects and the platform). Ask a superuser to run in database "${database}": ${fence.statements.join(' ')}`,
      );
    }
    const open = await client.query<{ fn: string }>(
      `select fn from unnest($1::text[]) as fn where has_function_privilege($2, fn, 'execute')`,
      [REVOKED_FUNCTIONS, RUNNER_ROLE],
    );
    if (open.rowCount) {
      throw new WarehouseSetupError(
        `Pipeline steps could run ${open.rows.map((r) => r.fn).join(', ')} in the warehouse, which would let them ` +
          `switch project roles. Ask a superuser to run in database "${database}": ` +
          open.rows.map((r) => `REVOKE EXECUTE ON FUNCTION ${r.fn} FROM PUBLIC;`).join(' '),
      );
    }
  });
}

/**
 * The sink ledger of the warehouse (one row per publish, written in the publishing transaction):
 * one table for every project, each role seeing and writing only its own rows, so no project can
 * read another's targets or forge a row that would make another's publish look done.
 */
async function createSinkLedger(client: pg.PoolClient): Promise<void> {
  await client.query(`create schema if not exists ${LEDGER}`);
  // The external databases' shape, then what the warehouse's adds: the role and the pipeline.
  await client.query(LEDGER_DDL);
  await client.query(
    `alter table ${LEDGER}.sink_ledger add column if not exists role name not null default current_user`,
  );
  await client.query(`alter table ${LEDGER}.sink_ledger add column if not exists pipeline_id text`);
  // The key includes the role, so that no project's row can collide with another's publish.
  await client.query(
    `do $$ begin
       if not exists (select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
                       where i.indrelid = '${LEDGER}.sink_ledger'::regclass and i.indisprimary and a.attname = 'role') then
         alter table ${LEDGER}.sink_ledger drop constraint if exists sink_ledger_pkey;
         alter table ${LEDGER}.sink_ledger add constraint sink_ledger_pkey primary key (role, run_id, node_id, target);
       end if;
     end $$`,
  );
  await client.query(`alter table ${LEDGER}.sink_ledger enable row level security`);
  await client.query(`drop policy if exists own_rows on ${LEDGER}.sink_ledger`);
  await client.query(
    `create policy own_rows on ${LEDGER}.sink_ledger using (role = current_user) with check (role = current_user)`,
  );
}

/**
 * Provisions a project: its role (granted to the runner), its default schema, and the extra
 * schemas its settings list. Existing schemas of the platform owner that the project's names
 * claim (data from before roles existed) are handed to the project's role with their tables.
 */
export async function provisionProject(
  owner: pg.Pool,
  project: string,
  extraSchemas: readonly string[] = [],
): Promise<void> {
  const role = projectRole(project);
  const own = projectSchemaName(project);
  await withTransaction(owner, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [PROVISION_LOCK]);
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    if (!exists.rowCount) {
      await client.query(`create role ${quoteIdent(role)} nologin noinherit`);
    }
    await client.query(
      `comment on role ${quoteIdent(role)} is ${pg.escapeLiteral(`${PROJECT_ROLE_COMMENT}${project}`)}`,
    );
    // The runner may SET ROLE to the project's role but inherits none of its rights. PostgreSQL 16+
    // says so on the grant; 15 has no grant options, and the runner's NOINHERIT says it there.
    const version = await client.query<{ num: string }>(
      `select current_setting('server_version_num') as num`,
    );
    const options = Number(version.rows[0]!.num) >= 160_000 ? ' with inherit false, set true' : '';
    await client.query(`grant ${quoteIdent(role)} to ${quoteIdent(RUNNER_ROLE)}${options}`);
    const claimed = await client.query<{ name: string; comment: string | null }>(
      `select nspname as name, shobj_description(nspowner, 'pg_authid') as comment
         from pg_namespace
        where (nspname = $1 or nspname like $2 escape '\\' or nspname = any($3)
               or ($1 = 'default' and nspname = 'public'))
          -- Branch schemas belong to the project's branch role (branch-role.ts), not to main's.
          and not starts_with(coalesce(obj_description(oid, 'pg_namespace'), ''), 'tributary branch ')`,
      [own, `${own.replace(/[\\_%]/g, '\\$&')}\\_%`, extraSchemas],
    );
    for (const { name, comment } of claimed.rows) {
      const ownerProject = comment?.startsWith(PROJECT_ROLE_COMMENT)
        ? comment.slice(PROJECT_ROLE_COMMENT.length)
        : null;
      if (ownerProject && ownerProject !== project) {
        throw new WarehouseSetupError(
          `schema ${name} belongs to project ${ownerProject}; project ${project} cannot own it too`,
        );
      }
      if (RESERVED.test(name)) continue;
      await adoptSchema(client, name, role);
    }
    for (const schema of new Set([defaultSchemaOf(project), ...extraSchemas])) {
      await client.query(
        `create schema if not exists ${quoteIdent(schema)} authorization ${quoteIdent(role)}`,
      );
    }
    await client.query(`grant usage on schema ${LEDGER} to ${quoteIdent(role)}`);
    await client.query(`grant select, insert on ${LEDGER}.sink_ledger to ${quoteIdent(role)}`);
    if (project === 'default') await grantTelemetryRead(client, role);
  });
}

/** Hands a schema and the tables in it that the role does not own yet to a project role. */
async function adoptSchema(client: pg.PoolClient | pg.Pool, schema: string, role: string): Promise<void> {
  await client.query(`alter schema ${quoteIdent(schema)} owner to ${quoteIdent(role)}`);
  const relations = await client.query<{ name: string; kind: string }>(
    `select c.relname as name, c.relkind as kind from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f') and c.relowner <> $2::regrole and not exists
        (select 1 from pg_depend d where d.objid = c.oid and d.deptype = 'e')`,
    [schema, quoteIdent(role)],
  );
  for (const { name } of relations.rows) {
    await client.query(`alter table ${quoteIdent(schema)}.${quoteIdent(name)} owner to ${quoteIdent(role)}`);
  }
}

async function grantTelemetryRead(client: pg.PoolClient, role: string): Promise<void> {
  await client.query(`create schema if not exists ${quoteIdent(TELEMETRY_SCHEMA)}`);
  await client.query(`grant usage on schema ${quoteIdent(TELEMETRY_SCHEMA)} to ${quoteIdent(role)}`);
  await client.query(
    `grant select on all tables in schema ${quoteIdent(TELEMETRY_SCHEMA)} to ${quoteIdent(role)}`,
  );
  await client.query(
    `alter default privileges in schema ${quoteIdent(TELEMETRY_SCHEMA)} grant select on tables to ${quoteIdent(role)}`,
  );
}

/**
 * Creates a schema a sink writes into, on demand: allowed when the project owns it already or the
 * naming rule gives the name to the project. Anything else is refused, naming who owns it.
 */
export async function ensureProjectSchema(owner: pg.Pool, project: string, schema: string): Promise<void> {
  const current = await readSchemaOwner(owner, schema);
  if (current.kind === 'project' && current.project === project) return;
  if (current.kind === 'platform' && projectMayCreateSchema(project, schema) && !RESERVED.test(schema)) {
    // A schema from before projects had roles, under a name the project's rule gives it.
    await withTransaction(owner, (client) => adoptSchema(client, schema, projectRole(project)));
    return;
  }
  if (current.kind === 'missing' && projectMayCreateSchema(project, schema)) {
    await owner.query(
      `create schema if not exists ${quoteIdent(schema)} authorization ${quoteIdent(projectRole(project))}`,
    );
    // Two runs may race to create it; whoever won, the owner must be this project.
    const after = await readSchemaOwner(owner, schema);
    if (after.kind === 'project' && after.project === project) return;
    throw new StepError(describeForeignSchema(after, schema, `schema ${schema}`, project), 'config');
  }
  const why =
    current.kind === 'missing'
      ? `schema ${schema} is not one project ${project} may create: write into "${defaultSchemaOf(project)}" or a ` +
        `"${projectSchemaName(project)}_…" schema, or list it in the project's schemas`
      : describeForeignSchema(current, schema, `schema ${schema}`, project);
  throw new StepError(why, 'config');
}

/**
 * Creates a run's staging schema, owned by its project's role (a branch run's: by the branch role),
 * with the comment the staging sweeper knows it by. One round trip and one commit (a simple query's
 * statements share a transaction): a schema is never left without its comment, and a run's start
 * waits for one commit, not two.
 */
export async function createStagingSchema(
  owner: pg.Pool,
  project: string,
  schema: string,
  role = projectRole(project),
): Promise<void> {
  await owner.query(
    `create schema if not exists ${quoteIdent(schema)} authorization ${quoteIdent(role)}; ` +
      `comment on schema ${quoteIdent(schema)} is $$tributary staging$$`,
  );
}
