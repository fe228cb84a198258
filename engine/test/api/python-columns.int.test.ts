// A Python step's output columns after any run (issue 24, item 2), on the real stack: real pandas
// from PyPI in the bubblewrap sandbox, Temporal, Postgres and HTTP. A run that keeps no staging
// reports them in its detail; the schemas endpoint then serves them as the run's (and a SQL step
// downstream is described over them), no longer once the code changes in a draft; lineage derives
// each from every input column; another project's token reads none of it.
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stagingSchemaFor } from '../../src/model/run-ids.js';
import { startApi, uniq, type ApiHarness, type Body } from './api-harness.js';

let api: ApiHarness;
let projectA: string;
let projectB: string;
beforeAll(async () => {
  api = await startApi();
  projectA = uniq('pya');
  projectB = uniq('pyb');
  for (const id of [projectA, projectB]) {
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
  }
}, 120_000);
afterAll(async () => {
  for (const id of [projectA, projectB]) {
    await api?.h.platform.warehousePool.query(`drop schema if exists ${projectSchemaName(id)} cascade`);
  }
  await api?.stop();
});

const SCORE = `
import pandas as pd

def transform(inputs, params):
    orders = inputs["orders"]
    out = orders.groupby("customer", as_index=False).agg(orders=("id", "count"), total=("total", "sum"))
    out["score"] = out["total"] / out["orders"]
    return out
`;

