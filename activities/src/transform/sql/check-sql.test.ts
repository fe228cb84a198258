import { describe, expect, it } from 'vitest';
import { checkSql } from './check-sql.js';
import { formatSqlProblem } from './render-sql.js';

const messages = async (sql: string) => (await checkSql(sql)).map(formatSqlProblem);

describe('checkSql', () => {
  it.each([
    'select * from {{ inputs.orders }} where n >= {{ params.minN }} and m < {{ params.minN }}',
    'with big as (select * from {{ inputs.orders }} where total > 100) select count(*) from big',
    'with recursive t(n) as (values (1) union all select n + 1 from t where n < 5) select n from t',
    'values (1, {{ params.label }}), (2, null)',
    '(select 1 as a) union all (select 2)',
    'select 1 as a;',
    '-- totals per day\nselect day, sum(total) from {{ inputs.orders }} group by day -- done',
    "select '{{ not a placeholder' as text, $$ $1 $$ as dollars",
  ])('accepts %s', async (sql) => {
    expect(await messages(sql)).toEqual([]);
  });

  it.each([
    [
      'two statements',
      'select 1;\nselect 2',
      `found 2 statements; write exactly one SELECT (the step's result is one table) (at line 2, column 1: "select 2")`,
    ],
    [
      'DDL',
      'create table t (a int)',
      'this is a CREATE TABLE statement; only SELECT, WITH … SELECT and VALUES are allowed',
    ],
    [
      'DROP',
      'drop table {{ inputs.orders }}',
      'this is a DROP statement; only SELECT, WITH … SELECT and VALUES are allowed',
    ],
    [
      'DML',
      'delete from {{ inputs.orders }}',
      'this is a DELETE statement; only SELECT, WITH … SELECT and VALUES are allowed',
    ],
    [
      'DML behind a WITH',
      'with x as (select 1) insert into t select * from x',
      'this is an INSERT statement; only SELECT, WITH … SELECT and VALUES are allowed',
    ],
    [
      'COPY',
      'copy t to stdout',
      'this is a COPY statement; only SELECT, WITH … SELECT and VALUES are allowed',
    ],
    [
      'SET',
      'set search_path = evil',
      'this is a SET statement; only SELECT, WITH … SELECT and VALUES are allowed',
    ],
    [
      'INSERT in a CTE',
      'with moved as (insert into audit select * from {{ inputs.orders }} returning *) select * from moved',
      'WITH moved AS (INSERT …) modifies data; a transform may only read (at line 1, column 6: "with moved as (insert into audit se…")',
    ],
    [
      'DELETE in a CTE',
      'with gone as (delete from t returning *) select * from gone',
      'WITH gone AS (DELETE …) modifies data; a transform may only read (at line 1, column 6: "with gone as (delete from t returni…")',
    ],
    [
      'SELECT INTO',
      'select * into copy_of from {{ inputs.orders }}',
      'SELECT … INTO copy_of creates a table; remove the INTO clause (the step writes its result to its own table) ' +
        '(at line 1, column 15: "select * into copy_of from {{ inputs.orders …")',
    ],
    [
      'FOR UPDATE',
      'select * from {{ inputs.orders }} for update',
      'FOR UPDATE locks rows; remove it (a transform only reads)',
    ],
    [
      'FOR SHARE in a subquery',
      'select * from (select * from t for share) s',
      'FOR SHARE locks rows; remove it (a transform only reads)',
    ],
    [
      'a syntax error, located in the user SQL (not the rewritten one)',
      'select *\nfrom {{ inputs.orders }}\nwhere n >',
      'syntax error at end of input (at line 3, column 10: "where n >")',
    ],
    [
      'a syntax error after a placeholder',
      'select * from {{ inputs.orders }} wher n > 1',
      'syntax error at or near "n" (at line 1, column 40: "…from {{ inputs.orders }} wher n > 1")',
    ],
    [
      'a param used as a table name',
      'select * from {{ params.table }}',
      'syntax error at or near "$1" — {{ params.table }} is a bound value; it cannot stand for a table, column or keyword ' +
        '(at line 1, column 15: "select * from {{ params.table }}")',
    ],
    [
      'a param inside quotes',
      "select * from t where day = '{{ params.day }}'",
      '{{ params.day }} is inside a string, a quoted name or a comment, where it cannot be a value; write it where a value ' +
        'goes, without quotes (e.g. where day = {{ params.day }}) (at line 1, column 30: "select * from t where day = \'{{ params.day }}\'")',
    ],
    [
      'a positional parameter',
      'select * from t where n = $1',
      '$1 is a positional parameter; use {{ params.<name> }} for values (at line 1, column 27: "select * from t where n = $1")',
    ],
    ['only a comment', '-- nothing here', 'the statement is empty (only comments?); write one SELECT'],
    ['nothing', '   ', 'the statement is empty; write one SELECT'],
  ])('refuses %s', async (_name, sql, message) => {
    expect(await messages(sql)).toEqual([message]);
  });

  it('reports every problem it finds, not only the first', async () => {
    expect(await messages('with x as (update t set a = 1 returning *) select * from x for update')).toEqual([
      'WITH x AS (UPDATE …) modifies data; a transform may only read (at line 1, column 6: "with x as (update t set a = 1 retur…")',
      'FOR UPDATE locks rows; remove it (a transform only reads)',
    ]);
  });

  it('counts columns in characters when the SQL has multi-byte text', async () => {
    expect(await messages("select 'héllo 😀' as greeting,\n  'x' wher 1")).toEqual([
      `syntax error at or near "1" (at line 2, column 12: "  'x' wher 1")`,
    ]);
  });
});
