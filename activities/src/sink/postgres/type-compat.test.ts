import { describe, expect, it } from 'vitest';
import { isSafeConversion, parseType } from './type-compat.js';
import { siblingName } from './postgres.sink.js';

describe('sink.postgres type compatibility', () => {
  it('parses format_type output with modifiers, time zones and arrays', () => {
    expect(parseType('numeric(10,2)')).toEqual({ name: 'numeric', args: [10, 2] });
    expect(parseType('timestamp(3) with time zone')).toEqual({ name: 'timestamp with time zone', args: [3] });
    expect(parseType('character varying(20)[]')).toMatchObject({
      name: 'character varying[]',
      element: { name: 'character varying', args: [20] },
    });
  });

  it.each([
    ['integer', 'integer'],
    ['integer', 'bigint'],
    ['smallint', 'integer'],
    ['integer', 'numeric'],
    ['integer', 'numeric(12,2)'],
    ['integer', 'double precision'],
    ['real', 'double precision'],
    ['numeric(10,2)', 'numeric(12,3)'],
    ['numeric(10,2)', 'numeric'],
    ['character varying(10)', 'character varying(20)'],
    ['character varying(10)', 'text'],
    ['boolean', 'text'],
    ['jsonb', 'text'],
    ['integer[]', 'bigint[]'],
    ['integer[]', 'text'],
    ['date', 'timestamp without time zone'],
    ['timestamp(3) with time zone', 'timestamp with time zone'],
    ['json', 'jsonb'],
  ])('accepts %s input into a %s target', (input, target) => {
    expect(isSafeConversion(input, target)).toBe(true);
  });

  it.each([
    ['text', 'integer'],
    ['bigint', 'integer'],
    ['integer', 'smallint'],
    ['bigint', 'double precision'],
    ['integer', 'real'],
    ['integer', 'numeric(5,2)'],
    ['numeric', 'numeric(10,2)'],
    ['numeric(10,2)', 'numeric(10,3)'],
    ['numeric', 'integer'],
    ['double precision', 'real'],
    ['text', 'character varying(20)'],
    ['character varying(30)', 'character varying(20)'],
    ['timestamp without time zone', 'timestamp with time zone'],
    ['timestamp with time zone', 'timestamp(3) with time zone'],
    ['boolean', 'integer'],
    ['integer[]', 'integer'],
    ['text', 'uuid'],
  ])('refuses %s input into a %s target', (input, target) => {
    expect(isSafeConversion(input, target)).toBe(false);
  });

  it('keeps sibling table names within 63 bytes and distinct per table', () => {
    expect(siblingName('orders', '__tributary_new')).toBe('orders__tributary_new');
    const long = 'a'.repeat(60);
    const sibling = siblingName(long, '__tributary_new');
    expect(Buffer.byteLength(sibling)).toBeLessThanOrEqual(63);
    expect(sibling.endsWith('__tributary_new')).toBe(true);
    expect(siblingName(`${long}b`, '__tributary_new')).not.toBe(sibling);
  });
});
