// Development branches over HTTP on the real worker, Postgres and Temporal: a branch's save leaves
// main alone; a branch run writes only `<schema>__<branch>` (main's row counts checked with SQL) and
// reads main's tables it did not write, through source.table, qualified and unqualified SQL; its
// incremental state is its own; main's schedule stays main's; the diff lists pipelines and tables; merge is refused with the
// conflicts listed, or makes main versions (audited) and rebuilds; deleting drops every branch
// schema; a token of another project can do none of it. One session, in order.
import { projectSchemaName } from '@tributary/activities';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, uniq, type ApiHarness, type Body } from './api-harness.js';

let api: ApiHarness;
const project = uniq('br');
const other = uniq('br-other');
const schema = projectSchemaName(project);
const branchSchema = `${schema}__dev`;
const orders = uniq('orders');
const summary = uniq('summary');
const incremental = uniq('incr');
let branchRunId: string;

const finished = (runId: string) =>
  api.h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});

const count = async (table: string): Promise<number | null> => {
  const { rows } = await api.h.platform.warehousePool.query<{ t: string | null }>(
    'select to_regclass($1)::text as t',
    [table],
  );
  if (!rows[0]!.t) return null;
  const counted = await api.h.platform.warehousePool.query<{ n: string }>(
    `select count(*) as n from ${table}`,
  );
  return Number(counted.rows[0]!.n);
};

const run = async (id: string, branch?: string): Promise<Body> => {
  const started = await api.call('POST', `/api/pipelines/${id}/runs${branch ? `?branch=${branch}` : ''}`, {
    body: {},
  });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  await finished(started.body.runId);
  return (await api.call('GET', started.body.links.self)).body;
};

/** customers (main's, never written by a pipeline) → only the ids above `min` → report. */
const ordersPipeline = (min: number) => ({
  apiVersion: 'tributary/v1',
  id: orders,
  name: 'Orders report',
  project,
  nodes: [
    { id: 'customers', type: 'source.table', config: { table: `${schema}.customers` } },
    {
      id: 'picked',
      type: 'transform.sql',
      config: { sql: `select id, name from {{ inputs.customers }} where id > ${min}` },
    },
    { id: 'report', type: 'sink.postgres', config: { table: `${schema}.report`, mode: 'replace' } },
  ],
  edges: [
    { from: 'customers', to: 'picked' },
    { from: 'picked', to: 'report' },
  ],
});

beforeAll(async () => {
  api = await startApi();
  for (const id of [project, other]) {
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
  }
  const owner = api.h.platform.warehousePool;
  await owner.query(`create table ${schema}.customers (id int primary key, name text)`);
  await owner.query(`insert into ${schema}.customers values (1, 'Ada'), (2, 'Brook'), (3, 'Cyd')`);
  await owner.query(`create table ${schema}.events (id int primary key)`);
  await owner.query(`insert into ${schema}.events select generate_series(1, 4)`);
  await api.h.giveSchema(schema, project);
  expect((await api.call('POST', '/api/pipelines', { body: ordersPipeline(0) })).status).toBe(201);
  // An incremental read (a cursor on events.id) through a secret naming the warehouse itself.
  const secret = await api.call('PUT', `/api/projects/${project}/secrets/warehouse`, {
    body: { value: inject('warehouseUrl') },
  });
  expect(secret.status).toBeLessThan(300);
  const created = await api.call('POST', '/api/pipelines', {
    body: {
      apiVersion: 'tributary/v1',
      id: incremental,
      name: 'Events',
      project,
      nodes: [
        {
          id: 'events',
          type: 'source.postgres',
          config: { connection: 'warehouse', table: `${schema}.events`, cursorColumn: 'id' },
        },
      ],
    },
  });
  expect(created.status).toBe(201);
  const main = await run(orders);
  expect(main.status).toBe('succeeded');
  expect(main.branch).toBeNull();
  expect(await count(`${schema}.report`)).toBe(3);
  expect((await run(incremental)).status).toBe('succeeded');
  const schedule = await api.call('PUT', `/api/pipelines/${orders}/schedule`, {
    body: { cron: '0 6 * * *' },
  });
  expect(schedule.status).toBe(200);
});
afterAll(async () => {
  await api?.call('DELETE', `/api/pipelines/${orders}/schedule`);
  await api?.h.platform.warehousePool.query(`drop schema if exists ${schema} cascade`);
  await api?.stop();
});

