// Column lineage of transform.sql queries. Every expected answer is written out by hand; the output
// names were checked against what Postgres itself names the columns.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { columnLineage, type RelationRef } from './column-lineage.js';

const ORDERS = { kind: 'input', node: 'orders' } as const;
const CUSTOMERS = { kind: 'input', node: 'customers' } as const;
const SHIPMENTS = { kind: 'input', node: 'shipments' } as const;
const EVENTS = { kind: 'input', node: 'events' } as const;
const CLICKS = { kind: 'input', node: 'clicks' } as const;
const SALES_ORDERS = { kind: 'table', schema: 'sales', table: 'orders' } as const;

/** Known columns: three inputs and one warehouse table; `events` and `clicks` are of unknown columns. */
const schemaOf = (ref: RelationRef): string[] | undefined => {
  if (ref.kind === 'table')
    return ref.schema === 'sales' && ref.table === 'orders' ? ['order_id', 'amount', 'placed_at'] : undefined;
  return {
    orders: ['id', 'customer_id', 'total', 'status', 'created_at'],
    customers: ['id', 'name', 'country'],
    shipments: ['id', 'carrier', 'shipped_at'],
  }[ref.node];
};
/** The column sources alone; what is read elsewhere (relations, row-level indirect) is tested below. */
const lineage = async (sql: string) => {
  const { relations: _relations, indirect: _indirect, ...rest } = await columnLineage(sql, schemaOf);
  return rest;
};

