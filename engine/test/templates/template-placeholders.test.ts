// `{{ template.x }}` placeholders: where they are, and what substituting values makes of them.
import { describe, expect, it } from 'vitest';
import { placeholderUses, substitute } from '../../src/templates/template-placeholders.js';

describe('template placeholders', () => {
  it('finds every placeholder with its path and how it is used', () => {
    const uses = placeholderUses({
      nodes: [
        { config: { table: '{{ template.target }}', sql: 'select * from x where a = {{template.min}}' } },
        { config: { query: { '{{ template.param }}': 'v' }, keys: ['{{ template.key }}'] } },
      ],
    });
    expect(uses).toEqual([
      { name: 'target', path: 'nodes[0].config.table', whole: true, inKey: false, property: true },
      { name: 'min', path: 'nodes[0].config.sql', whole: false, inKey: false, property: false },
      {
        name: 'param',
        path: 'nodes[1].config.query.{{ template.param }}',
        whole: false,
        inKey: true,
        property: false,
      },
      { name: 'key', path: 'nodes[1].config.keys[0]', whole: true, inKey: false, property: false },
    ]);
  });

  it('gives a string that is exactly one placeholder the value with its JSON type', () => {
    const { value, problems } = substitute(
      {
        size: '{{ template.size }}',
        keys: '{{ template.keys }}',
        flag: '{{ template.flag }}',
        obj: '{{template.obj}}',
      },
      { size: 100, keys: ['id', 'day'], flag: false, obj: { type: 'link' } },
    );
    expect(problems).toEqual([]);
    expect(value).toEqual({ size: 100, keys: ['id', 'day'], flag: false, obj: { type: 'link' } });
  });

  it('splices values into longer text and into object keys', () => {
    const { value } = substitute(
      {
        sql: 'select * from {{ template.table }} limit {{ template.n }}',
        query: { '{{ template.p }}': 'x' },
      },
      { table: 'shop.orders', n: 5, p: 'since' },
    );
    expect(value).toEqual({ sql: 'select * from shop.orders limit 5', query: { since: 'x' } });
  });

  it('leaves other placeholders alone and does not scan substituted values again', () => {
    const { value } = substitute(
      { sql: 'select {{ params.day }}, {{ inputs.a }}, {{ template.x }}' },
      { x: '{{ template.y }}', y: 'injected' },
    );
    expect(value).toEqual({ sql: 'select {{ params.day }}, {{ inputs.a }}, {{ template.y }}' });
  });

  it('leaves out a property whose value is a placeholder without a value', () => {
    const { value, problems } = substitute(
      { config: { table: 't', connection: '{{ template.connection }}' } },
      { connection: undefined },
    );
    expect(problems).toEqual([]);
    expect(value).toEqual({ config: { table: 't' } });
  });

  it('does not copy a substituted value by reference', () => {
    const keys = ['id'];
    const { value } = substitute({ primaryKey: '{{ template.keys }}' }, { keys });
    (value as { primaryKey: string[] }).primaryKey.push('x');
    expect(keys).toEqual(['id']);
  });

  it('reports a missing value inside text, a list spliced into text, and a missing list item', () => {
    const { problems } = substitute(
      { a: 'from {{ template.missing }}', b: 'cols {{ template.cols }}', c: ['{{ template.gone }}'] },
      { cols: ['a', 'b'] },
    );
    expect(problems).toEqual([
      {
        path: 'a',
        message:
          '{{ template.missing }} is part of a longer text, so it needs a string, number or boolean, but "missing" has no value',
      },
      {
        path: 'b',
        message:
          '{{ template.cols }} is part of a longer text, so it needs a string, number or boolean, but "cols" has a list',
      },
      {
        path: 'c[0]',
        message: '{{ template.gone }} has no value, and only an object property can be left out',
      },
    ]);
  });
});