describe('development branches', () => {
  it('refuses bad branch names with a 400 naming the rule', async () => {
    const bad = await api.call('POST', `/api/projects/${project}/branches`, { body: { name: 'Dev_1' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors[0]).toMatchObject({ path: 'name' });
    expect(bad.body.errors[0].message).toContain('lowercase letters and digits');
    const long = await api.call('POST', `/api/projects/${project}/branches`, {
      body: { name: 'a'.repeat(45) },
    });
    expect(long.status).toBe(400);
    expect(long.body.detail).toMatch(/at most \d+.*63-byte/);
  });

  it("makes a branch recording each pipeline's main version, and lists it", async () => {
    const made = await api.call('POST', `/api/projects/${project}/branches`, { body: { name: 'dev' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ project, name: 'dev', changedPipelines: 0 });
    const again = await api.call('POST', `/api/projects/${project}/branches`, { body: { name: 'dev' } });
    expect(again.status).toBe(409);
    const list = await api.call('GET', `/api/projects/${project}/branches`);
    expect(list.body.items.map((b: Body) => b.name)).toEqual(['dev']);
    const copy = await api.call('GET', `/api/pipelines/${orders}?branch=dev`);
    expect(copy.status).toBe(200);
    expect(copy.body).toMatchObject({
      version: 1,
      branch: { name: 'dev', baseVersion: 1, mainVersion: 1, changed: false },
      // In a branch a save is the branch's copy: no draft to publish or discard, a merge instead.
      workspace: {
        branch: 'dev',
        save: 'copy',
        publish: false,
        discard: false,
        runDraft: false,
        history: false,
        merge: true,
        says: expect.objectContaining({ save: "Edits are saved to branch dev's copy; main is untouched" }),
      },
      draft: null,
    });
    const listed = await api.call('GET', `/api/pipelines?branch=dev&project=${project}`);
    expect(listed.body.items.map((p: Body) => p.id).sort()).toEqual([incremental, orders].sort());
  });

  it('saves in the branch without touching main', async () => {
    const saved = await api.call('PUT', `/api/pipelines/${orders}?branch=dev`, {
      body: ordersPipeline(1),
      headers: { 'if-match': '"1"' },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({
      version: 2,
      created: true,
      branch: { changed: true, baseVersion: 1 },
    });
    expect(saved.headers.get('etag')).toMatch(/^"2-[\w-]+"$/);
    expect(saved.body.schedule).toBeUndefined();
    // main's schedule stays on main's version, and its runs are main's (no branch in the plan).
    const schedule = await api.h.platform.temporal.schedule.getHandle(`schedule-${orders}`).describe();
    const scheduled = (schedule.action as { args?: { plan: Body }[] }).args![0]!.plan;
    expect(scheduled).toMatchObject({ pipelineId: orders, pipelineVersion: 1 });
    expect(scheduled.branch).toBeUndefined();
    const stale = await api.call('PUT', `/api/pipelines/${orders}?branch=dev`, {
      body: ordersPipeline(2),
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(409);
    const main = await api.call('GET', `/api/pipelines/${orders}`);
    expect(main.body.version).toBe(1);
    expect(main.body.document.nodes[1].config.sql).toContain('id > 0');
    // A pipeline made in the branch reads the report qualified and unqualified.
    const made = await api.call('POST', `/api/pipelines?branch=dev`, {
      body: {
        apiVersion: 'tributary/v1',
        id: summary,
        name: 'Report size',
        project,
        nodes: [
          {
            id: 'one',
            type: 'source.generate',
            config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
          },
          {
            id: 'sizes',
            type: 'transform.sql',
            config: {
              sql: `select (select count(*) from ${schema}.report) as qualified,\n       (select count(*) from report) as unqualified,\n       (select count(*) from "${schema}".customers) as customers\nfrom {{ inputs.one }}`,
            },
          },
          { id: 'out', type: 'sink.postgres', config: { table: 'report_sizes', mode: 'replace' } },
        ],
        edges: [
          { from: 'one', to: 'sizes' },
          { from: 'sizes', to: 'out' },
        ],
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ version: 1, branch: { baseVersion: null, changed: true } });
    expect((await api.call('GET', `/api/pipelines/${summary}`)).status).toBe(404);
  });

  it('a branch run writes only branch schemas and reads main tables it did not write', async () => {
    const branchRun = await run(orders, 'dev');
    expect(branchRun.status, JSON.stringify(branchRun.steps)).toBe('succeeded');
    expect(branchRun).toMatchObject({ branch: 'dev', pipelineVersion: 2 });
    branchRunId = branchRun.runId;
    // main's report is as main's run left it; the branch's has the branch's rows.
    expect(await count(`${schema}.report`)).toBe(3);
    expect(await count(`${branchSchema}.report`)).toBe(2);
    // customers was read from main: the branch has no copy of it.
    expect(await count(`${branchSchema}.customers`)).toBeNull();
    const owner = await api.h.platform.warehousePool.query<{ owner: string }>(
      `select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = $1`,
      [branchSchema],
    );
    // The branch schema belongs to the project's branch role, which may only read main's schemas.
    expect(owner.rows[0]!.owner).toBe(`trb_${project}`);

    const sizes = await run(summary, 'dev');
    expect(sizes.status, JSON.stringify(sizes.steps)).toBe('succeeded');
    const { rows } = await api.h.platform.warehousePool.query(
      `select qualified::int, unqualified::int, customers::int from ${branchSchema}.report_sizes`,
    );
    // The branch's own report (2 rows), by either name; main's customers (3).
    expect(rows).toEqual([{ qualified: 2, unqualified: 2, customers: 3 }]);
    expect(await count(`${schema}.report_sizes`)).toBeNull();
  });

  it('answers 400 for drafts, publishing and deleting in a branch, and 409 for re-running a branch run', async () => {
    const calls: [string, string, unknown?][] = [
      ['GET', `/api/pipelines/${orders}/draft?branch=dev`],
      ['PUT', `/api/pipelines/${orders}/draft?branch=dev`, ordersPipeline(3)],
      ['DELETE', `/api/pipelines/${orders}/draft?branch=dev`],
      ['POST', `/api/pipelines/${orders}/publish?branch=dev`, {}],
      ['DELETE', `/api/pipelines/${orders}?branch=dev`],
      ['POST', `/api/pipelines/${orders}/runs?branch=dev`, { draft: true }],
    ];
    for (const [method, path, body] of calls) {
      const reply = await api.call(method, path, body !== undefined ? { body } : {});
      expect(reply.status, `${method} ${path}`).toBe(400);
      expect(reply.headers.get('content-type')).toContain('application/problem+json');
      expect(reply.body.errors[0].path, `${method} ${path}`).toMatch(/^(branch|draft)$/);
    }
    expect((await api.call('GET', `/api/pipelines/${orders}`)).status).toBe(200);
    const rerun = await api.call('POST', `/api/runs/${branchRunId}/rerun`, { body: { from: 'failed' } });
    expect(rerun.status).toBe(409);
    expect(rerun.body.detail).toContain('ran in branch "dev"');
  });

  it('keeps incremental state per branch', async () => {
    const first = await run(incremental, 'dev');
    expect(first.status).toBe('succeeded');
    // main's cursor is at 4 already; the branch starts from nothing and reads every row.
    expect(first.steps.events.rowsOut).toBe(4);
    const states = await api.h.platform.platformPool.query(
      `select branch, state from tributary.node_state where pipeline_id = $1 order by branch`,
      [incremental],
    );
    expect(states.rows.map((r) => r.branch)).toEqual(['', 'dev']);
    const again = await run(incremental, 'dev');
    expect(again.steps.events.rowsOut).toBe(0);
  });

  it('diffs the branch: pipelines with graph and SQL changes, tables with row counts against main', async () => {
    const diff = await api.call('GET', `/api/projects/${project}/branches/dev/diff`);
    expect(diff.status).toBe(200);
    const byId = Object.fromEntries(diff.body.pipelines.map((p: Body) => [p.pipelineId, p]));
    expect(Object.keys(byId).sort()).toEqual([orders, summary].sort());
    expect(byId[orders]).toMatchObject({
      status: 'changed',
      baseVersion: 1,
      mainVersion: 1,
      conflict: false,
    });
    expect(byId[orders].diff.nodes.changed).toEqual([
      expect.objectContaining({ id: 'picked', changes: [expect.objectContaining({ path: 'config.sql' })] }),
    ]);
    expect(byId[orders].sql).toEqual([
      {
        nodeId: 'picked',
        from: 'select id, name from {{ inputs.customers }} where id > 0',
        to: 'select id, name from {{ inputs.customers }} where id > 1',
      },
    ]);
    expect(byId[summary]).toMatchObject({ status: 'added', baseVersion: null, conflict: false });
    expect(byId[summary].diff.nodes.added.map((n: Body) => n.id)).toEqual(['one', 'sizes', 'out']);
    expect(diff.body.tables).toEqual([
      { schema, table: 'report', branchSchema, branchRows: 2, mainRows: 3 },
      { schema, table: 'report_sizes', branchSchema, branchRows: 1, mainRows: null },
    ]);
  });

  it('a token limited to another project can do nothing with the branches', async () => {
    const token = await api.token(['read', 'write', 'run'], [other]);
    const calls: [string, string, unknown?][] = [
      ['GET', `/api/projects/${project}/branches`],
      ['POST', `/api/projects/${project}/branches`, { name: 'sneaky' }],
      ['GET', `/api/projects/${project}/branches/dev/diff`],
      ['POST', `/api/projects/${project}/branches/dev/merge`, {}],
      ['DELETE', `/api/projects/${project}/branches/dev`],
      ['GET', `/api/pipelines/${orders}?branch=dev`],
      ['GET', `/api/pipelines/${summary}?branch=dev`],
      ['PUT', `/api/pipelines/${orders}?branch=dev`, ordersPipeline(5)],
      ['POST', `/api/pipelines/${orders}/runs?branch=dev`, {}],
      ['POST', `/api/pipelines/${summary}/runs?branch=dev`, {}],
    ];
    for (const [method, path, body] of calls) {
      const reply = await api.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
      expect(reply.status, `${method} ${path}`).toBe(403);
      expect(reply.body.detail).toContain(`project "${project}"`);
    }
    const listed = await api.call('GET', `/api/pipelines?branch=dev&project=${project}`, { token });
    expect(listed.status).toBe(403);
    expect((await api.call('GET', `/api/projects/${project}/branches`)).body.items).toHaveLength(1);
    expect(await count(`${branchSchema}.report`)).toBe(2);
  });

  it('merges: each changed pipeline a new main version, audited as a merge, rebuilt on main', async () => {
    const merged = await api.call('POST', `/api/projects/${project}/branches/dev/merge`, {
      body: { rebuild: true },
    });
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    expect(merged.body.merged).toEqual(
      expect.arrayContaining([
        { pipelineId: orders, version: 2, created: false },
        { pipelineId: summary, version: 1, created: true },
      ]),
    );
    const main = await api.call('GET', `/api/pipelines/${orders}`);
    expect(main.body.document.nodes[1].config.sql).toContain('id > 1');
    const audit = await api.call('GET', `/api/audit?project=${project}&action=pipeline.merged`);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        target: `pipeline:${orders}`,
        summary: expect.objectContaining({ branch: 'dev', version: 2 }),
      }),
    ]);
    expect(merged.body.runs).toHaveLength(2);
    for (const r of merged.body.runs) {
      expect(r.error).toBeNull();
      await finished(r.runId);
      expect((await api.call('GET', `/api/runs/${r.runId}`)).body).toMatchObject({
        status: 'succeeded',
        branch: null,
      });
    }
    // Rebuilt on main: main's report now has the merged SQL's rows.
    expect(await count(`${schema}.report`)).toBe(2);
    // The branch is main's new version again, with nothing left to merge.
    const after = await api.call('GET', `/api/projects/${project}/branches/dev/diff`);
    expect(after.body.pipelines).toEqual([]);
  });

  it('refuses a merge over a pipeline changed on main since the branch, listing the conflicts', async () => {
    expect(
      (await api.call('POST', `/api/projects/${project}/branches`, { body: { name: 'feature' } })).status,
    ).toBe(201);
    expect(
      (await api.call('PUT', `/api/pipelines/${orders}?branch=feature`, { body: ordersPipeline(2) })).status,
    ).toBe(200);
    expect((await api.call('PUT', `/api/pipelines/${orders}`, { body: ordersPipeline(0) })).status).toBe(200);
    const refused = await api.call('POST', `/api/projects/${project}/branches/feature/merge`, { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        path: `pipelines.${orders}`,
        code: 'merge_conflict',
        message: expect.stringContaining('started from version 2, main is at 3'),
      }),
    ]);
    const main = await api.call('GET', `/api/pipelines/${orders}`);
    expect(main.body.version).toBe(3);
    expect(main.body.document.nodes[1].config.sql).toContain('id > 0');
    expect((await api.call('DELETE', `/api/projects/${project}/branches/feature`)).status).toBe(204);
  });

  it('refuses to send rows out of the warehouse from a branch (sink.webhook)', async () => {
    expect(
      (await api.call('POST', `/api/projects/${project}/branches`, { body: { name: 'hooks' } })).status,
    ).toBe(201);
    const hook = uniq('hook');
    const made = await api.call('POST', '/api/pipelines?branch=hooks', {
      body: {
        apiVersion: 'tributary/v1',
        id: hook,
        name: 'Hook',
        project,
        nodes: [
          {
            id: 'one',
            type: 'source.generate',
            config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
          },
          { id: 'send', type: 'sink.webhook', config: { url: 'http://127.0.0.1:9/hook' } },
        ],
        edges: [{ from: 'one', to: 'send' }],
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const refused = await run(hook, 'hooks');
    expect(refused.status).toBe('failed');
    expect(refused.steps.send.error).toContain('in branch "hooks", sink.webhook would send rows to a URL');
    expect(refused.steps.send.attempt).toBe(1);
    expect((await api.call('DELETE', `/api/projects/${project}/branches/hooks`)).status).toBe(204);
  });

  it('deleting a branch drops its schemas and its state, and leaves main', async () => {
    const deleted = await api.call('DELETE', `/api/projects/${project}/branches/dev`);
    expect(deleted.status).toBe(204);
    const left = await api.h.platform.warehousePool.query(
      `select nspname from pg_namespace where nspname like $1`,
      [`${schema}\\_\\_%`],
    );
    expect(left.rows).toEqual([]);
    const states = await api.h.platform.platformPool.query(
      `select branch from tributary.node_state where pipeline_id = $1`,
      [incremental],
    );
    expect(states.rows).toEqual([{ branch: '' }]);
    expect(await count(`${schema}.report`)).toBe(2);
    expect((await api.call('GET', `/api/pipelines/${orders}?branch=dev`)).status).toBe(404);
    expect((await api.call('GET', `/api/projects/${project}/branches`)).body.items).toEqual([]);
  });
});
