import { describe, expect, it } from 'vitest';
import { formatCopyError, locateCopyError } from './copy-error.js';

const pgError = (fields: { code: string; message: string; where?: string }) =>
  Object.assign(new Error(fields.message), fields);

describe('COPY errors', () => {
  it('names the line and column of a value that does not fit', () => {
    const location = locateCopyError(
      pgError({
        code: '22P02',
        message: 'invalid input syntax for type bigint: "abc"',
        where: 'COPY src, line 5, column amount: "abc"',
      }),
      ['id', 'amount'],
    );
    expect(location).toMatchObject({ line: 5, column: 'amount', code: '22P02' });
    expect(formatCopyError(location!)).toBe(
      'line 5, column "amount": invalid input syntax for type bigint: "abc"',
    );
  });

  it('matches a column whose name holds ": " by the known names', () => {
    const location = locateCopyError(
      pgError({ code: '22P02', message: 'bad', where: 'COPY src, line 2, column a: b: "x"' }),
      ['a', 'a: b'],
    );
    expect(location?.column).toBe('a: b');
  });

  it('quotes the start of a malformed line', () => {
    const location = locateCopyError(
      pgError({
        code: '22P04',
        message: 'extra data after last expected column',
        where: 'COPY src, line 3: "2,3,x,extra"',
      }),
      ['a', 'b', 'c'],
    );
    expect(formatCopyError(location!)).toBe('line 3: extra data after last expected column in "2,3,x,extra"');
  });

  it('does not blame the line COPY had reached when the backend was terminated or the server stopped', () => {
    // Found by the fault suite (pg_terminate_backend mid-COPY): these must stay retryable pg errors.
    for (const code of ['57P01', '57P02', '08006', '40P01', '53100']) {
      const error = pgError({
        code,
        message: 'terminating connection',
        where: 'COPY load, line 7111: "7110,4708"',
      });
      expect(locateCopyError(error, ['id']), code).toBeUndefined();
    }
  });

  it('leaves other errors alone', () => {
    expect(locateCopyError(new Error('boom'), [])).toBeUndefined();
    expect(locateCopyError(pgError({ code: '57014', message: 'canceled' }), [])).toBeUndefined();
  });
});
