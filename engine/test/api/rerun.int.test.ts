// Re-runs on the real stack: a CSV → SQL → Postgres sink pipeline whose SQL fails is fixed in the
// draft and re-run from its failed step; the source is reused from the failed run's kept staging
// (its file is gone by then, so running it again would fail), and the sink gets the rows. Also: a
// re-run from a node, a re-run whose sink reads a reused table (which must survive it), the lease
// that keeps the sweeper off staging a live re-run reads, 409 naming the steps whose kept output
// is gone, and the project fence.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stagingSchemaFor } from '../../src/model/run-ids.js';
import { parseKept, sweepExpiredStaging } from '../../src/warehouse/kept-staging.js';
import { isRunOpen } from '../../src/worker/run-activities.js';
import { startApi, uniq, type ApiHarness, type Body } from './api-harness.js';

let api: ApiHarness;
const project = uniq('rerun');
const other = uniq('rerun-other');
const pipelineId = uniq('rerun-p');
const csvPath = () => path.join(api.h.dataDir, project, 'orders.csv');

beforeAll(async () => {
  api = await startApi();
  for (const id of [project, other])
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
  mkdirSync(path.dirname(csvPath()), { recursive: true });
});
afterAll(async () => {
  await api?.h.platform.warehousePool.query(`drop schema if exists ${projectSchemaName(project)} cascade`);
  await api?.stop();
});

const pipeline = (sql: string) => ({
  apiVersion: 'tributary/v1',
  id: pipelineId,
  name: 'Orders doubled',
  project,
  nodes: [
    { id: 'src', type: 'source.csv', config: { path: 'orders.csv' } },
    { id: 'calc', type: 'transform.sql', config: { sql } },
    { id: 'out', type: 'sink.postgres', config: { table: 'doubled', mode: 'replace' } },
  ],
  edges: [
    { from: 'src', to: 'calc' },
    { from: 'calc', to: 'out' },
  ],
});
const BROKEN_SQL = 'select id, amount * 2 as doubled from {{ inputs.src }} where no_such_column > 0';
// The fix also waits two seconds, so the re-run is still running when the sweeper is asked to drop.
const FIXED_SQL =
  'select id, amount * 2 as doubled from {{ inputs.src }} where (select pg_sleep(2)::text) is not null';

const finished = async (runId: string): Promise<Body> => {
  await api.h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});
  return (await api.call('GET', `/api/runs/${runId}`)).body;
};
const sinkRows = async () =>
  (
    await api.h.platform.warehousePool.query(
      `select * from ${projectSchemaName(project)}.doubled order by id`,
    )
  ).rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)])));
const tableExists = async (schema: string, table: string) =>
  (await api.h.platform.warehousePool.query('select to_regclass($1) as t', [`${schema}.${table}`])).rows[0]
    .t !== null;
const rerun = (runId: string, body: Record<string, unknown>, token?: string) =>
  api.call('POST', `/api/runs/${runId}/rerun`, { body, ...(token ? { token } : {}) });

let failedRun: string;
let failedStaging: string;
let fixedRun: string;

