// One way to run work in a transaction: begin, the work, commit; rollback on any error (which is
// then thrown as it was), and the client goes back to the pool either way.
import type pg from 'pg';

export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    return await inTransaction(client, work);
  } finally {
    client.release();
  }
}

/** The same on a client the caller holds (one that keeps a session lock across transactions, say). */
export async function inTransaction<C extends pg.ClientBase, T>(
  client: C,
  work: (client: C) => Promise<T>,
): Promise<T> {
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    // The work's error is the one worth reporting; a failed rollback only means the connection is gone.
    await client.query('rollback').catch(() => {});
    throw error;
  }
}
