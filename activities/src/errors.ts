// Failure classification, done once: bad configuration or bad data can never succeed on retry and
// become non-retryable; everything else (network, 5xx, lock timeouts) is left for Temporal to retry.
// Messages name the node and, where known, the field, row or line.

/** A problem retrying cannot fix. */
export class StepError extends Error {
  /** The declared facts the failed step still offers to conditions downstream. */
  facts?: Record<string, string | number | boolean | null>;
  constructor(
    message: string,
    readonly kind: 'config' | 'data' | 'sql' | 'auth' | 'not_found',
  ) {
    super(message);
    this.name = 'StepError';
  }
}

/** A fault worth retrying, with an optional server-provided delay (HTTP Retry-After). */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

export const configError = (field: string, message: string) =>
  new StepError(`config.${field}: ${message}`, 'config');
export const dataError = (message: string) => new StepError(message, 'data');

// SQLSTATE classes that retrying cannot fix: data exceptions, integrity violations, syntax and
// access errors, invalid names.
const PERMANENT_SQLSTATE_CLASSES = ['22', '23', '42', '2B', '2D', '3D', '3F', '44', '0A', '21', '25P02'];
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
]);

export interface PgErrorLike {
  code?: string;
  message: string;
  position?: string;
  detail?: string;
  hint?: string;
  column?: string;
  where?: string;
  constraint?: string;
}

export function isPgError(error: unknown): error is PgErrorLike & Error {
  return (
    error instanceof Error &&
    typeof (error as PgErrorLike).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((error as PgErrorLike).code!)
  );
}

/** Is this error worth another attempt? */
export function isRetryable(error: unknown): boolean {
  if (error instanceof StepError) return false;
  if (error instanceof TransientError) return true;
  if (isPgError(error)) {
    const code = error.code!;
    if (code === '57014') return true; // query_canceled: statement_timeout or a cancel; retry may fit
    // Concurrent `create … if not exists` (three sinks making one schema) can collide in the system
    // catalogs: a unique violation on a pg_* index means the other side created it; a retry sees it.
    if (code === '23505' && error.constraint?.startsWith('pg_')) return true;
    return !PERMANENT_SQLSTATE_CLASSES.some((prefix) => code.startsWith(prefix));
  }
  const code = (error as { code?: string })?.code;
  if (code && TRANSIENT_NETWORK_CODES.has(code)) return true;
  return true;
}

/** Postgres's own message, plus its detail, hint and position when it gave them. */
export function describePgError(error: PgErrorLike, sql?: string): string {
  const parts = [error.message];
  if (error.detail) parts.push(`detail: ${error.detail}`);
  if (error.hint) parts.push(`hint: ${error.hint}`);
  if (error.position && sql) {
    const pos = Number(error.position);
    const before = sql.slice(0, pos - 1);
    const line = before.split('\n').length;
    const column = pos - before.lastIndexOf('\n') - 1;
    parts.push(
      `at line ${line}, column ${column}: ${JSON.stringify(sql.slice(Math.max(0, pos - 20), pos + 20))}`,
    );
  }
  return parts.join('; ');
}
