// transform.sql through real pipeline runs: the real worker, Temporal dev server and Postgres.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';

let h: Harness;
const canary = `sqlt_canary_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  h = await startHarness();
  await h.platform.warehousePool.query(`create table public.${canary} (id int)`);
});
afterAll(async () => {
  await h?.platform.warehousePool.query(`drop table if exists public.${canary}`);
  await h?.stop();
});

const numbers = (rows = 5) => ({
  id: 'numbers',
  type: 'source.generate',
  config: { rows, columns: [{ name: 'n', generator: 'sequence' }] },
});

/** A pipeline whose last node is fed by all the others. */
function pipeline(
  id: string,
  nodes: ({ id: string } & Record<string, unknown>)[],
  extra: Record<string, unknown> = {},
) {
  const last = nodes.at(-1)!.id;
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { keepStaging: true },
    nodes,
    edges: nodes.slice(0, -1).map((n) => ({ from: n.id, to: last })),
    ...extra,
  };
}

async function rowsOf(runId: string, pipelineId: string, table: string, orderBy = '1') {
  const schema = stagingSchemaFor(runId, pipelineId);
  const result = await h.platform.warehousePool.query(
    `select * from "${schema}"."${table}" order by ${orderBy}`,
  );
  return result.rows;
}

describe('transform.sql', () => {
  it('filters an input with a bound param, by default and by the run value', async () => {
    const document = pipeline(
      'sql-filter',
      [
        numbers(5),
        {
          id: 'big',
          type: 'transform.sql',
          config: {
            sql: 'select n, n * 10 as tens\n  from {{ inputs.numbers }}\n where n >= {{ params.minN }}',
          },
        },
      ],
      { params: { minN: { type: 'integer', default: 2 } } },
    );

    const byDefault = await h.run(h.plan(document));
    expect(byDefault.status).toBe('succeeded');
    expect(byDefault.progress?.steps.big).toMatchObject({ status: 'succeeded', rowsIn: 5, rowsOut: 4 });
    expect(byDefault.progress?.steps.big?.bytes).toBeGreaterThan(0);
    const rows = await rowsOf(byDefault.runId, 'sql-filter', 'big');
    expect(rows.map((r) => [Number(r.n), Number(r.tens)])).toEqual([
      [2, 20],
      [3, 30],
      [4, 40],
      [5, 50],
    ]);

    const withParam = await h.run(h.plan(document, { minN: 4 }));
    expect(withParam.status).toBe('succeeded');
    expect((await rowsOf(withParam.runId, 'sql-filter', 'big')).map((r) => Number(r.n))).toEqual([4, 5]);
  });

  it('joins two inputs', async () => {
    const { runId, status, progress } = await h.run(
      h.plan(
        pipeline('sql-join', [
          {
            id: 'people',
            type: 'source.generate',
            config: {
              rows: 3,
              columns: [
                { name: 'id', generator: 'sequence' },
                { name: 'name', generator: 'text', prefix: 'p' },
              ],
            },
          },
          {
            id: 'scores',
            type: 'source.generate',
            config: {
              rows: 4,
              columns: [
                { name: 'id', generator: 'sequence', start: 2 },
                { name: 'score', generator: 'sequence', start: 100 },
              ],
            },
          },
          {
            id: 'joined',
            type: 'transform.sql',
            config: {
              sql: 'select p.id, p.name, s.score from {{ inputs.people }} p join {{ inputs.scores }} s on s.id = p.id',
            },
          },
        ]),
      ),
    );
    expect(status).toBe('succeeded');
    expect(progress?.steps.joined).toMatchObject({ rowsIn: 7, rowsOut: 2 });
    const rows = await rowsOf(runId, 'sql-join', 'joined');
    expect(rows.map((r) => [Number(r.id), r.name, Number(r.score)])).toEqual([
      [2, 'p2', 100],
      [3, 'p3', 101],
    ]);
  });

  it("treats a param holding `'; drop table …; --` as data", async () => {
    const payload = `x'; drop table public.${canary}; --`;
    const { runId, status } = await h.run(
      h.plan(
        pipeline(
          'sql-injection',
          [
            numbers(3),
            {
              id: 'tagged',
              type: 'transform.sql',
              config: {
                sql: 'select n, {{ params.label }}::text as label from {{ inputs.numbers }} where {{ params.label }} <> $$$$',
              },
            },
          ],
          { params: { label: { type: 'string', default: 'safe' } } },
        ),
        { label: payload },
      ),
    );
    expect(status).toBe('succeeded');
    const rows = await rowsOf(runId, 'sql-injection', 'tagged');
    expect(rows.map((r) => r.label)).toEqual([payload, payload, payload]);
    const still = await h.platform.warehousePool.query('select to_regclass($1) as t', [`public.${canary}`]);
    expect(still.rows[0].t).not.toBeNull();
  });

  it("fails on an unknown column with Postgres's message, located in the user's SQL, without retrying", async () => {
    const { status, progress } = await h.run(
      h.plan(
        pipeline('sql-unknown-column', [
          numbers(3),
          {
            id: 'broken',
            type: 'transform.sql',
            config: { sql: 'select n,\n       nope\n  from {{ inputs.numbers }}' },
          },
        ]),
      ),
    );
    expect(status).toBe('failed');
    const step = progress?.steps.broken;
    expect(step?.status).toBe('failed');
    expect(step?.error).toContain('Step "broken" (transform.sql): column "nope" does not exist');
    expect(step?.error).toContain('at line 2, column 8: ');
    // A permanent SQL error is not retried, although the node allows the default 3 attempts.
    expect(step?.attempt).toBe(1);
  });

  it('refuses a statement that writes, before running it', async () => {
    const { runId, status, progress } = await h.run(
      h.plan(
        pipeline('sql-refuse-dml', [
          numbers(3),
          {
            id: 'wipe',
            type: 'transform.sql',
            config: { sql: 'with gone as (delete from {{ inputs.numbers }} returning *) select * from gone' },
          },
        ]),
      ),
    );
    expect(status).toBe('failed');
    expect(progress?.steps.wipe?.error).toBe(
      'Step "wipe" (transform.sql): config.sql: WITH gone AS (DELETE …) modifies data; a transform may only read ' +
        '(at line 1, column 6: "with gone as (delete from {{ inputs…")',
    );
    expect(progress?.steps.wipe?.attempt).toBe(1);
    expect(await rowsOf(runId, 'sql-refuse-dml', 'numbers')).toHaveLength(3);
  });

  it('cancels a query that runs past timeoutSeconds', async () => {
    const { status, progress } = await h.run(
      h.plan(
        pipeline('sql-timeout', [
          numbers(1),
          {
            id: 'slow',
            type: 'transform.sql',
            retry: { maxAttempts: 1 },
            config: {
              sql: 'select n from {{ inputs.numbers }} where pg_sleep(5)::text = $$$$',
              timeoutSeconds: 1,
            },
          },
        ]),
      ),
    );
    expect(status).toBe('failed');
    expect(progress?.steps.slow?.error).toContain('canceling statement due to statement timeout');
  });
});
