// A connector is one folder and one registry line: a fixture sink declared as every connector is
// (engine/test/fixtures/connectors/archive/) and added to the registry the app and the worker are
// built from appears in the palette with its declared facts, gets its form from its config schema
// (and the validator's errors name its fields), runs, offers its declared data view (the table it
// publishes into), and is found in lineage: without a line of the platform knowing its type.
import { projectSchemaName, registry } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogOf } from '../../src/pipelines/node-catalog.js';
import { startApi, uniq, type ApiHarness, type Body } from '../api/api-harness.js';
import { archiveSink } from '../fixtures/connectors/archive/archive.sink.js';
import { startHarness, type Harness } from '../harness.js';

// The registry line: the registry the platform is built from, with the fixture added.
const withFixture = [...registry, archiveSink];

let h: Harness;
let api: ApiHarness;
let plain: ApiHarness;
const project = uniq('fixture');
const schema = projectSchemaName(project);
const pipelineId = uniq('fixture-p');

const document = (config: Record<string, unknown>) => ({
  apiVersion: 'tributary/v1',
  id: pipelineId,
  name: 'Rows into the archive',
  project,
  nodes: [
    {
      id: 'gen',
      type: 'source.generate',
      config: {
        rows: 3,
        columns: [
          { name: 'id', generator: 'sequence' },
          { name: 'city', generator: 'choice', values: ['Oslo', 'Lund'] },
        ],
      },
    },
    { id: 'keep', type: 'sink.archive', config },
  ],
  edges: [{ from: 'gen', to: 'keep' }],
});

beforeAll(async () => {
  h = await startHarness({ connectors: [archiveSink] });
  api = await startApi({ catalog: catalogOf(withFixture) }, h);
  // The same stack without the registry line: the fixture is nowhere.
  plain = await startApi({}, h);
  expect((await api.call('POST', '/api/projects', { body: { id: project, name: project } })).status).toBe(
    201,
  );
});
afterAll(async () => {
  await api?.h.platform.warehousePool.query(`drop schema if exists ${schema} cascade`);
  await plain?.stop();
  await api?.stop();
  await h?.stop();
});

describe('a connector declared in one folder and one registry line', () => {
  it('is in the palette with its declared title, icon, category, kind and data view', async () => {
    const reply = await api.call('GET', '/api/connectors');
    expect(reply.status).toBe(200);
    const entry = reply.body.items.find((c: Body) => c.type === 'sink.archive');
    expect(entry).toMatchObject({
      type: 'sink.archive',
      kind: 'sink',
      title: 'Archive table',
      icon: 'archive',
      category: 'Fixtures',
      inputs: { min: 1, max: 1 },
      secrets: [],
      view: { rows: 'input', target: true },
    });
    // Without the registry line the palette does not know it.
    const without = await plain.call('GET', '/api/connectors');
    expect(without.body.items.map((c: Body) => c.type)).not.toContain('sink.archive');
  });

  it('gets its form from its config schema, and the validator names its fields', async () => {
    const entry = (await api.call('GET', '/api/connectors')).body.items.find(
      (c: Body) => c.type === 'sink.archive',
    );
    expect(entry.config).toMatchObject({
      type: 'object',
      required: ['table'],
      properties: {
        table: { type: 'string', minLength: 1, description: expect.stringContaining('warehouse table') },
        note: { type: 'string' },
      },
    });
    const invalid = await api.call('POST', '/api/pipelines/validate', { body: document({ note: 'x' }) });
    expect(invalid.status).toBe(200);
    expect(invalid.body.valid).toBe(false);
    expect(invalid.body.errors).toContainEqual(
      expect.objectContaining({ code: 'invalid_config', nodeId: 'keep', path: 'nodes[1].config.table' }),
    );
    const valid = await api.call('POST', '/api/pipelines/validate', { body: document({ table: 'kept' }) });
    expect(valid.body, JSON.stringify(valid.body)).toMatchObject({ valid: true });
  });

  it('runs, and its data view reads back the table it publishes into', async () => {
    const saved = await api.call('POST', '/api/pipelines', { body: document({ table: 'kept' }) });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const before = await api.call('GET', `/api/pipelines/${pipelineId}/nodes/keep/target`);
    expect(before.body).toEqual({
      nodeId: 'keep',
      table: `${schema}.kept`,
      exists: false,
      rowCount: null,
      columns: [],
      rows: [],
    });
    const started = await api.call('POST', `/api/pipelines/${pipelineId}/runs`, { body: {} });
    expect(started.status).toBe(202);
    await api.h.platform.temporal.workflow
      .getHandle(started.body.runId)
      .result()
      .catch(() => {});
    const run = await api.call('GET', `/api/runs/${started.body.runId}`);
    expect(run.body.status, JSON.stringify(run.body)).toBe('succeeded');
    const after = await api.call('GET', `/api/pipelines/${pipelineId}/nodes/keep/target`);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ table: `${schema}.kept`, exists: true, rowCount: 3 });
    expect(after.body.columns.map((c: Body) => c.name)).toEqual(['id', 'city']);
  });

  it('is found in lineage: the step writes its table, column by column', async () => {
    const reply = await api.call('GET', `/api/lineage?table=${schema}.kept`);
    expect(reply.status).toBe(200);
    expect(reply.body.nodes).toContainEqual(
      expect.objectContaining({ id: `table:${schema}.kept`, kind: 'table', columns: ['id', 'city'] }),
    );
    expect(reply.body.nodes).toContainEqual(
      expect.objectContaining({ kind: 'step', pipelineId, nodeId: 'keep', type: 'sink.archive' }),
    );
    expect(reply.body.edges).toContainEqual({ from: `step:${pipelineId}/keep`, to: `table:${schema}.kept` });
    // Its column comes from the rows source.generate made: a dataset of their own.
    expect(reply.body.columns).toContainEqual({
      table: `${schema}.kept`,
      column: 'city',
      sources: [{ table: `${pipelineId}/gen`, column: 'city', transformation: 'direct' }],
      indirect: [],
    });
    // Without the registry line the step is there, but what it writes is not known.
    const without = await plain.call('GET', `/api/lineage?table=${schema}.kept`);
    expect(without.body.edges).not.toContainEqual({
      from: `step:${pipelineId}/keep`,
      to: `table:${schema}.kept`,
    });
  });
});
