// Errors the platform stores raise, so callers (the API) can answer 404/409 without knowing SQL:
// the domain's own (../errors.ts).
export { ConflictError, NotFoundError } from '../errors.js';

/** A Postgres error with its SQLSTATE, as node-postgres raises it. */
export const pgCode = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;

export const isUniqueViolation = (error: unknown): boolean => pgCode(error) === '23505';
export const isForeignKeyViolation = (error: unknown): boolean => pgCode(error) === '23503';