describe('columnLineage', () => {
  it('follows a plain select with column and table aliases', async () => {
    expect(
      await lineage(
        'select o.id as order_id, o.total, status as state, created_at from {{ inputs.orders }} as o',
      ),
    ).toEqual({
      columns: [
        { name: 'order_id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
        { name: 'state', sources: [{ relation: ORDERS, column: 'status', transformation: 'direct' }] },
        {
          name: 'created_at',
          sources: [{ relation: ORDERS, column: 'created_at', transformation: 'direct' }],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it('follows a join of two inputs; ON and WHERE columns are not sources', async () => {
    expect(
      await lineage(`
        select o.id, c.name as customer, total, country
          from {{ inputs.orders }} o
          left join {{ inputs.customers }} c on c.id = o.customer_id
         where c.country <> 'DE' and o.status = 'paid'`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        { name: 'customer', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'direct' }] },
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
        { name: 'country', sources: [{ relation: CUSTOMERS, column: 'country', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('reports an unqualified name both joined relations have as ambiguous', async () => {
    expect(
      await lineage(
        'select id, name from {{ inputs.orders }} o join {{ inputs.customers }} c on c.id = o.customer_id',
      ),
    ).toEqual({
      columns: [
        { name: 'id', sources: [] },
        { name: 'name', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'direct' }] },
      ],
      complete: false,
      problems: ['column "id" is ambiguous'],
    });
  });

  it('follows two CTEs, the second reading the first', async () => {
    expect(
      await lineage(`
        with paid as (
          select id, customer_id, total from {{ inputs.orders }} where status = 'paid'
        ),
        per_customer as (
          select customer_id, sum(total) as spent, count(*) as n from paid group by customer_id
        )
        select c.name, p.customer_id, p.spent, p.n
          from per_customer p join {{ inputs.customers }} c on c.id = p.customer_id`),
    ).toEqual({
      columns: [
        { name: 'name', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'direct' }] },
        {
          name: 'customer_id',
          sources: [{ relation: ORDERS, column: 'customer_id', transformation: 'direct' }],
        },
        { name: 'spent', sources: [{ relation: ORDERS, column: 'total', transformation: 'aggregation' }] },
        { name: 'n', sources: [] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('follows a CTE read from a nested WITH inside a subquery', async () => {
    expect(
      await lineage(`
        with a as (select id as order_id, total from {{ inputs.orders }})
        select * from (with b as (select order_id, total * 2 as doubled from a) select * from b) s`),
    ).toEqual({
      columns: [
        { name: 'order_id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        { name: 'doubled', sources: [{ relation: ORDERS, column: 'total', transformation: 'derived' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('keeps a column renamed in a CTE and again outside direct', async () => {
    expect(
      await lineage(`
        with renamed as (select id as order_ref from {{ inputs.orders }})
        select order_ref as ref from renamed`),
    ).toEqual({
      columns: [{ name: 'ref', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] }],
      complete: true,
      problems: [],
    });
  });

  it('marks aggregates as aggregations; plain GROUP BY columns stay direct; count(*) has no sources', async () => {
    expect(
      await lineage(`
        select status, date_trunc('day', created_at) as day, count(*), sum(total),
               max(total) as biggest, count(distinct customer_id)
          from {{ inputs.orders }}
         group by status, 2
        having sum(total) > 100`),
    ).toEqual({
      columns: [
        { name: 'status', sources: [{ relation: ORDERS, column: 'status', transformation: 'direct' }] },
        { name: 'day', sources: [{ relation: ORDERS, column: 'created_at', transformation: 'derived' }] },
        { name: 'count', sources: [] },
        { name: 'sum', sources: [{ relation: ORDERS, column: 'total', transformation: 'aggregation' }] },
        { name: 'biggest', sources: [{ relation: ORDERS, column: 'total', transformation: 'aggregation' }] },
        {
          name: 'count',
          sources: [{ relation: ORDERS, column: 'customer_id', transformation: 'aggregation' }],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it('expands * over a join of inputs of known columns', async () => {
    expect(
      await lineage(
        'select * from {{ inputs.orders }} o join {{ inputs.customers }} c on c.id = o.customer_id',
      ),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        {
          name: 'customer_id',
          sources: [{ relation: ORDERS, column: 'customer_id', transformation: 'direct' }],
        },
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
        { name: 'status', sources: [{ relation: ORDERS, column: 'status', transformation: 'direct' }] },
        {
          name: 'created_at',
          sources: [{ relation: ORDERS, column: 'created_at', transformation: 'direct' }],
        },
        { name: 'id', sources: [{ relation: CUSTOMERS, column: 'id', transformation: 'direct' }] },
        { name: 'name', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'direct' }] },
        { name: 'country', sources: [{ relation: CUSTOMERS, column: 'country', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('expands t.* next to other columns', async () => {
    expect(
      await lineage(
        'select c.*, o.total from {{ inputs.orders }} o join {{ inputs.customers }} c on c.id = o.customer_id',
      ),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: CUSTOMERS, column: 'id', transformation: 'direct' }] },
        { name: 'name', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'direct' }] },
        { name: 'country', sources: [{ relation: CUSTOMERS, column: 'country', transformation: 'direct' }] },
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('cannot expand t.* over an input of unknown columns and says which', async () => {
    expect(
      await lineage(
        'select e.*, c.name from {{ inputs.events }} e join {{ inputs.customers }} c on c.id = e.customer_id',
      ),
    ).toEqual({
      columns: [
        { name: 'name', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'direct' }] },
      ],
      complete: false,
      problems: ['e.* over {{ inputs.events }}, whose columns are unknown'],
    });
  });

  it('expands * through a CTE and a subquery whose columns it computed', async () => {
    expect(
      await lineage(`
        with t as (select id, total * 2 as dbl from {{ inputs.orders }})
        select * from (select * from t) s`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        { name: 'dbl', sources: [{ relation: ORDERS, column: 'total', transformation: 'derived' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('attributes names to the only relation of unknown columns in scope', async () => {
    expect(
      await lineage(`
        select user_id, e.kind, count(*) as n from {{ inputs.events }} e group by user_id, e.kind`),
    ).toEqual({
      columns: [
        { name: 'user_id', sources: [{ relation: EVENTS, column: 'user_id', transformation: 'direct' }] },
        { name: 'kind', sources: [{ relation: EVENTS, column: 'kind', transformation: 'direct' }] },
        { name: 'n', sources: [] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('resolves names against known columns first, then the one unknown relation', async () => {
    expect(
      await lineage(
        'select name, kind from {{ inputs.customers }} c join {{ inputs.events }} e on e.user_id = c.id',
      ),
    ).toEqual({
      columns: [
        { name: 'name', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'direct' }] },
        { name: 'kind', sources: [{ relation: EVENTS, column: 'kind', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('reports a name that may come from either of two relations of unknown columns', async () => {
    expect(
      await lineage(
        'select user_id from {{ inputs.events }} e join {{ inputs.clicks }} k using (session_id)',
      ),
    ).toEqual({
      columns: [{ name: 'user_id', sources: [] }],
      complete: false,
      problems: [
        'column "user_id" may come from any of {{ inputs.events }}, {{ inputs.clicks }}, whose columns are unknown',
      ],
    });
    // Qualified, the same column is known.
    expect(
      (
        await lineage(
          'select k.user_id from {{ inputs.events }} e join {{ inputs.clicks }} k using (session_id)',
        )
      ).columns,
    ).toEqual([
      { name: 'user_id', sources: [{ relation: CLICKS, column: 'user_id', transformation: 'direct' }] },
    ]);
  });

  it("attributes a name missing from the only relation's known columns to it, and says so", async () => {
    expect(await lineage('select refund_total from {{ inputs.orders }}')).toEqual({
      columns: [
        {
          name: 'refund_total',
          sources: [{ relation: ORDERS, column: 'refund_total', transformation: 'direct' }],
        },
      ],
      complete: false,
      problems: ['column "refund_total" is not among the known columns of {{ inputs.orders }}'],
    });
  });

  it('follows columns of a subquery that selects * over an input of unknown columns', async () => {
    expect(await lineage('select s.user_id, kind from (select * from {{ inputs.events }}) s')).toEqual({
      columns: [
        { name: 'user_id', sources: [{ relation: EVENTS, column: 'user_id', transformation: 'direct' }] },
        { name: 'kind', sources: [{ relation: EVENTS, column: 'kind', transformation: 'direct' }] },
      ],
      complete: false,
      problems: ['* over {{ inputs.events }}, whose columns are unknown'],
    });
  });

  it('treats an aliased join as one relation with renamed columns', async () => {
    expect(
      await lineage(`
        select j.order_ref, j.name
          from ({{ inputs.orders }} o join {{ inputs.customers }} c on c.id = o.customer_id) as j(order_ref)`),
    ).toEqual({
      columns: [
        { name: 'order_ref', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        { name: 'name', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('makes a FILTER condition conditional and derives a whole-row reference', async () => {
    expect(
      await lineage(`
        select count(*) filter (where o.status = 'paid') as paid, row_to_json(c) as doc
          from {{ inputs.orders }} o join {{ inputs.customers }} c on c.id = o.customer_id
         group by c.*`),
    ).toEqual({
      columns: [
        {
          name: 'paid',
          sources: [],
          indirect: [{ relation: ORDERS, column: 'status', subtype: 'CONDITIONAL' }],
        },
        {
          name: 'doc',
          sources: [
            { relation: CUSTOMERS, column: 'id', transformation: 'derived' },
            { relation: CUSTOMERS, column: 'name', transformation: 'derived' },
            { relation: CUSTOMERS, column: 'country', transformation: 'derived' },
          ],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it('follows a subquery in FROM', async () => {
    expect(
      await lineage(`
        select big.id, big.doubled
          from (select id, total * 2 as doubled from {{ inputs.orders }} where total > 100) as big`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        { name: 'doubled', sources: [{ relation: ORDERS, column: 'total', transformation: 'derived' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('derives CASE from its results; its conditions are conditional', async () => {
    expect(
      await lineage(`
        select id,
               case when status = 'paid' then total else 0 end as paid_total,
               case status when 'new' then 'open' end
          from {{ inputs.orders }}`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        {
          name: 'paid_total',
          sources: [{ relation: ORDERS, column: 'total', transformation: 'derived' }],
          indirect: [{ relation: ORDERS, column: 'status', subtype: 'CONDITIONAL' }],
        },
        {
          name: 'case',
          sources: [],
          indirect: [{ relation: ORDERS, column: 'status', subtype: 'CONDITIONAL' }],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it('derives a window function from its arguments; PARTITION BY and ORDER BY are WINDOW (named windows too)', async () => {
    expect(
      await lineage(`
        select id,
               row_number() over (partition by customer_id order by created_at) as rn,
               sum(total) over w as running
          from {{ inputs.orders }}
        window w as (partition by status order by id)`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        {
          name: 'rn',
          sources: [],
          indirect: [
            { relation: ORDERS, column: 'customer_id', subtype: 'WINDOW' },
            { relation: ORDERS, column: 'created_at', subtype: 'WINDOW' },
          ],
        },
        {
          name: 'running',
          sources: [{ relation: ORDERS, column: 'total', transformation: 'aggregation' }],
          indirect: [
            { relation: ORDERS, column: 'status', subtype: 'WINDOW' },
            { relation: ORDERS, column: 'id', subtype: 'WINDOW' },
          ],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it('merges UNION ALL branches: direct only when direct in every branch', async () => {
    expect(
      await lineage(`
        select id, name, 'customer' as kind from {{ inputs.customers }}
        union all
        select order_id, null, 'sale' from sales.orders`),
    ).toEqual({
      columns: [
        {
          name: 'id',
          sources: [
            { relation: CUSTOMERS, column: 'id', transformation: 'direct' },
            { relation: SALES_ORDERS, column: 'order_id', transformation: 'direct' },
          ],
        },
        { name: 'name', sources: [{ relation: CUSTOMERS, column: 'name', transformation: 'derived' }] },
        { name: 'kind', sources: [] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('merges INTERSECT and EXCEPT branches the same way', async () => {
    expect(
      await lineage(`
        select id from {{ inputs.customers }}
        except
        select customer_id from {{ inputs.orders }}
        intersect
        select id from {{ inputs.shipments }}`),
    ).toEqual({
      columns: [
        {
          name: 'id',
          sources: [
            { relation: CUSTOMERS, column: 'id', transformation: 'direct' },
            { relation: ORDERS, column: 'customer_id', transformation: 'direct' },
            { relation: SHIPMENTS, column: 'id', transformation: 'direct' },
          ],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it('derives COALESCE from all its arguments', async () => {
    expect(
      await lineage("select coalesce(c.name, c.country, 'unknown') from {{ inputs.customers }} c"),
    ).toEqual({
      columns: [
        {
          name: 'coalesce',
          sources: [
            { relation: CUSTOMERS, column: 'name', transformation: 'derived' },
            { relation: CUSTOMERS, column: 'country', transformation: 'derived' },
          ],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it('derives a scalar subquery from what it selects; its correlated WHERE filters that column', async () => {
    expect(
      await lineage(`
        select c.id,
               (select sum(o.total) from {{ inputs.orders }} o where o.customer_id = c.id) as lifetime,
               (select max(created_at) from {{ inputs.orders }})
          from {{ inputs.customers }} c`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: CUSTOMERS, column: 'id', transformation: 'direct' }] },
        {
          name: 'lifetime',
          sources: [{ relation: ORDERS, column: 'total', transformation: 'aggregation' }],
          indirect: [
            { relation: ORDERS, column: 'customer_id', subtype: 'FILTER' },
            { relation: CUSTOMERS, column: 'id', subtype: 'FILTER' },
          ],
        },
        {
          name: 'max',
          sources: [{ relation: ORDERS, column: 'created_at', transformation: 'aggregation' }],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it('follows a warehouse table by schema.table', async () => {
    expect(
      await lineage('select o.order_id, o.amount::numeric as amount, placed_at from sales.orders o'),
    ).toEqual({
      columns: [
        {
          name: 'order_id',
          sources: [{ relation: SALES_ORDERS, column: 'order_id', transformation: 'direct' }],
        },
        {
          name: 'amount',
          sources: [{ relation: SALES_ORDERS, column: 'amount', transformation: 'derived' }],
        },
        {
          name: 'placed_at',
          sources: [{ relation: SALES_ORDERS, column: 'placed_at', transformation: 'direct' }],
        },
      ],
      complete: true,
      problems: [],
    });
  });

  it("puts an unqualified table in schema '' or the defaultSchema given", async () => {
    const sql = 'select id from legacy_orders';
    expect((await lineage(sql)).columns).toEqual([
      {
        name: 'id',
        sources: [
          {
            relation: { kind: 'table', schema: '', table: 'legacy_orders' },
            column: 'id',
            transformation: 'direct',
          },
        ],
      },
    ]);
    expect((await columnLineage(sql, schemaOf, { defaultSchema: 'acme' })).columns).toEqual([
      {
        name: 'id',
        sources: [
          {
            relation: { kind: 'table', schema: 'acme', table: 'legacy_orders' },
            column: 'id',
            transformation: 'direct',
          },
        ],
      },
    ]);
  });

  it('gives params no lineage: no effect in WHERE, a literal in the select list', async () => {
    expect(
      await lineage(`
        select id, {{ params.label }} as label, {{ params.rate }}::numeric * total as scaled, {{ params.label }}
          from {{ inputs.orders }}
         where created_at >= {{ params.since }}`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        { name: 'label', sources: [] },
        { name: 'scaled', sources: [{ relation: ORDERS, column: 'total', transformation: 'derived' }] },
        { name: '?column?', sources: [] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('names unaliased columns as Postgres does', async () => {
    const result = await lineage(`
      select o.id, o.total + 1, upper(o.status), o.total::text, 42, nullif(o.status, ''),
             greatest(o.total, 0), case when o.total > 0 then o.status end,
             case when o.total > 0 then 'x' else o.status end, now(), current_date, 1::int,
             o.created_at at time zone 'UTC', extract(year from o.created_at), exists (select 1)
        from {{ inputs.orders }} o`);
    expect(result.columns.map((c) => c.name)).toEqual([
      'id',
      '?column?',
      'upper',
      'total',
      '?column?',
      'nullif',
      'greatest',
      'case',
      'status',
      'now',
      'current_date',
      'int4',
      'timezone',
      'extract',
      'exists',
    ]);
    expect(result.columns[3]).toEqual({
      name: 'total',
      sources: [{ relation: ORDERS, column: 'total', transformation: 'derived' }],
    });
    expect(result.columns[9]).toEqual({ name: 'now', sources: [] });
  });

  it('merges JOIN … USING and NATURAL JOIN columns as Postgres orders them', async () => {
    const expected = {
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        {
          name: 'customer_id',
          sources: [{ relation: ORDERS, column: 'customer_id', transformation: 'direct' }],
        },
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
        { name: 'status', sources: [{ relation: ORDERS, column: 'status', transformation: 'direct' }] },
        {
          name: 'created_at',
          sources: [{ relation: ORDERS, column: 'created_at', transformation: 'direct' }],
        },
        { name: 'carrier', sources: [{ relation: SHIPMENTS, column: 'carrier', transformation: 'direct' }] },
        {
          name: 'shipped_at',
          sources: [{ relation: SHIPMENTS, column: 'shipped_at', transformation: 'direct' }],
        },
      ],
      complete: true,
      problems: [],
    };
    expect(await lineage('select * from {{ inputs.orders }} join {{ inputs.shipments }} using (id)')).toEqual(
      expected,
    );
    expect(await lineage('select * from {{ inputs.orders }} natural join {{ inputs.shipments }}')).toEqual(
      expected,
    );
  });

  it('derives the USING column of a FULL JOIN from both sides', async () => {
    expect(
      await lineage(
        'select id, carrier from {{ inputs.orders }} full join {{ inputs.shipments }} using (id)',
      ),
    ).toEqual({
      columns: [
        {
          name: 'id',
          sources: [
            { relation: ORDERS, column: 'id', transformation: 'derived' },
            { relation: SHIPMENTS, column: 'id', transformation: 'derived' },
          ],
        },
        { name: 'carrier', sources: [{ relation: SHIPMENTS, column: 'carrier', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('takes the USING column of a RIGHT JOIN from the right side', async () => {
    expect(
      (await lineage('select id from {{ inputs.orders }} right join {{ inputs.shipments }} using (id)'))
        .columns,
    ).toEqual([{ name: 'id', sources: [{ relation: SHIPMENTS, column: 'id', transformation: 'direct' }] }]);
  });

  it('lets a CTE hide a warehouse table of its name, but not an input', async () => {
    expect(
      await lineage(`
        with orders as (select id, total from {{ inputs.orders }})
        select o.total, s.total as same from orders o join {{ inputs.orders }} s using (id)`),
    ).toEqual({
      columns: [
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
        { name: 'same', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
    expect((await lineage('with legacy as (select 1 as one) select one from legacy')).columns).toEqual([
      { name: 'one', sources: [] },
    ]);
  });

  it('gives VALUES columns no sources', async () => {
    expect(await lineage("select * from (values (1, 'a'), (2, 'b')) as v(n, letter)")).toEqual({
      columns: [
        { name: 'n', sources: [] },
        { name: 'letter', sources: [] },
      ],
      complete: true,
      problems: [],
    });
    expect((await lineage('values (1, 2)')).columns).toEqual([
      { name: 'column1', sources: [] },
      { name: 'column2', sources: [] },
    ]);
  });

  it('is not changed by DISTINCT, ORDER BY and LIMIT', async () => {
    expect(
      await lineage(
        'select distinct status, total from {{ inputs.orders }} order by status, total desc limit 5',
      ),
    ).toEqual({
      columns: [
        { name: 'status', sources: [{ relation: ORDERS, column: 'status', transformation: 'direct' }] },
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('follows LATERAL subqueries and set-returning functions in FROM', async () => {
    expect(
      await lineage(`
        select o.id, x.doubled, tag
          from {{ inputs.orders }} o
         cross join lateral (select o.total * 2 as doubled) x,
               unnest(string_to_array(o.status, ',')) as tag`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        { name: 'doubled', sources: [{ relation: ORDERS, column: 'total', transformation: 'derived' }] },
        { name: 'tag', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('names the columns of functions in FROM and derives them from the arguments', async () => {
    expect(
      await lineage(`
        select *
          from {{ inputs.orders }} o,
               jsonb_each(o.status::jsonb) e,
               generate_series(1, o.total) g,
               jsonb_to_record(o.status::jsonb) as r(a int, b text)`),
    ).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        {
          name: 'customer_id',
          sources: [{ relation: ORDERS, column: 'customer_id', transformation: 'direct' }],
        },
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
        { name: 'status', sources: [{ relation: ORDERS, column: 'status', transformation: 'direct' }] },
        {
          name: 'created_at',
          sources: [{ relation: ORDERS, column: 'created_at', transformation: 'direct' }],
        },
        { name: 'key', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
        { name: 'value', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
        { name: 'g', sources: [{ relation: ORDERS, column: 'total', transformation: 'derived' }] },
        { name: 'a', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
        { name: 'b', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('cannot expand * over a function of unknown columns, but follows its named columns', async () => {
    expect(await lineage('select * from {{ inputs.orders }} o, lateral my_split(o.status) m')).toEqual({
      columns: [
        { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
        {
          name: 'customer_id',
          sources: [{ relation: ORDERS, column: 'customer_id', transformation: 'direct' }],
        },
        { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
        { name: 'status', sources: [{ relation: ORDERS, column: 'status', transformation: 'direct' }] },
        {
          name: 'created_at',
          sources: [{ relation: ORDERS, column: 'created_at', transformation: 'direct' }],
        },
      ],
      complete: false,
      problems: ['* over my_split(…), whose columns are unknown'],
    });
    expect(await lineage('select m.part from {{ inputs.orders }} o, lateral my_split(o.status) m')).toEqual({
      columns: [
        { name: 'part', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('follows JSON_TABLE columns, nested ones too, to the document it reads', async () => {
    expect(
      await lineage(`
        select jt.sku, jt.qty
          from {{ inputs.orders }} o,
               json_table(o.status::jsonb, '$.lines[*]' columns (
                 sku text path '$.sku',
                 nested path '$.parts[*]' columns (qty int path '$.qty'))) as jt`),
    ).toEqual({
      columns: [
        { name: 'sku', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
        { name: 'qty', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('cannot expand (row value).* and says so', async () => {
    expect(
      await lineage(
        'select (jsonb_populate_record(null::{{ inputs.orders }}, o.doc)).*, o.id from {{ inputs.events }} o',
      ),
    ).toEqual({
      columns: [{ name: 'id', sources: [{ relation: EVENTS, column: 'id', transformation: 'direct' }] }],
      complete: false,
      problems: ['(…).* expands a row value whose columns are unknown'],
    });
  });

  it('follows a recursive CTE (best effort)', async () => {
    expect(
      await lineage(`
        with recursive r(depth, customer) as (
          select 1, id from {{ inputs.customers }}
          union all
          select depth + 1, customer from r where depth < 3
        )
        select depth, customer from r`),
    ).toEqual({
      columns: [
        { name: 'depth', sources: [] },
        { name: 'customer', sources: [{ relation: CUSTOMERS, column: 'id', transformation: 'direct' }] },
      ],
      complete: true,
      problems: [],
    });
  });

  it('reports SQL it cannot read instead of throwing', async () => {
    const broken = await lineage('select id from from {{ inputs.orders }}');
    expect(broken.complete).toBe(false);
    expect(broken.columns).toEqual([]);
    expect(broken.problems).toHaveLength(1);
    expect(broken.problems[0]).toMatch(/syntax error/);
    expect(await lineage('select {{ template.x }} from {{ inputs.orders }}')).toEqual({
      columns: [],
      complete: false,
      problems: ['{{ template.x }}: unknown placeholder namespace; use inputs or params'],
    });
    expect(await lineage('delete from {{ inputs.orders }}')).toEqual({
      columns: [],
      complete: false,
      problems: ['the statement is not exactly one SELECT'],
    });
  });

  it("reads the daily-kpi-rollup template's transform", async () => {
    const template = JSON.parse(
      readFileSync(new URL('../../../../templates/daily-kpi-rollup/template.json', import.meta.url), 'utf8'),
    ) as { pipeline: { nodes: { type: string; config: { sql?: string } }[] } };
    const values: Record<string, string> = {
      ordered_at_column: 'created_at',
      status_column: 'status',
      amount_column: 'total',
    };
    const sql = template.pipeline.nodes
      .find((n) => n.type === 'transform.sql')!
      .config.sql!.replace(/\{\{\s*template\.(\w+)\s*\}\}/g, (_, name: string) => values[name]!);
    // Its CTE `orders` (over the input of the same name) casts every column, so nothing is direct;
    // the `excluded` CTE (from a param) only filters; `'all'` and count(*) bring no column.
    expect(await lineage(sql)).toEqual({
      columns: [
        { name: 'day', sources: [{ relation: ORDERS, column: 'created_at', transformation: 'derived' }] },
        { name: 'status', sources: [{ relation: ORDERS, column: 'status', transformation: 'derived' }] },
        { name: 'orders', sources: [] },
        {
          name: 'revenue',
          sources: [{ relation: ORDERS, column: 'total', transformation: 'aggregation' }],
        },
        {
          name: 'average_basket',
          sources: [{ relation: ORDERS, column: 'total', transformation: 'aggregation' }],
        },
      ],
      complete: true,
      problems: [],
    });
  });
});

describe('columnLineage: every relation read, and what only filters, joins, groups or sorts', () => {
  const CRM_CUSTOMERS = { kind: 'table', schema: 'crm', table: 'customers' } as const;
  const ACME_BLOCKED = { kind: 'table', schema: 'acme', table: 'blocked' } as const;
  const ACME_REGIONS = { kind: 'table', schema: 'acme', table: 'regions' } as const;
  const SHARED_RATES = { kind: 'table', schema: 'shared', table: 'rates' } as const;
  /** Tables of a search path `acme, shared`: `rates` lives only in `shared`, `regions` in `acme`. */
  const known = (ref: RelationRef): string[] | undefined => {
    if (ref.kind === 'input') return schemaOf(ref);
    const tables: Record<string, string[]> = {
      'acme.regions': ['country', 'region'],
      'acme.blocked': ['customer_id', 'reason'],
      'shared.rates': ['currency', 'rate'],
      'crm.customers': ['id', 'vip'],
    };
    return tables[`${ref.schema}.${ref.table}`];
  };
  const read = (sql: string) => columnLineage(sql, known, { searchPath: ['acme', 'shared'] });

  it('finds tables read only in WHERE, JOIN … ON, EXISTS and IN subqueries, unqualified and qualified', async () => {
    const result = await read(`
      select o.id, o.total
        from {{ inputs.orders }} o
        join regions r on r.country = o.status
       where not exists (select 1 from blocked b where b.customer_id = o.customer_id)
         and o.customer_id in (select id from crm.customers where vip)
         and o.total > (select min(rate) from rates)`);
    expect(result.relations).toEqual([ORDERS, ACME_REGIONS, ACME_BLOCKED, CRM_CUSTOMERS, SHARED_RATES]);
    expect(result.columns).toEqual([
      { name: 'id', sources: [{ relation: ORDERS, column: 'id', transformation: 'direct' }] },
      { name: 'total', sources: [{ relation: ORDERS, column: 'total', transformation: 'direct' }] },
    ]);
    expect(result.indirect).toEqual([
      { relation: ACME_REGIONS, column: 'country', subtype: 'JOIN' },
      { relation: ORDERS, column: 'status', subtype: 'JOIN' },
      { relation: ACME_BLOCKED, column: 'customer_id', subtype: 'FILTER' },
      { relation: ORDERS, column: 'customer_id', subtype: 'FILTER' },
      { relation: CRM_CUSTOMERS, column: 'id', subtype: 'FILTER' },
      { relation: CRM_CUSTOMERS, column: 'vip', subtype: 'FILTER' },
      { relation: ORDERS, column: 'total', subtype: 'FILTER' },
      { relation: SHARED_RATES, column: 'rate', subtype: 'FILTER' },
    ]);
    expect(result.problems).toEqual([]);
  });

  it('puts an unqualified table no schema of the search path knows in the first schema', async () => {
    const result = await read('select * from {{ inputs.orders }} where id in (select order_id from refunds)');
    expect(result.relations).toEqual([ORDERS, { kind: 'table', schema: 'acme', table: 'refunds' }]);
  });

  it('finds tables in HAVING, the select list, CTEs, set operations and LATERAL', async () => {
    const result = await read(`
      with vip as (select id from crm.customers where vip)
      select o.customer_id,
             (select region from regions r where r.country = 'DE') as home,
             sum(o.total) as spent
        from {{ inputs.orders }} o
        cross join lateral (select reason from blocked b where b.customer_id = o.customer_id) l
       group by o.customer_id
      having o.customer_id in (select id from vip)
      union
      select id, null, null from shared.rates, {{ inputs.customers }}`);
    expect(result.relations).toEqual([
      CRM_CUSTOMERS,
      ORDERS,
      ACME_BLOCKED,
      ACME_REGIONS,
      SHARED_RATES,
      CUSTOMERS,
    ]);
    expect(result.problems).toEqual([]);
  });

  it('marks GROUP BY and ORDER BY columns, by name, output name and position', async () => {
    const result = await read(`
      select status as state, date_trunc('day', created_at) as day, sum(total) as revenue
        from {{ inputs.orders }}
       group by status, 2
       order by revenue desc, 1`);
    expect(result.indirect).toEqual([
      { relation: ORDERS, column: 'status', subtype: 'GROUP_BY' },
      { relation: ORDERS, column: 'created_at', subtype: 'GROUP_BY' },
      { relation: ORDERS, column: 'total', subtype: 'SORT' },
      { relation: ORDERS, column: 'status', subtype: 'SORT' },
    ]);
    expect(result.problems).toEqual([]);
  });

  it('carries the filters and joins of subqueries and CTEs in FROM to the whole result', async () => {
    const result = await read(`
      with paid as (select id, total from {{ inputs.orders }} where status = 'paid')
      select p.id, s.carrier
        from paid p
        join (select id, carrier from {{ inputs.shipments }} where shipped_at is not null) s using (id)`);
    expect(result.indirect).toEqual([
      { relation: ORDERS, column: 'status', subtype: 'FILTER' },
      { relation: SHIPMENTS, column: 'shipped_at', subtype: 'FILTER' },
      { relation: ORDERS, column: 'id', subtype: 'JOIN' },
      { relation: SHIPMENTS, column: 'id', subtype: 'JOIN' },
    ]);
  });
});
