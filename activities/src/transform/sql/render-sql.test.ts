import { describe, expect, it } from 'vitest';
import { quoteTable } from '../../sql.js';
import { codePointToIndex, formatSqlProblem, renderSql, toSourceIndex } from './render-sql.js';

const inputs: Record<string, { schema: string; table: string }> = {
  orders: { schema: 'tr_run_x', table: 'orders' },
  'odd-name': { schema: 'tr_run_x', table: 'odd-name' },
};
const params: Record<string, unknown> = { minN: 2, label: "'; drop table x; --", none: null };
const resolver = {
  input: (name: string) => (inputs[name] ? quoteTable(inputs[name]) : undefined),
  param: (name: string) => (name in params ? { value: params[name] } : undefined),
  inputNames: Object.keys(inputs),
};

describe('renderSql', () => {
  it('replaces an input with its quoted staging table', () => {
    const r = renderSql(
      'select * from {{ inputs.orders }} o join {{inputs.odd-name}} x using (id)',
      resolver,
    );
    expect(r.problems).toEqual([]);
    expect(r.text).toBe('select * from "tr_run_x"."orders" o join "tr_run_x"."odd-name" x using (id)');
    expect(r.values).toEqual([]);
  });

  it('turns params into bound $n and reuses one $n for the same param', () => {
    const r = renderSql(
      'select * from t where a >= {{ params.minN }} and b = {{ params.label }} and c < {{ params.minN }}',
      resolver,
    );
    expect(r.text).toBe('select * from t where a >= $1 and b = $2 and c < $1');
    expect(r.values).toEqual([2, "'; drop table x; --"]);
  });

  it('never splices a param value into the text', () => {
    const r = renderSql('select {{ params.label }}::text as v', resolver);
    expect(r.text).toBe('select $1::text as v');
    expect(r.text).not.toContain('drop');
  });

  it('binds a null param as a value', () => {
    expect(renderSql('select {{ params.none }} as v', resolver).values).toEqual([null]);
  });

  it('keeps a $n apart from a neighbouring digit or name', () => {
    expect(renderSql('select {{ params.minN }}0', resolver).text).toBe('select $1 0');
    expect(renderSql('select x{{ params.minN }}', resolver).text).toBe('select x $1');
  });

  it.each([
    [
      'select {{ inputs.customers }}',
      '{{ inputs.customers }}: "customers" is not an input of this step (its inputs: orders, odd-name)',
    ],
    ['select {{ params.maxN }}', '{{ params.maxN }}: the run has no param "maxN"'],
    ['select {{ env.home }}', '{{ env.home }}: unknown placeholder namespace; use inputs or params'],
    [
      'select {{ orders }}',
      '"{{ orders }}" is not a placeholder; use {{ inputs.<node> }} or {{ params.<name> }}',
    ],
  ])('reports %s', (sql, message) => {
    const r = renderSql(sql, resolver);
    expect(r.problems.map((p) => p.message)).toEqual([message]);
    expect(r.problems[0]).toMatchObject({ line: 1, column: 8 });
  });

  it('locates a problem by line and column of the user SQL', () => {
    const r = renderSql('select *\n  from {{ inputs.nope }}', resolver);
    expect(formatSqlProblem(r.problems[0]!)).toBe(
      '{{ inputs.nope }}: "nope" is not an input of this step (its inputs: orders, odd-name) ' +
        '(at line 2, column 8: "  from {{ inputs.nope }}")',
    );
  });
});

describe('toSourceIndex', () => {
  const source = 'select n from {{ inputs.orders }} where n > {{ params.minN }} and zz = 1';
  const r = renderSql(source, resolver);

  it('maps text before, between and after replacements back to the user SQL', () => {
    expect(toSourceIndex(r, r.text.indexOf('select'))).toBe(source.indexOf('select'));
    expect(toSourceIndex(r, r.text.indexOf('where'))).toBe(source.indexOf('where'));
    expect(toSourceIndex(r, r.text.indexOf('zz'))).toBe(source.indexOf('zz'));
  });

  it('maps a position inside a replacement to its placeholder', () => {
    expect(toSourceIndex(r, r.text.indexOf('orders'))).toBe(source.indexOf('{{ inputs.orders }}'));
    expect(toSourceIndex(r, r.text.indexOf('$1'))).toBe(source.indexOf('{{ params.minN }}'));
  });
});

describe('codePointToIndex', () => {
  it('counts characters outside the basic plane as one, like Postgres', () => {
    const text = "select '😀é', nope";
    // Postgres reports "nope" at character 14 (1-based): 13 characters come before it, one an emoji.
    expect(codePointToIndex(text, 13)).toBe(text.indexOf('nope'));
    expect(text.indexOf('nope')).toBe(14);
  });
});
