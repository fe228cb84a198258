// The one way to run work in a transaction, for the engine's stores and the connectors alike (the
// engine imports it from here: activities never import the engine). Begin, the work, commit;
// rollback on any error, which is then thrown as it was; the client goes back to the pool either way.
import type pg from 'pg';

export interface TransactionOptions {
  isolation?: 'repeatable read' | 'serializable';
  readOnly?: boolean;
  /**
   * On an error, close the connection instead of rolling back and handing it back: for work that
   * may fail in the middle of a COPY, which leaves the connection mid-protocol (the server rolls
   * the transaction back when the connection goes). Only where the helper owns the connection.
   */
  discardOnError?: boolean;
}

/** Anything that lends a connection: a pg.Pool, a project's warehouse. */
export interface ConnectionSource {
  connect(): Promise<pg.PoolClient>;
}

export async function withTransaction<T>(
  pool: ConnectionSource,
  work: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  if (!options.discardOnError) {
    try {
      return await inTransaction(client, work, options);
    } finally {
      client.release();
    }
  }
  let failed = true;
  try {
    await client.query(beginStatement(options));
    const result = await work(client);
    await client.query('commit');
    failed = false;
    return result;
  } finally {
    client.release(failed);
  }
}

/** The same on a client the caller holds (one that keeps a session lock across transactions, say). */
export async function inTransaction<C extends pg.ClientBase, T>(
  client: C,
  work: (client: C) => Promise<T>,
  options: Omit<TransactionOptions, 'discardOnError'> = {},
): Promise<T> {
  try {
    await client.query(beginStatement(options));
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    // The work's error is the one worth reporting; a failed rollback only means the connection is gone.
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

/** `begin`, with the modes asked for (a project's warehouse adds its role right after any begin). */
export function beginStatement(options: Pick<TransactionOptions, 'isolation' | 'readOnly'>): string {
  const modes = [
    ...(options.isolation ? [`isolation level ${options.isolation}`] : []),
    ...(options.readOnly ? ['read only'] : []),
  ];
  return modes.length > 0 ? `begin ${modes.join(', ')}` : 'begin';
}
