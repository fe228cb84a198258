// Outages answered plainly: when Temporal or Postgres does not answer, a request that needs it
// gets 503 `application/problem+json` naming the component, with Retry-After, within 2 s, instead
// of hanging on the client's retries and ending in a 500. The Temporal client gives up on an
// unreachable server after about a second (infra/temporal-retry.ts), Postgres connections time out after
// POSTGRES_CONNECT_TIMEOUT_MS, and the errors they end in are mapped to the component here.
import { HttpProblem } from './problem.js';

export type Component = 'temporal' | 'postgres';

export const RETRY_AFTER_SECONDS = 5;
/** A pool's wait for a new connection; Postgres that does not answer by then is down. */
export const POSTGRES_CONNECT_TIMEOUT_MS = 1_500;

const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const PG_UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
]);
/** admin_shutdown, crash_shutdown, cannot_connect_now: the server is going or not yet there. */
const PG_GOING = new Set(['57P01', '57P02', '57P03']);

const VARIABLE: Record<Component, string> = { temporal: 'TEMPORAL_ADDRESS', postgres: 'DATABASE_URL' };
const NAME: Record<Component, string> = { temporal: 'Temporal', postgres: 'Postgres' };
const WHAT: Record<Component, string> = {
  temporal: 'runs cannot be started, listed or read until it is back',
  postgres: 'pipelines, drafts and settings cannot be read or saved until it is back; nothing saved is lost',
};

export class ComponentDownError extends Error {
  constructor(
    readonly component: Component,
    cause?: unknown,
  ) {
    super(`${NAME[component]} is not answering`, { cause });
  }
}

/** Which component an error says is unreachable, if any. */
export function unreachableComponent(error: unknown): Component | undefined {
  if (error instanceof ComponentDownError) return error.component;
  const e = error as { name?: string; code?: unknown; message?: string; cause?: unknown } | undefined;
  if (!e) return undefined;
  const grpc = typeof e.code === 'number' ? e.code : (e.cause as { code?: unknown } | undefined)?.code;
  if (
    (e.name === 'ServiceError' || e.name === 'GrpcRetryError' || typeof grpc === 'number') &&
    (grpc === GRPC_UNAVAILABLE || grpc === GRPC_DEADLINE_EXCEEDED)
  )
    return 'temporal';
  if (typeof e.code === 'string' && (PG_UNREACHABLE.has(e.code) || PG_GOING.has(e.code))) return 'postgres';
  const message = e.message ?? '';
  if (
    /timeout exceeded when trying to connect|Connection terminated|connection terminated unexpectedly/i.test(
      message,
    )
  )
    return 'postgres';
  if (e.cause && e.cause !== error) return unreachableComponent(e.cause);
  return undefined;
}

export function outageProblem(component: Component): HttpProblem {
  return new HttpProblem(
    503,
    'Service Unavailable',
    `${NAME[component]} is not answering: ${WHAT[component]}. Try again shortly; GET /api/health says when it is back ` +
      `(an operator checks ${VARIABLE[component]} and that server).`,
    [],
    { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    { component },
  );
}
