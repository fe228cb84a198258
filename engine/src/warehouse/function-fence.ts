// Functions of the warehouse that reach beyond a project's domain, refused by the database itself:
// EXECUTE revoked from PUBLIC, granted back only to the platform's own roles (the runner, which
// takes sinks' publish locks and cancels its own statements, and the owner, which takes the
// provisioning lock). The SQL checker refuses them too, but a function that runs SQL text
// (query_to_xml, ts_stat, …) hides a call from any parser: only the database can be the fence.
//
// Found by a review of pg_proc for functions PUBLIC may execute (PostgreSQL 15–18): the rest are
// either harmless (sizes, visibility, text search) or check privileges of their own (replication
// slots, pg_import_system_collations, pg_nextoid, binary_upgrade_*, server files, stats resets).
// Matched by name, so every overload of every server version is covered.
import type pg from 'pg';

export const FENCED_FUNCTION_NAMES = [
  // Advisory locks: a project could hold another's sink lock, or the provisioning lock, for as
  // long as its statement timeout.
  'pg_advisory_lock',
  'pg_advisory_lock_shared',
  'pg_advisory_unlock',
  'pg_advisory_unlock_shared',
  'pg_advisory_unlock_all',
  'pg_advisory_xact_lock',
  'pg_advisory_xact_lock_shared',
  'pg_try_advisory_lock',
  'pg_try_advisory_lock_shared',
  'pg_try_advisory_xact_lock',
  'pg_try_advisory_xact_lock_shared',
  // Signalling other sessions.
  'pg_cancel_backend',
  'pg_terminate_backend',
  'pg_notify',
  // Writes a message into the WAL, which logical-decoding consumers (CDC) of the cluster read.
  'pg_logical_emit_message',
] as const;

export interface FunctionFenceResult {
  /** Signatures PUBLIC may still execute (the owner could not revoke: not a superuser). */
  open: string[];
  /** What a superuser must run to close them. */
  statements: string[];
}

/**
 * Revokes the fenced functions from PUBLIC (when `superuser`) and grants them to `platformRoles`.
 * Returns what is still open, so the caller can refuse to start. Idempotent.
 */
export async function fenceFunctions(
  client: pg.PoolClient,
  superuser: boolean,
  platformRoles: readonly string[],
): Promise<FunctionFenceResult> {
  const list = async () =>
    (
      await client.query<{ fn: string; open: boolean }>(
        `select p.oid::regprocedure::text as fn,
                (p.proacl is null or exists (select 1 from aclexplode(p.proacl) a
                                              where a.grantee = 0 and a.privilege_type = 'EXECUTE')) as open
           from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'pg_catalog' and p.proname = any($1)
          order by 1`,
        [FENCED_FUNCTION_NAMES],
      )
    ).rows;
  const roles = platformRoles.map((r) => `"${r.replace(/"/g, '""')}"`).join(', ');
  const statements = (fn: string) => [
    `REVOKE EXECUTE ON FUNCTION pg_catalog.${fn} FROM PUBLIC;`,
    `GRANT EXECUTE ON FUNCTION pg_catalog.${fn} TO ${roles};`,
  ];
  if (superuser) {
    for (const { fn } of await list()) {
      for (const statement of statements(fn)) await client.query(statement.replace(/;$/, ''));
    }
  }
  const open = (await list()).filter((f) => f.open).map((f) => f.fn);
  return { open, statements: open.flatMap(statements) };
}
