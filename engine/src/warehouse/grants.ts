// Sharing in the warehouse: a consumer project's role gets SELECT on one table of another project
// (and USAGE on its schema, which lets it see the schema's table names, not their rows).
import { quoteIdent, quoteTable, type TableRef } from '@tributary/activities';
import type pg from 'pg';
import { withTransaction } from '../store/transaction.js';
import { projectRole } from './roles.js';

export async function grantRead(owner: pg.Pool, consumer: string, table: TableRef): Promise<void> {
  const role = quoteIdent(projectRole(consumer));
  await withTransaction(owner, async (client) => {
    await client.query(`grant usage on schema ${quoteIdent(table.schema)} to ${role}`);
    await client.query(`grant select on ${quoteTable(table)} to ${role}`);
  });
}

/** Revokes the table; the schema too when no other shared table of it is left for the consumer. */
export async function revokeRead(
  owner: pg.Pool,
  consumer: string,
  table: TableRef,
  keepSchemaUsage: boolean,
): Promise<void> {
  const role = quoteIdent(projectRole(consumer));
  await withTransaction(owner, async (client) => {
    const exists = await client.query('select to_regclass($1) as t', [quoteTable(table)]);
    if (exists.rows[0].t) await client.query(`revoke select on ${quoteTable(table)} from ${role}`);
    if (!keepSchemaUsage)
      await client.query(`revoke usage on schema ${quoteIdent(table.schema)} from ${role}`);
  });
}