/** orders (SQL) → scores (pandas) → ranked (SQL over the Python step's columns); no kept staging. */
const scoresPipeline = (id: string, code = SCORE) => ({
  apiVersion: 'tributary/v1',
  id,
  name: id,
  project: projectA,
  nodes: [
    {
      id: 'seed',
      type: 'source.generate',
      config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    {
      id: 'orders',
      type: 'transform.sql',
      config: {
        sql: `select g as id, 'c' || (g % 2) as customer, g * 1.5 as total from {{ inputs.seed }}, generate_series(1, 6) g`,
      },
    },
    { id: 'scores', type: 'transform.python', config: { code }, retry: { maxAttempts: 1 } },
    {
      id: 'ranked',
      type: 'transform.sql',
      config: { sql: 'select customer, score from {{ inputs.scores }} order by score desc' },
    },
  ],
  edges: [
    { from: 'seed', to: 'orders' },
    { from: 'orders', to: 'scores' },
    { from: 'scores', to: 'ranked' },
  ],
});

const SCORE_COLUMNS = [
  { name: 'customer', type: 'text' },
  { name: 'orders', type: 'bigint' },
  { name: 'total', type: 'double precision' },
  { name: 'score', type: 'double precision' },
];

const create = async (doc: Body) => {
  const reply = await api.call('POST', '/api/pipelines', { body: doc });
  expect(reply.status).toBe(201);
  expect(reply.body.valid, JSON.stringify(reply.body.errors)).toBe(true);
};

async function runToEnd(pipelineId: string, body: Body = {}): Promise<string> {
  const started = await api.call('POST', `/api/pipelines/${pipelineId}/runs`, { body });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  // A run that fails still ends: its detail says which steps succeeded.
  await api.h.platform.temporal.workflow
    .getHandle(started.body.runId)
    .result()
    .catch(() => undefined);
  return started.body.runId as string;
}

describe("a Python step's columns after a run", () => {
  let doc: ReturnType<typeof scoresPipeline>;
  let runId: string;
  beforeAll(async () => {
    doc = scoresPipeline(uniq('pycols'));
    await create(doc);
    runId = await runToEnd(doc.id);
  }, 600_000);

  it('are in the run detail (names and types, no rows), while the staging is gone', async () => {
    const detail = await api.call('GET', `/api/runs/${runId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.steps.scores).toMatchObject({ status: 'succeeded', columns: SCORE_COLUMNS });
    expect(detail.body.steps.scores.columnsTotal).toBeUndefined();
    // A SQL step describes itself without a run: it reports nothing.
    expect(detail.body.steps.orders.columns).toBeUndefined();
    expect(detail.body.steps.ranked.columns).toBeUndefined();
    const staging = await api.h.platform.warehousePool.query(
      'select 1 from pg_namespace where nspname = $1',
      [stagingSchemaFor(runId, doc.id)],
    );
    expect(staging.rowCount).toBe(0);
  });

  it("are served as the run's by the schemas endpoint, and the SQL step after it is described over them", async () => {
    const reply = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(reply.status).toBe(200);
    expect(reply.body.nodes.scores).toEqual({ columns: SCORE_COLUMNS, source: 'run', runId });
    expect(reply.body.nodes.ranked).toEqual({
      columns: [
        { name: 'customer', type: 'text' },
        { name: 'score', type: 'double precision' },
      ],
      source: 'inferred',
    });
  });

  it('are no longer claimed once the code changes in a draft, until a run of that draft', async () => {
    const edited = scoresPipeline(doc.id, SCORE.replace('out["score"]', 'out["mean"]'));
    expect((await api.call('PUT', `/api/pipelines/${doc.id}/draft`, { body: edited })).status).toBe(200);
    const stale = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: edited });
    expect(stale.body.nodes.scores).toMatchObject({ columns: null, source: 'unknown' });
    expect(stale.body.nodes.scores.message).toContain(
      'after a run in which this step, as it is now, succeeded',
    );
    expect(stale.body.nodes.ranked).toMatchObject({ columns: null, source: 'unknown' });
    // The published document is still what the run ran.
    const published = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(published.body.nodes.scores).toMatchObject({ source: 'run', runId });

    // The draft's run fails at `ranked` (its SQL selects the `score` the edited code no longer
    // makes); the Python step succeeded in it, and that is what counts.
    const draftRun = await runToEnd(doc.id, { draft: true });
    const ran = await api.call('GET', `/api/runs/${draftRun}`);
    expect(ran.body.status).toBe('failed');
    expect(ran.body.steps.scores.status).toBe('succeeded');
    const after = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: edited });
    expect(after.body.nodes.scores).toEqual({
      columns: [...SCORE_COLUMNS.slice(0, 3), { name: 'mean', type: 'double precision' }],
      source: 'run',
      runId: draftRun,
    });
    // The draft's SQL still selects `score`, which the draft's Python step no longer makes: said
    // before the next run (the schemas endpoint describes `ranked` over the run's columns).
    expect(after.body.nodes.ranked).toMatchObject({ columns: null, source: 'unknown' });
    expect(after.body.nodes.ranked.message).toContain('score');
  }, 600_000);

  it('give lineage its columns, each derived from every input column', async () => {
    const reply = await api.call('GET', `/api/pipelines/${doc.id}/lineage`);
    expect(reply.status).toBe(200);
    const step = reply.body.nodes.find((n: Body) => n.id === `step:${doc.id}/scores`);
    expect(step?.columns).toEqual(SCORE_COLUMNS.map((c) => c.name));
  });

  it('are read by no token of another project: not the run, not the schemas, not the lineage', async () => {
    const tokenB = await api.token(['read', 'write', 'run'], [projectB]);
    const schemas = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc, token: tokenB });
    expect(schemas.status).toBe(403);
    const detail = await api.call('GET', `/api/runs/${runId}`, { token: tokenB });
    expect([403, 404]).toContain(detail.status);
    const lineage = await api.call('GET', `/api/pipelines/${doc.id}/lineage`, { token: tokenB });
    expect(lineage.status).toBe(403);
    for (const reply of [schemas, detail, lineage]) {
      expect(reply.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.stringify(reply.body)).not.toContain('score');
    }
    const anonymous = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc, token: null });
    expect(anonymous.status).toBe(401);
  });
});

describe('a wide Python output', () => {
  it('reports its first 500 columns and how many there are; the schemas endpoint says so', async () => {
    const wide = `import pandas as pd

def transform(inputs, params):
    return pd.DataFrame({f"c{i}": [i] for i in range(600)})
`;
    const doc = scoresPipeline(uniq('pywide'), wide);
    // Nothing downstream selects from 600 columns: the Python step is the last one.
    doc.nodes = doc.nodes.filter((n) => n.id !== 'ranked');
    doc.edges = doc.edges.filter((e) => e.to !== 'ranked');
    await create(doc);
    const runId = await runToEnd(doc.id);
    const detail = await api.call('GET', `/api/runs/${runId}`);
    expect(detail.body.status).toBe('succeeded');
    const step = detail.body.steps.scores;
    expect(step.columns).toHaveLength(500);
    expect(step.columns[0]).toEqual({ name: 'c0', type: 'bigint' });
    expect(step.columns[499]).toEqual({ name: 'c499', type: 'bigint' });
    expect(step.columnsTotal).toBe(600);
    const schemas = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(schemas.body.nodes.scores).toMatchObject({
      source: 'run',
      runId,
      message: 'the run reported the first 500 of its 600 columns',
    });
    expect(schemas.body.nodes.scores.columns).toHaveLength(500);
  }, 600_000);
});
