// Connections to Postgres databases outside the warehouse, named by a secret that holds their URL,
// and the COPY pipe that moves rows between two servers. The URL (and so its password) never
// appears in an error, a log line or a result: every error that could carry it is redacted.
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { EgressRefused, fencedPgStream } from './egress/egress-fence.js';
import { configError, isPgError, StepError } from './errors.js';
import type { StepContext } from './node-type.js';

export interface ExternalDatabase {
  /** The connection that does the work. */
  client: pg.PoolClient;
  /** A second connection's worth of pool, used only to cancel the first one's statement. */
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Opens a connection to the database whose URL is the secret `secretName`; `field` names it in errors. */
export async function connectBySecret(
  ctx: Pick<StepContext, 'secrets' | 'egress'>,
  secretName: string,
  field: string,
): Promise<ExternalDatabase> {
  const url = (await ctx.secrets.resolve(secretName, { connectionUrl: true })).trim();
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw configError(
      field,
      `the secret "${secretName}" does not hold a Postgres URL; store it as postgres://user:password@host:port/database`,
    );
  }
  // Every socket of this pool goes through the egress fence, at connect time, on the resolved address.
  const stream = fencedPgStream(ctx.egress, `connection "${secretName}" to ${describeTarget(url)}`);
  const pool = new pg.Pool({ connectionString: url, max: 2, application_name: 'tributary', stream });
  // An idle connection that loses its server must not crash the worker.
  pool.on('error', () => {});
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw redactError(error, url, `connection "${secretName}"`);
  }
  client.on('error', () => {});
  return {
    client,
    pool,
    close: async () => {
      client.release();
      await pool.end().catch(() => {});
    },
  };
}

/**
 * A connection error with the URL and its password cut out of the message. Authentication
 * failures will not get better by retrying and become non-retryable.
 */
function redactError(error: unknown, url: string, label: string): Error {
  if (error instanceof EgressRefused) return error;
  const secrets = [url];
  try {
    const parsed = new URL(url);
    if (parsed.password) secrets.push(parsed.password, decodeURIComponent(parsed.password));
  } catch {
    // Not parseable as a URL: the whole string is all we can cut out.
  }
  let message = (error as Error)?.message ?? String(error);
  for (const secret of secrets) if (secret) message = message.split(secret).join('<redacted>');
  if (isPgError(error) && error.code!.startsWith('28')) {
    return new StepError(`${label}: ${message}`, 'auth');
  }
  const redacted = new Error(`${label}: could not connect: ${message}`);
  const code = (error as { code?: unknown })?.code;
  // Keep the code so that network errors (ECONNREFUSED, …) and SQLSTATEs are classified as before.
  if (typeof code === 'string') Object.assign(redacted, { code });
  return redacted;
}

/** postgres://host:port of a connection URL, without user, password or database (for messages). */
export function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `postgres://${parsed.hostname || 'localhost'}:${parsed.port || '5432'}`;
  } catch {
    return 'an unreadable Postgres URL';
  }
}

/** A function that cancels the statement running on `client`, through `pool` (another connection). */
export function cancelThrough(client: pg.PoolClient, pool: pg.Pool): () => void {
  const pid = (client as unknown as { processID?: number }).processID;
  return () => {
    if (pid) pool.query('select pg_cancel_backend($1)', [pid]).catch(() => {});
  };
}

/**
 * Cancels the statement running on `client` (via `pool`, another connection to the same server)
 * when `signal` aborts. Returns the function that stops listening.
 */
export function cancelOnAbort(client: pg.PoolClient, pool: pg.Pool, signal: AbortSignal): () => void {
  const onAbort = cancelThrough(client, pool);
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/**
 * Streams the rows of `selectSql` on `from` into `copyIntoSql` (a `copy … from stdin`) on `into`,
 * in Postgres's text format, so each side parses values with its own types. Returns the row count.
 */
export async function pipeRows(
  from: pg.PoolClient,
  selectSql: string,
  into: pg.PoolClient,
  copyIntoSql: string,
  signal: AbortSignal,
): Promise<number> {
  const reader = from.query(copyTo(`copy (${selectSql}) to stdout`));
  const writer = into.query(copyFrom(copyIntoSql));
  await pipeline(reader, writer, { signal });
  return writer.rowCount;
}

/**
 * Settings that make the text format unambiguous between two servers whatever their defaults:
 * ISO dates, Postgres-style intervals, floats printed exactly. Local to the current transaction.
 */
export async function setPortableTextFormat(client: pg.PoolClient): Promise<void> {
  // SET statements rather than set_config(): the warehouse does not let pipeline roles call it.
  await client.query(`set local datestyle = 'ISO, MDY'`);
  await client.query(`set local intervalstyle = 'postgres'`);
  await client.query('set local extra_float_digits = 3');
}