describe('re-run', () => {
  it('keeps the staging of a failed run', async () => {
    writeFileSync(csvPath(), 'id,amount\n1,10\n2,20\n3,30\n');
    expect((await api.call('POST', '/api/pipelines', { body: pipeline(BROKEN_SQL) })).status).toBe(201);
    const started = await api.call('POST', `/api/pipelines/${pipelineId}/runs`, { body: {} });
    failedRun = started.body.runId;
    const run = await finished(failedRun);
    expect(run.status).toBe('failed');
    expect(run.steps).toMatchObject({
      src: { status: 'succeeded', rowsOut: 3 },
      calc: { status: 'failed' },
      out: { status: 'skipped' },
    });
    failedStaging = stagingSchemaFor(failedRun, pipelineId);
    expect(await tableExists(failedStaging, 'src')).toBe(true);
    const comment = await api.h.platform.warehousePool.query(
      "select obj_description(oid, 'pg_namespace') as c from pg_namespace where nspname = $1",
      [failedStaging],
    );
    expect(parseKept(comment.rows[0].c)!.until.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });

  it('re-runs from the failed step with the fixed draft, reusing the source it does not run again', async () => {
    // The file is gone: a source that ran again would fail.
    rmSync(csvPath());
    expect(
      (await api.call('PUT', `/api/pipelines/${pipelineId}/draft`, { body: pipeline(FIXED_SQL) })).status,
    ).toBe(200);
    const started = await rerun(failedRun, { from: 'failed', draft: true });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      rerunOf: failedRun,
      draft: true,
      pipelineVersion: 1,
      reused: { src: failedRun },
      status: 'running',
    });
    fixedRun = started.body.runId;

    // While the re-run reads the failed run's table, even a sweep far past its expiry keeps it.
    const far = new Date(Date.now() + 100 * 3600_000);
    const open = (runId: string) => isRunOpen(api.h.platform.temporal, runId);
    expect(await sweepExpiredStaging(api.h.platform.warehousePool, far, open)).not.toContain(failedStaging);
    expect(await tableExists(failedStaging, 'src')).toBe(true);

    const run = await finished(fixedRun);
    expect(run).toMatchObject({ status: 'succeeded', draft: true, rerunOf: failedRun });
    expect(run.steps.src).toMatchObject({ status: 'reused', reusedFrom: failedRun, rowsOut: 3 });
    expect(run.steps.calc).toMatchObject({ status: 'succeeded', rowsOut: 3 });
    expect(run.steps.out).toMatchObject({ status: 'succeeded', rowsOut: 3 });
    expect(await sinkRows()).toEqual([
      { id: 1, doubled: 20 },
      { id: 2, doubled: 40 },
      { id: 3, doubled: 60 },
    ]);

    const listed = await api.call('GET', `/api/runs?pipeline=${pipelineId}`);
    expect(listed.body.items.find((r: Body) => r.runId === fixedRun)).toMatchObject({
      rerunOf: failedRun,
      draft: true,
    });
    const trail = (await api.call('GET', `/api/runs/${fixedRun}/audit`)).body;
    expect(trail).toMatchObject({ rerunOf: failedRun, draft: true });
    const requested = trail.events.find((e: Body) => e.type === 'run.requested');
    expect(requested.details).toMatchObject({
      rerunOf: failedRun,
      rerunFrom: 'failed',
      reused: { src: failedRun },
    });
    expect(requested.message).toContain(`re-running ${failedRun} from its failed steps`);
    const reusedEvents = trail.events.filter((e: Body) => e.type === 'step.reused');
    expect(reusedEvents).toEqual([
      expect.objectContaining({
        nodeId: 'src',
        nodeType: 'source.csv',
        details: expect.objectContaining({ reusedFrom: failedRun }),
      }),
    ]);
    // The reused step's preview is the failed run's table it stands for.
    const preview = await api.call('GET', `/api/runs/${fixedRun}/steps/src/preview`);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ runId: failedRun, schema: failedStaging, table: 'src' });
    expect(preview.body.rows).toHaveLength(3);
    // The source had no activity in the re-run: it did not run.
    expect(trail.events.filter((e: Body) => e.nodeId === 'src' && e.type !== 'step.reused')).toEqual([]);
  });

  it('re-runs from a node, taking the reused step from the run that made it', async () => {
    // The fixed run succeeded, so its own staging is dropped; its source came from the failed run.
    const started = await rerun(fixedRun, { from: 'calc', draft: true });
    expect(started.status).toBe(202);
    expect(started.body.reused).toEqual({ src: failedRun });
    const run = await finished(started.body.runId);
    expect(run.status).toBe('succeeded');
    expect(run.steps.src).toMatchObject({ status: 'reused', reusedFrom: failedRun });
    expect(run.steps.calc.status).toBe('succeeded');
  });

  it('answers 409 naming the steps whose kept output is gone', async () => {
    // From "out": "calc" would be reused, but the succeeded run's staging was dropped.
    const refused = await rerun(fixedRun, { from: 'out', draft: true });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.detail).toContain('step "calc"');
    expect(refused.body.errors).toEqual([expect.objectContaining({ nodeId: 'calc', code: 'output_gone' })]);

    const unknown = await rerun(failedRun, { from: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ path: 'from', nodeId: 'nope' })]);
    const nothingFailed = await rerun(fixedRun, { from: 'failed' });
    expect(nothingFailed.status).toBe(409);
    expect(nothingFailed.body.detail).toContain('no failed step');
  });

  it('never lets a sink consume a reused table: it stays for the next re-run', async () => {
    const direct = {
      ...pipeline(FIXED_SQL),
      nodes: pipeline(FIXED_SQL).nodes.filter((n) => n.id !== 'calc'),
      edges: [{ from: 'src', to: 'out' }],
    };
    expect((await api.call('PUT', `/api/pipelines/${pipelineId}/draft`, { body: direct })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const started = await rerun(failedRun, { from: 'out', draft: true });
      expect(started.status).toBe(202);
      const run = await finished(started.body.runId);
      expect(run.status).toBe('succeeded');
      expect(run.steps.src.status).toBe('reused');
      expect(await sinkRows()).toEqual([
        { id: 1, amount: 10 },
        { id: 2, amount: 20 },
        { id: 3, amount: 30 },
      ]);
      expect(await tableExists(failedStaging, 'src')).toBe(true);
    }
  });

  it('refuses a token of another project, and re-runs nothing', async () => {
    const token = await api.token(['read', 'write', 'run'], [other]);
    const before = (await api.call('GET', `/api/runs?pipeline=${pipelineId}`)).body.items.length;
    const refused = await rerun(failedRun, { from: 'failed', draft: true }, token);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain(`for project "${project}"`);
    expect((await api.call('GET', `/api/runs?pipeline=${pipelineId}`)).body.items.length).toBe(before);
  });

  it('answers 409 naming the source once the failed run’s staging has expired', async () => {
    const far = new Date(Date.now() + 100 * 3600_000);
    const open = (runId: string) => isRunOpen(api.h.platform.temporal, runId);
    expect(await sweepExpiredStaging(api.h.platform.warehousePool, far, open)).toContain(failedStaging);
    expect(
      (await api.call('PUT', `/api/pipelines/${pipelineId}/draft`, { body: pipeline(FIXED_SQL) })).status,
    ).toBe(200);
    const refused = await rerun(failedRun, { from: 'failed', draft: true });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('step "src"');
    expect(refused.body.detail).toContain('STAGING_TTL_HOURS');
    expect(refused.body.errors).toEqual([expect.objectContaining({ nodeId: 'src' })]);
  });

  it('reads a file again when it was written after the failed run, rather than reuse the old output', async () => {
    const id = uniq('rerun-file');
    const file = path.join(api.h.dataDir, project, `${id}.csv`);
    writeFileSync(file, 'id,amount\n1,10\n2,oops\n');
    const doc = {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      project,
      nodes: [
        { id: 'src', type: 'source.csv', config: { path: `${id}.csv` } },
        {
          id: 'calc',
          type: 'transform.sql',
          config: { sql: 'select id, amount::int * 2 as doubled from {{ inputs.src }}' },
        },
      ],
      edges: [{ from: 'src', to: 'calc' }],
    };
    expect((await api.call('POST', '/api/pipelines', { body: doc })).status).toBe(201);
    const first = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    const failed = await finished(first.body.runId);
    expect(failed.status).toBe('failed');
    expect(failed.steps.src.status).toBe('succeeded');
    expect(failed.steps.calc.status).toBe('failed');

    // The file is fixed: the re-run reads it again (not "reused"), and the step that failed succeeds.
    writeFileSync(file, 'id,amount\n1,10\n2,20\n');
    const again = await rerun(first.body.runId, { from: 'failed' });
    expect(again.status).toBe(202);
    expect(again.body.reused).toEqual({});
    const fixed = await finished(again.body.runId);
    expect(fixed.status).toBe('succeeded');
    expect(fixed.steps.src.status).toBe('succeeded');
    expect(fixed.steps.src.rowsOut).toBe(2);
  });
});
