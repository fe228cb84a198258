import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  findNameProblem,
  findUnterminatedQuote,
  inferTypes,
  joinTypes,
  parseHead,
  truncateIdentifier,
  valueType,
} from './csv-format.js';

const comma = { delimiter: ',', quote: '"', nullString: '' };
const fieldsOf = (text: string, final = true, dialect = comma) =>
  parseHead(text, dialect, { final, maxRecords: 100 }).records.map((r) => r.fields);

describe('parseHead', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks, and counts file lines', () => {
    const head = parseHead('a,b\n"x,1","say ""hi"""\n"two\nlines",z\nlast,row\n', comma, {
      final: true,
      maxRecords: 100,
    });
    expect(head.records.map((r) => r.fields)).toEqual([
      ['a', 'b'],
      ['x,1', 'say "hi"'],
      ['two\nlines', 'z'],
      ['last', 'row'],
    ]);
    expect(head.records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });

  it('tells NULL (unquoted null string) from an empty string (quoted)', () => {
    expect(fieldsOf('a,,""\n')).toEqual([['a', null, '']]);
    expect(fieldsOf('NA,,""\n', true, { ...comma, nullString: 'NA' })).toEqual([[null, '', '']]);
  });

  it('leaves out a record that a prefix of the file has not finished', () => {
    expect(fieldsOf('a,b\n1,2\n3,"unfinished\n', false)).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(fieldsOf('a,b\n1,2', false)).toEqual([['a', 'b']]);
    // A quote at the very end of a prefix may be the first of a doubled pair.
    expect(fieldsOf('a\n"x"', false)).toEqual([['a']]);
  });

  it('takes the last record of a whole file without a final newline, and CRLF line ends', () => {
    expect(fieldsOf('a;b\r\n1;2', true, { ...comma, delimiter: ';' })).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('reports where an unterminated quote of a whole file opened', () => {
    expect(parseHead('a,b\n1,2\n3,"open\n4,5\n', comma, { final: true, maxRecords: 100 })).toMatchObject({
      unterminatedQuoteLine: 3,
    });
  });

  it('stops after maxRecords', () => {
    expect(parseHead('1\n2\n3\n', comma, { final: true, maxRecords: 2 }).records).toHaveLength(2);
  });
});

describe('findUnterminatedQuote', () => {
  const scan = (text: string, chunk = 3) =>
    findUnterminatedQuote(
      Readable.from(
        Array.from({ length: Math.ceil(text.length / chunk) }, (_, i) =>
          Buffer.from(text.slice(i * chunk, (i + 1) * chunk)),
        ),
      ),
      '"',
    );

  it('finds the line of the quote that never closes, across chunk boundaries', async () => {
    expect(await scan('a,b\n"x ""y""\nz",1\n2,"open\n3,4\n')).toBe(4);
    expect(await scan('a,b\n"1""",2\n', 1)).toBeUndefined();
    expect(await scan('a,b\n"",2\n"x"\n', 1)).toBeUndefined();
  });
});

describe('type inference', () => {
  it.each([
    ['42', 'bigint'],
    ['-7', 'bigint'],
    ['9223372036854775807', 'bigint'],
    ['9223372036854775808', 'numeric'],
    ['007', 'text'],
    ['00.5', 'text'],
    ['0.5', 'numeric'],
    ['3.14', 'numeric'],
    ['-.5', 'numeric'],
    ['1e10', 'numeric'],
    ['true', 'boolean'],
    ['F', 'boolean'],
    ['yes', 'text'],
    ['2024-02-29', 'date'],
    ['2023-02-29', 'text'],
    ['2024-13-01', 'text'],
    ['2024-01-05 10:30', 'timestamp'],
    ['2024-01-05T10:30:15.123456', 'timestamp'],
    ['2024-01-05 10:30:15+02', 'timestamptz'],
    ['2024-01-05T10:30:15Z', 'timestamptz'],
    ['2024-01-05 25:00:00', 'text'],
    ['01/05/2024', 'text'],
    [' 42', 'text'],
    ['', 'text'],
  ])('reads %j as %s', (value, type) => {
    expect(valueType(value)).toBe(type);
  });

  it('widens integers to numeric and dates to timestamps, and anything else mixed to text', () => {
    expect(joinTypes('bigint', 'numeric')).toBe('numeric');
    expect(joinTypes('date', 'timestamp')).toBe('timestamp');
    expect(joinTypes('timestamp', 'timestamptz')).toBe('text');
    expect(joinTypes('bigint', 'boolean')).toBe('text');
  });

  it('ignores NULLs, and calls a column without values text', () => {
    expect(
      inferTypes(
        [
          ['1', null, 'x', null],
          [null, '2.5', '1', null],
          ['3', '2', null],
        ],
        4,
      ),
    ).toEqual(['bigint', 'numeric', 'text', 'text']);
  });
});

describe('column names', () => {
  it('finds the first empty or repeated name by position', () => {
    expect(findNameProblem(['a', 'b'])).toBeUndefined();
    expect(findNameProblem(['a', '', 'c'])).toEqual({ kind: 'empty', position: 2 });
    expect(findNameProblem(['a', null])).toEqual({ kind: 'empty', position: 2 });
    expect(findNameProblem(['id', 'x', 'id'])).toEqual({
      kind: 'duplicate',
      position: 3,
      first: 1,
      name: 'id',
    });
    expect(findNameProblem(['ID', 'id'])).toBeUndefined();
  });

  it('compares names as Postgres stores them: the first 63 bytes, cut on a character', () => {
    const long = 'é'.repeat(40);
    expect(Buffer.byteLength(truncateIdentifier(long))).toBe(62);
    expect(findNameProblem([`${'x'.repeat(63)}a`, `${'x'.repeat(63)}b`])).toMatchObject({
      kind: 'duplicate',
    });
  });
});
