// source.airbyte reading several streams in one node (the real airbyte-source-faker, in the
// sandbox, through real runs): one table per stream typed from its schema, the node's own table
// listing them, a SQL step joining `{{ inputs.src.users }}` and `{{ inputs.src.purchases }}`, a
// Python transform reading `inputs["src.products"]`, state per stream committed by the run (a
// second run reads nothing new of the incremental stream), one lineage dataset per stream, and
// the compiler naming a stream the node does not read.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';
import { compile } from '../../engine/src/compiler/compile.js';
import { activityCatalog } from '../../engine/src/pipelines/node-catalog.js';
import { airbyteSource } from '../src/source/airbyte/airbyte.source.js';

const FAKER = 'airbyte-source-faker==6.2.32';

let h: Harness;
const suffix = randomBytes(4).toString('hex');
beforeAll(async () => {
  h = await startHarness();
}, 600_000);
afterAll(async () => h?.stop());

function pipeline(id: string) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { keepStaging: true },
    nodes: [
      {
        id: 'src',
        type: 'source.airbyte',
        retry: { maxAttempts: 1 },
        config: {
          package: FAKER,
          config: { count: 40, seed: 3, records_per_slice: 20, always_updated: false, parallelism: 1 },
          streams: [
            { name: 'users', syncMode: 'incremental' },
            { name: 'purchases' },
            { name: 'products', syncMode: 'full_refresh' },
          ],
        },
      },
      {
        id: 'buyers',
        type: 'transform.sql',
        config: {
          sql: `select u.id, count(p.id)::int as purchases
                  from {{ inputs.src.users }} u left join {{ inputs.src.purchases }} p on p.user_id = u.id
                 group by u.id`,
        },
      },
      {
        id: 'py',
        type: 'transform.python',
        config: {
          requirements: ['pandas==2.2.3'],
          code:
            'def transform(inputs, params):\n' +
            '    products = inputs["src.products"]\n' +
            '    return products[["id", "make", "price"]].sort_values("id")\n',
        },
      },
    ],
    edges: [
      { from: 'src', to: 'buyers' },
      { from: 'src', to: 'py' },
    ],
  };
}

describe('source.airbyte with several streams', () => {
  it('reads each stream into a table of its own, which SQL and Python steps downstream read', async () => {
    const id = `ab-streams-${suffix}`;
    const first = await h.run(h.plan(pipeline(id)));
    expect(first.progress?.steps.src?.error ?? null).toBeNull();
    expect(first.status).toBe('succeeded');
    const schema = stagingSchemaFor(first.runId, id);
    const q = async (sql: string) => (await h.platform.warehousePool.query(sql)).rows;

    // The node's table lists its streams; each stream's table is typed from its schema.
    expect(
      await q(`select stream, table_name, rows::int, sync_mode from "${schema}".src order by stream`),
    ).toEqual([
      {
        stream: 'products',
        table_name: 'src__products',
        rows: expect.any(Number),
        sync_mode: 'full_refresh',
      },
      {
        stream: 'purchases',
        table_name: 'src__purchases',
        rows: expect.any(Number),
        sync_mode: 'full_refresh',
      },
      { stream: 'users', table_name: 'src__users', rows: 40, sync_mode: 'incremental' },
    ]);
    const types = await q(
      `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
        where a.attrelid = to_regclass('"${schema}".src__users') and a.attnum > 0 and not a.attisdropped`,
    );
    expect(Object.fromEntries(types.map((r) => [r.name, r.type]))).toMatchObject({
      id: 'bigint',
      address: 'jsonb',
      created_at: 'timestamp with time zone',
    });
    const [users] = await q(
      `select count(*)::int as n, count(distinct id)::int as ids from "${schema}".src__users`,
    );
    expect(users).toEqual({ n: 40, ids: 40 });
    const [purchases] = await q(`select count(*)::int as n from "${schema}".src__purchases`);
    expect(purchases!.n).toBeGreaterThan(0);

    // The SQL step joined two streams; the Python step read a third.
    const [joined] = await q(
      `select count(*)::int as n, sum(purchases)::int as total from "${schema}".buyers`,
    );
    expect(joined).toEqual({ n: 40, total: purchases!.n });
    const [products] = await q(`select count(*)::int as n from "${schema}".src__products`);
    const [fromPython] = await q(`select count(*)::int as n from "${schema}".py`);
    expect(fromPython!.n).toBe(products!.n);
    expect(first.progress?.steps.src?.notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^40 records of stream users \(incremental\)$/)]),
    );

    // State per stream, committed by the successful run: only the incremental stream has one.
    const state = await h.platform.platformPool.query(
      `select state from tributary.node_state where pipeline_id = $1 and node_id = 'src' and branch = ''`,
      [id],
    );
    expect(Object.keys(state.rows[0]?.state.streams)).toEqual(['users']);

    // A second run: the incremental stream from its state (nothing new), the others in full.
    const second = await h.run(h.plan(pipeline(id)));
    expect(second.status).toBe('succeeded');
    const again = stagingSchemaFor(second.runId, id);
    expect((await q(`select stream, rows::int from "${again}".src where stream = 'users'`))[0]).toEqual({
      stream: 'users',
      rows: 0,
    });
    expect(second.progress?.steps.src?.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^0 records of stream users \(incremental, from the stored state\)$/),
      ]),
    );
    expect((await q(`select count(*)::int as n from "${again}".src__products`))[0]).toEqual(products);
  }, 900_000);

  it('lists one lineage dataset per stream', () => {
    const lineage = airbyteSource.lineage!(
      pipeline('x').nodes[0]!.config as Record<string, unknown>,
      {
        project: 'default',
      } as never,
    );
    expect(lineage.reads?.map((r) => r.name)).toEqual([
      'airbyte:airbyte-source-faker/users',
      'airbyte:airbyte-source-faker/purchases',
      'airbyte:airbyte-source-faker/products',
    ]);
  });

  it('refuses a stream the node does not read, and a stream of a one-table node, naming them', () => {
    const doc = pipeline('x');
    doc.nodes[1]!.config = { sql: 'select * from {{ inputs.src.customers }}' };
    const result = compile(doc, { catalog: activityCatalog });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(!result.ok && result.errors)).toContain(
      'reads no stream \\"customers\\" (it reads: users, purchases, products)',
    );
    const single = pipeline('y');
    single.nodes[0]!.config = { package: FAKER, stream: 'users' } as never;
    single.nodes[2]!.config = { sql: 'select * from {{ inputs.src.users }}' } as never;
    single.nodes[2]!.type = 'transform.sql';
    const one = compile(single, { catalog: activityCatalog });
    expect(JSON.stringify(!one.ok && one.errors)).toContain('has one output table, not streams');
  });
});
