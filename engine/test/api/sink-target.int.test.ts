// A Postgres sink's target table as the editor shows it: missing before the first run, its row
// count and a sample after one (read under the project's role), the draft's target when asked,
// and another project's unshared table refused by name rather than read.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, uniq, type ApiHarness } from './api-harness.js';

let api: ApiHarness;
const project = uniq('target');
const other = uniq('target-other');
const pipelineId = uniq('target-p');

beforeAll(async () => {
  api = await startApi();
  for (const id of [project, other])
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
  const folder = path.join(api.h.dataDir, project);
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'orders.csv'), 'id,amount,placed\n1,10.50,2026-01-02\n2,20,2026-01-03\n');
  // A table of the other project, never shared.
  await api.h.platform.warehousePool.query(
    `create table ${projectSchemaName(other)}.secret_sales as select 1 as id, 'hidden' as note`,
  );
});
afterAll(async () => {
  for (const id of [project, other]) {
    await api?.h.platform.warehousePool.query(`drop schema if exists ${projectSchemaName(id)} cascade`);
  }
  await api?.stop();
});

const pipeline = (table: string) => ({
  apiVersion: 'tributary/v1',
  id: pipelineId,
  name: 'Orders into the warehouse',
  project,
  nodes: [
    { id: 'src', type: 'source.csv', config: { path: 'orders.csv' } },
    { id: 'out', type: 'sink.postgres', config: { table, mode: 'replace' } },
  ],
  edges: [{ from: 'src', to: 'out' }],
});

const target = (query = '', token?: string) =>
  api.call('GET', `/api/pipelines/${pipelineId}/nodes/out/target${query}`, token ? { token } : {});

describe('sink target', () => {
  it('says the table does not exist before the first run', async () => {
    expect((await api.call('POST', '/api/pipelines', { body: pipeline('orders') })).status).toBe(201);
    const reply = await target();
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      nodeId: 'out',
      table: `${projectSchemaName(project)}.orders`,
      exists: false,
      rowCount: null,
      columns: [],
      rows: [],
    });
  });

  it('gives the row count, columns and a sample as text after a run', async () => {
    const started = await api.call('POST', `/api/pipelines/${pipelineId}/runs`, { body: {} });
    expect(started.status).toBe(202);
    await api.h.platform.temporal.workflow.getHandle(started.body.runId).result();
    const reply = await target('?limit=1');
    expect(reply.status).toBe(200);
    expect(reply.body.exists).toBe(true);
    expect(reply.body.rowCount).toBe(2);
    expect(reply.body.columns).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'amount', type: 'numeric' },
      { name: 'placed', type: 'date' },
    ]);
    expect(reply.body.rows).toEqual([{ id: '1', amount: '10.50', placed: '2026-01-02' }]);
  });

  it("reads the draft's target with draft=true, and the published one without", async () => {
    const draft = pipeline('orders_next');
    expect((await api.call('PUT', `/api/pipelines/${pipelineId}/draft`, { body: draft })).status).toBe(200);
    expect((await target('?draft=true')).body).toMatchObject({
      table: `${projectSchemaName(project)}.orders_next`,
      exists: false,
    });
    expect((await target()).body).toMatchObject({
      table: `${projectSchemaName(project)}.orders`,
      exists: true,
    });
  });

  it("refuses another project's unshared table, naming its owner, and shows none of its rows", async () => {
    const draft = pipeline(`${projectSchemaName(other)}.secret_sales`);
    expect((await api.call('PUT', `/api/pipelines/${pipelineId}/draft`, { body: draft })).status).toBe(200);
    const reply = await target('?draft=true');
    expect(reply.status).toBe(403);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
    expect(reply.body.detail).toContain(`belongs to project ${other}`);
    expect(reply.text).not.toContain('hidden');
  });

  it('refuses a token of another project, and names a node that is not a Postgres sink', async () => {
    const token = await api.token(['read'], [other]);
    expect((await target('', token)).status).toBe(403);
    const notSink = await api.call('GET', `/api/pipelines/${pipelineId}/nodes/src/target`);
    expect(notSink.status).toBe(400);
    expect(notSink.body.detail).toBe(
      'Node "src" is a source.csv, which publishes into no warehouse table: it has no target table',
    );
    const missing = await api.call('GET', `/api/pipelines/${pipelineId}/nodes/nope/target`);
    expect(missing.status).toBe(400);
    expect(missing.body.detail).toContain('has no node "nope"');
  });
});
