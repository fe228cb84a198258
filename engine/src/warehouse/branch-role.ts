// Branch runs fenced by the database: a project's branch runs work under a role of their own
// (`trb_<project>`), which owns the branch schemas and branch runs' staging, and may only read
// main's schemas. A branch run's SQL can then write nothing of main whatever the sinks check:
// the database refuses it. Kept to plain GRANT / ALTER DEFAULT PRIVILEGES (PostgreSQL 15 and up).
import { BRANCH_SCHEMA_COMMENT, PROJECT_ROLE_COMMENT, quoteIdent } from '@tributary/activities';
import pg from 'pg';
import { withTransaction } from '../store/transaction.js';
import { branchRole, projectRole, RUNNER_ROLE } from './roles.js';

const LEDGER = 'tributary_meta';
const TELEMETRY_SCHEMA = 'tributary_telemetry';
const PROVISION_LOCK = 0x7472_6276; // provision.ts's: role creation is serialised with it

/**
 * Creates (or brings up to date) the project's branch role: read rights on every main schema of
 * the project (and on what is shared with the project), the ledger, and ownership of the
 * project's branch schemas. Idempotent; run before each branch run.
 */
export async function provisionBranchRole(owner: pg.Pool, project: string): Promise<string> {
  const role = branchRole(project);
  const main = projectRole(project);
  const q = quoteIdent;
  await withTransaction(owner, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [PROVISION_LOCK]);
    const exists = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    if (!exists.rowCount) await client.query(`create role ${q(role)} nologin noinherit`);
    // The same comment as the project's role: the branch schemas it owns are the project's.
    await client.query(
      `comment on role ${q(role)} is ${pg.escapeLiteral(`${PROJECT_ROLE_COMMENT}${project}`)}`,
    );
    // Plain membership: the runner is NOINHERIT, so it can SET ROLE to it and gains nothing else.
    await client.query(`grant ${q(role)} to ${q(RUNNER_ROLE)}`);
    const schemas = await client.query<{ name: string; branch: boolean }>(
      `select n.nspname as name,
              starts_with(coalesce(obj_description(n.oid, 'pg_namespace'), ''), $2) as branch
         from pg_namespace n
        where n.nspowner in ($1::regrole, $3::regrole) and n.nspname not like 'tr\\_run\\_%'`,
      [q(main), BRANCH_SCHEMA_COMMENT, q(role)],
    );
    for (const { name, branch } of schemas.rows) {
      if (branch) {
        await giveSchema(client, name, role);
        continue;
      }
      // main's schemas: read only. Granted again before every branch run, which picks up tables
      // main made since (no ALTER DEFAULT PRIVILEGES FOR ROLE: a non-superuser owner may not).
      await client.query(`grant usage on schema ${q(name)} to ${q(role)}`);
      await client.query(`grant select on all tables in schema ${q(name)} to ${q(role)}`);
      // A branch's copy of a main table keeps its defaults, which may call main's sequences.
      await client.query(`grant usage on all sequences in schema ${q(name)} to ${q(role)}`);
    }
    // Tables of other projects shared with this one (grants.ts) are readable in its branches too.
    const shared = await client.query<{ schema: string; table: string }>(
      `select table_schema as schema, table_name as "table" from information_schema.role_table_grants
        where grantee = $1 and privilege_type = 'SELECT'
          and table_schema not in (select nspname from pg_namespace where nspowner = $1::regrole)`,
      [main],
    );
    for (const { schema, table } of shared.rows) {
      await client.query(`grant usage on schema ${q(schema)} to ${q(role)}`);
      await client.query(`grant select on ${q(schema)}.${q(table)} to ${q(role)}`);
    }
    await client.query(`grant usage on schema ${LEDGER} to ${q(role)}`);
    await client.query(`grant select, insert on ${LEDGER}.sink_ledger to ${q(role)}`);
    if (project === 'default') {
      await client.query(`grant usage on schema ${TELEMETRY_SCHEMA} to ${q(role)}`);
      await client.query(`grant select on all tables in schema ${TELEMETRY_SCHEMA} to ${q(role)}`);
    }
  });
  return role;
}

/** Hands a branch schema made before branch roles (owned by the project's role) to the branch role. */
async function giveSchema(client: pg.PoolClient, schema: string, role: string): Promise<void> {
  await client.query(`alter schema ${quoteIdent(schema)} owner to ${quoteIdent(role)}`);
  const tables = await client.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'f') and c.relowner <> $2::regrole`,
    [schema, quoteIdent(role)],
  );
  for (const { name } of tables.rows) {
    await client.query(`alter table ${quoteIdent(schema)}.${quoteIdent(name)} owner to ${quoteIdent(role)}`);
  }
}
