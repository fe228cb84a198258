import { describe, expect, it } from 'vitest';
import { redirectToBranch } from './branch-sql.js';
import { renderSql, toSourceIndex } from './render-sql.js';

const render = (sql: string) =>
  renderSql(sql, {
    input: (name) => `"tr_run_x"."${name}"`,
    param: (name) => (name === 'min' ? { value: 1 } : undefined),
  });

const copies = new Set(['sales.orders', 'sales.Mixed Case']);
const copyOf = async (t: { schema: string; table: string }) =>
  copies.has(`${t.schema}.${t.table}`) ? `${t.schema}__dev` : undefined;

describe('redirectToBranch', () => {
  it("points schema-qualified names at the branch's copy, bare or quoted, and leaves the rest", async () => {
    const sql =
      'select o.id from sales.orders o join "sales"."Mixed Case" m using (id)\n' +
      'join sales.customers c using (id) join {{ inputs.up }} u using (id) where o.n > {{ params.min }}';
    const out = await redirectToBranch(render(sql), copyOf);
    expect(out.text).toBe(
      'select o.id from "sales__dev".orders o join "sales__dev"."Mixed Case" m using (id)\n' +
        'join sales.customers c using (id) join "tr_run_x"."up" u using (id) where o.n > $1',
    );
    expect(out.values).toEqual([1]);
  });

  it('keeps positions in the rewritten text pointing into the SQL the user wrote', async () => {
    const sql = 'select nope from sales.orders where n > {{ params.min }} and zzz';
    const out = await redirectToBranch(render(sql), copyOf);
    const at = out.text.indexOf('zzz');
    expect(toSourceIndex(out, at)).toBe(sql.indexOf('zzz'));
    const param = out.replacements.find((r) => r.kind === 'param')!;
    expect(out.text.slice(param.paramIndex!, param.paramIndex! + 2)).toBe('$1');
  });

  it('returns the statement as it was when the branch has no copy of anything it reads', async () => {
    const rendered = render('select * from sales.customers');
    expect(await redirectToBranch(rendered, copyOf)).toBe(rendered);
  });
});
