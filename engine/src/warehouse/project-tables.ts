// The warehouse tables a project owns, read as the project: a transaction of the runner login role
// under `SET LOCAL ROLE <project role>`, listing relations in schemas that role owns. So the list is
// what the database says the project owns (never another project's schema, a run's staging or a
// branch's copy), not what a filter in front of it guesses.
import pg from 'pg';
import { STAGING_PREFIX } from '@tributary/activities';
import { projectRole } from './roles.js';

export interface ProjectTable {
  schema: string;
  table: string;
  kind: 'table' | 'view';
  /** Its columns, in order. */
  columns: { name: string; type: string }[];
}

const KINDS: Record<string, ProjectTable['kind']> = {
  r: 'table',
  p: 'table',
  f: 'table',
  v: 'view',
  m: 'view',
};

export async function listProjectTables(runnerPool: pg.Pool, project: string): Promise<ProjectTable[]> {
  const client = await runnerPool.connect();
  try {
    await client.query('begin read only');
    await client.query(`set local role ${pg.escapeIdentifier(projectRole(project))}`);
    await client.query('set local statement_timeout = 5000');
    const { rows } = await client.query<{
      schema: string;
      table: string;
      kind: string;
      columns: { name: string; type: string }[] | null;
    }>(
      `select n.nspname as schema, c.relname as table, c.relkind as kind,
              (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod))
                               order by a.attnum)
                 from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspowner = (select oid from pg_roles where rolname = current_user)
          and c.relkind in ('r', 'p', 'f', 'v', 'm')
          and not starts_with(n.nspname, $1)
        order by n.nspname, c.relname`,
      [STAGING_PREFIX],
    );
    await client.query('commit');
    return rows.map((r) => ({
      schema: r.schema,
      table: r.table,
      kind: KINDS[r.kind] ?? 'table',
      columns: r.columns ?? [],
    }));
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    // A project from before roles existed gets its role at its first run: until then it owns nothing.
    if ((error as { code?: string }).code === '22023' && /role .* does not exist/.test(String(error)))
      return [];
    throw error;
  } finally {
    client.release();
  }
}
