// Retry classification of the faults the fault suite provokes for real (engine/test/faults).
import { describe, expect, it } from 'vitest';
import { isRetryable } from './errors.js';

const pgError = (code: string, extra: Record<string, string> = {}) =>
  Object.assign(new Error(`pg ${code}`), { code, ...extra });

describe('isRetryable', () => {
  it('retries a catalog collision of concurrent create-if-not-exists, not a unique violation of data', () => {
    expect(isRetryable(pgError('23505', { constraint: 'pg_namespace_nspname_index' }))).toBe(true);
    expect(isRetryable(pgError('23505', { constraint: 'pg_type_typname_nsp_index' }))).toBe(true);
    expect(isRetryable(pgError('23505', { constraint: 'orders_pkey' }))).toBe(false);
    expect(isRetryable(pgError('23505'))).toBe(false);
  });

  it('retries a terminated backend and a server shutting down', () => {
    expect(isRetryable(pgError('57P01'))).toBe(true); // admin_shutdown (pg_terminate_backend)
    expect(isRetryable(pgError('57P03'))).toBe(true); // cannot_connect_now (starting up)
    expect(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
  });
});
