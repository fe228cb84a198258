// Kept staging schemas: a run's staging stays after it ends when the pipeline keeps it for previews,
// or when the run failed (so a re-run can reuse what succeeded), until an expiry written in the
// schema's comment. A re-run leases the schemas it reads from; the sweeper never drops a schema a
// live run holds a lease on. Comment and leases change under a per-schema advisory lock.
import { quoteIdent } from '@tributary/activities';
import type pg from 'pg';
import { withTransaction } from '../store/transaction.js';

/** The schema comment of kept staging; the sweeper reads the expiry (and leases) back from it. */
export const KEPT_PREFIX = 'tributary staging kept until ';
const LEASES = '; reused by ';
/** How long a lease alone keeps a schema before its run has started (the sweeper runs every 10 min). */
export const LEASE_GRACE_MS = 30 * 60_000;

export interface Kept {
  until: Date;
  /** Runs that reuse tables of this schema. */
  leases: string[];
}

export function parseKept(comment: string | null | undefined): Kept | undefined {
  if (!comment?.startsWith(KEPT_PREFIX)) return undefined;
  const rest = comment.slice(KEPT_PREFIX.length);
  const at = rest.indexOf(LEASES);
  const until = new Date(at < 0 ? rest : rest.slice(0, at));
  if (Number.isNaN(until.getTime())) return undefined;
  const leases =
    at < 0
      ? []
      : rest
          .slice(at + LEASES.length)
          .split(' ')
          .filter(Boolean);
  return { until, leases };
}

export function formatKept(kept: Kept): string {
  const leases = [...new Set(kept.leases)];
  return `${KEPT_PREFIX}${kept.until.toISOString()}${leases.length ? `${LEASES}${leases.join(' ')}` : ''}`;
}

const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Runs `work` in a transaction holding the schema's advisory lock, with its current comment. */
async function withSchemaLock<T>(
  warehouse: pg.Pool,
  schema: string,
  work: (client: pg.PoolClient, comment: string | null, exists: boolean) => Promise<T>,
): Promise<T> {
  return withTransaction(warehouse, async (client) => {
    await client.query("select pg_advisory_xact_lock(hashtext('tributary staging ' || $1))", [schema]);
    const found = await client.query<{ comment: string | null }>(
      "select obj_description(oid, 'pg_namespace') as comment from pg_namespace where nspname = $1",
      [schema],
    );
    return work(client, found.rows[0]?.comment ?? null, found.rowCount === 1);
  });
}

/** Keeps a schema until at least `until`; leases already on it stay. */
export async function keepStagingUntil(warehouse: pg.Pool, schema: string, until: Date): Promise<void> {
  await withSchemaLock(warehouse, schema, async (client, comment, exists) => {
    if (!exists) return;
    const kept = parseKept(comment);
    const later = kept && kept.until > until ? kept.until : until;
    await client.query(
      `comment on schema ${quoteIdent(schema)} is ${literal(formatKept({ until: later, leases: kept?.leases ?? [] }))}`,
    );
  });
}

/**
 * Leases kept tables to a re-run about to start: under the schema lock, checks which of `tables`
 * still exist, and only when all do records the lease (and keeps the schema for the grace period at
 * least, until the run has started). Returns the tables that are gone (then nothing is leased).
 */
export async function leaseKeptTables(
  warehouse: pg.Pool,
  schema: string,
  tables: string[],
  runId: string,
  now = new Date(),
): Promise<string[]> {
  return withSchemaLock(warehouse, schema, async (client, comment, exists) => {
    const kept = parseKept(comment);
    if (!exists || !kept) return tables;
    const present = await client.query<{ table: string }>(
      `select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = any($2) and c.relkind in ('r', 'p', 'v', 'm')`,
      [schema, tables],
    );
    const found = new Set(present.rows.map((r) => r.table));
    const missing = tables.filter((t) => !found.has(t));
    if (missing.length > 0) return missing;
    const grace = new Date(now.getTime() + LEASE_GRACE_MS);
    const until = kept.until > grace ? kept.until : grace;
    await client.query(
      `comment on schema ${quoteIdent(schema)} is ${literal(formatKept({ until, leases: [...kept.leases, runId] }))}`,
    );
    return [];
  });
}

/**
 * Drops kept staging schemas whose time is up and that no open run leases; returns their names.
 * Without `isRunOpen`, a leased schema is never dropped (a lease is assumed live).
 */
export async function sweepExpiredStaging(
  warehouse: pg.Pool,
  now = new Date(),
  isRunOpen: (runId: string) => Promise<boolean> = async () => true,
): Promise<string[]> {
  const kept = await warehouse.query<{ name: string; comment: string }>(
    `select nspname as name, obj_description(oid, 'pg_namespace') as comment
       from pg_namespace where nspname like 'tr\\_run\\_%' and obj_description(oid, 'pg_namespace') like $1`,
    [`${KEPT_PREFIX}%`],
  );
  const dropped: string[] = [];
  for (const { name, comment } of kept.rows) {
    const seen = parseKept(comment);
    if (!seen || seen.until > now) continue;
    const drop = await withSchemaLock(warehouse, name, async (client, current) => {
      // Read again under the lock: a re-run may have leased it since.
      const state = parseKept(current);
      if (!state || state.until > now) return false;
      for (const runId of state.leases) if (await isRunOpen(runId)) return false;
      await client.query(`drop schema if exists ${quoteIdent(name)} cascade`);
      return true;
    });
    if (drop) dropped.push(name);
  }
  return dropped;
}
