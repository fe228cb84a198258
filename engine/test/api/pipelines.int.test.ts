// Pipelines over HTTP: immutable versions, drafts that do not compile, If-Match, history, diff,
// rollback, soft delete, listing, validation without saving, and the body rules (shape errors
// with field paths and node ids, 1 MB limit, JSON only).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, startApi, uniq, type ApiHarness, type Body } from './api-harness.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.stop());

const create = async (id = uniq('pl'), overrides: Record<string, unknown> = {}) => {
  const reply = await api.call('POST', '/api/pipelines', { body: generatePipeline(id, overrides) });
  expect(reply.status).toBe(201);
  return reply;
};

const withRows = (id: string, rows: number) => {
  const doc = generatePipeline(id);
  doc.nodes[0]!.config.rows = rows;
  return doc;
};

describe('creating and reading', () => {
  it('creates version 1 (201, Location, ETag) with the document, its hash and validity', async () => {
    const id = uniq('pl');
    const reply = await create(id);
    expect(reply.headers.get('location')).toBe(`/api/pipelines/${id}`);
    expect(reply.headers.get('etag')).toMatch(/^"1-[\w-]+"$/);
    expect(reply.body).toMatchObject({
      id,
      project: 'default',
      version: 1,
      created: true,
      valid: true,
      errors: [],
      versionHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      createdBy: expect.stringMatching(/^token:/),
    });
    // Stored with defaults applied, as the compiler sees it.
    expect(reply.body.document).toMatchObject({
      id,
      edges: [],
      params: {},
      settings: { concurrency: 'allow' },
    });
    const read = await api.call('GET', `/api/pipelines/${id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toMatch(/^"1-[\w-]+"$/);
    const { created: _c, ...withoutCreated } = reply.body;
    // A read also says whether the editor has a draft (a new pipeline has none), and what the
    // editor's actions do where it was read (main: a draft, published later).
    expect(read.body).toEqual({
      ...withoutCreated,
      draft: null,
      workspace: expect.objectContaining({ branch: null, save: 'draft', publish: true, merge: false }),
    });
  });

  it('saves a draft that does not compile, and says why it is not valid', async () => {
    const id = uniq('pl');
    const reply = await api.call('POST', '/api/pipelines', {
      body: generatePipeline(id, {
        nodes: [
          { id: 'g', type: 'source.generate', config: { rows: -1, columns: [] } },
          { id: 'x', type: 'source.nope' },
        ],
      }),
    });
    expect(reply.status).toBe(201);
    expect(reply.body.valid).toBe(false);
    expect(reply.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'invalid_config', nodeId: 'g', path: 'nodes[0].config.rows' }),
        expect.objectContaining({ code: 'unknown_node_type', nodeId: 'x', path: 'nodes[1].type' }),
      ]),
    );
  });

  it('refuses an existing id with 409, and a deleted id too', async () => {
    const id = uniq('pl');
    await create(id);
    const again = await api.call('POST', '/api/pipelines', { body: generatePipeline(id) });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('already exists');
    expect((await api.call('DELETE', `/api/pipelines/${id}`)).status).toBe(204);
    const reused = await api.call('POST', '/api/pipelines', { body: generatePipeline(id) });
    expect(reused.status).toBe(409);
    expect(reused.body.detail).toContain('was deleted');
  });

  it('refuses a pipeline in a project that does not exist, naming the field', async () => {
    const reply = await api.call('POST', '/api/pipelines', {
      body: generatePipeline(uniq('pl'), { project: 'no-such-project' }),
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([expect.objectContaining({ in: 'body', path: 'project' })]);
  });

  it.each([
    [{ nodes: [{ id: 'Bad Id', type: 'source.generate' }] }, 'nodes[0].id', undefined],
    [{ nodes: [{ id: 'g', type: 'source.generate', colour: 'red' }] }, 'nodes[0]', 'g'],
    [{ nodes: [{ id: 'g', type: 'nodots' }] }, 'nodes[0].type', 'g'],
    [{ apiVersion: 'v0' }, 'apiVersion', undefined],
    [{ settings: { concurrency: 'sometimes' } }, 'settings.concurrency', undefined],
    [{ name: '' }, 'name', undefined],
  ])('refuses a malformed document %j with 400 naming %s (node %s)', async (overrides, path, nodeId) => {
    const reply = await api.call('POST', '/api/pipelines', { body: generatePipeline(uniq('pl'), overrides) });
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
    expect(reply.body.errors).toContainEqual(
      expect.objectContaining({ in: 'body', path, ...(nodeId ? { nodeId } : {}) }),
    );
  });

  it('refuses a body over 1 MB with 413, invalid JSON with 400 and non-JSON with 415', async () => {
    const big = generatePipeline(uniq('pl'), { description: 'x'.repeat(1_100_000) });
    expect((await api.call('POST', '/api/pipelines', { body: big })).status).toBe(413);
    const broken = await api.call('POST', '/api/pipelines', {
      raw: '{"apiVersion": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toContain('not valid JSON');
    const text = await api.call('POST', '/api/pipelines', {
      raw: 'id=x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
  });

  it.each([
    ['GET', '/api/pipelines/no-such-pipeline'],
    ['PUT', '/api/pipelines/no-such-pipeline'],
    ['DELETE', '/api/pipelines/no-such-pipeline'],
    ['GET', '/api/pipelines/no-such-pipeline/versions'],
    ['GET', '/api/pipelines/no-such-pipeline/diff'],
  ])('%s %s is 404', async (method, path) => {
    const reply = await api.call(method, path, { body: generatePipeline('no-such-pipeline') });
    expect(reply.status).toBe(404);
    expect(reply.body.detail).toBe('Pipeline "no-such-pipeline" does not exist');
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const reply = await api.call('PATCH', '/api/pipelines/x', { body: {} });
    expect(reply.status).toBe(405);
    expect(reply.headers.get('allow')).toBe('GET, PUT, DELETE');
  });
});

describe('versions', () => {
  it('adds an immutable version per save and keeps every earlier one', async () => {
    const id = uniq('pl');
    await create(id);
    const v2 = await api.call('PUT', `/api/pipelines/${id}`, { body: withRows(id, 5) });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ version: 2, created: true });
    expect(v2.headers.get('etag')).toMatch(/^"2-[\w-]+"$/);
    const versions = await api.call('GET', `/api/pipelines/${id}/versions`);
    expect(versions.body.current).toBe(2);
    expect(versions.body.items.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    const v1 = await api.call('GET', `/api/pipelines/${id}/versions/1`);
    expect(v1.body.document.nodes[0].config.rows).toBe(3);
    expect(v1.body).toMatchObject({ version: 1, valid: true });
    expect((await api.call('GET', `/api/pipelines/${id}/versions/9`)).status).toBe(404);
    // The database refuses to rewrite a version, whoever asks.
    await expect(
      api.h.platform.platformPool.query(
        `update tributary.pipeline_versions set document = '{}' where pipeline_id = $1`,
        [id],
      ),
    ).rejects.toThrow(/immutable/);
  });

  it('does not add a version when the document equals the current one', async () => {
    const id = uniq('pl');
    await create(id);
    const same = await api.call('PUT', `/api/pipelines/${id}`, { body: generatePipeline(id) });
    expect(same.body).toMatchObject({ version: 1, created: false });
  });

  it('refuses a save over a newer version with If-Match (409), and accepts the right one', async () => {
    const id = uniq('pl');
    await create(id);
    expect(
      (
        await api.call('PUT', `/api/pipelines/${id}`, {
          body: withRows(id, 4),
          headers: { 'if-match': '"1"' },
        })
      ).status,
    ).toBe(200);
    const lost = await api.call('PUT', `/api/pipelines/${id}`, {
      body: withRows(id, 7),
      headers: { 'if-match': '"1"' },
    });
    expect(lost.status).toBe(409);
    expect(lost.body.detail).toContain('is at version 2, not 1');
    const bad = await api.call('PUT', `/api/pipelines/${id}`, {
      body: withRows(id, 7),
      headers: { 'if-match': 'yesterday' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ in: 'header', path: 'if-match' });
  });

  it('refuses a PUT whose id or project differs from the stored pipeline, naming the fields', async () => {
    const id = uniq('pl');
    await create(id);
    const project = uniq('other');
    await api.call('POST', '/api/projects', { body: { id: project, name: 'Other' } });
    const reply = await api.call('PUT', `/api/pipelines/${id}`, {
      body: generatePipeline('something-else', { project }),
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors.map((e: { path: string }) => e.path)).toEqual(['id', 'project']);
  });

  it('diffs two versions down to the changed config field and node', async () => {
    const id = uniq('pl');
    await create(id);
    const doc = withRows(id, 10);
    doc.nodes.push({
      id: 'h',
      type: 'source.generate',
      config: { rows: 1, columns: [{ name: 'm', generator: 'sequence' }] },
    });
    await api.call('PUT', `/api/pipelines/${id}`, { body: doc });
    const diff = await api.call('GET', `/api/pipelines/${id}/diff`);
    expect(diff.body).toMatchObject({
      from: 1,
      to: 2,
      nodes: {
        added: [{ id: 'h', type: 'source.generate' }],
        removed: [],
        changed: [{ id: 'g', changes: [{ path: 'config.rows', kind: 'changed', from: 3, to: 10 }] }],
      },
    });
    const backwards = await api.call('GET', `/api/pipelines/${id}/diff?from=2&to=1`);
    expect(backwards.body.nodes.removed).toEqual([{ id: 'h', type: 'source.generate' }]);
    expect((await api.call('GET', `/api/pipelines/${id}/diff?from=0`)).status).toBe(400);
    expect((await api.call('GET', `/api/pipelines/${id}/diff?from=7`)).status).toBe(404);
  });

  it('rolls back by saving an old version as a new one', async () => {
    const id = uniq('pl');
    await create(id);
    await api.call('PUT', `/api/pipelines/${id}`, { body: withRows(id, 8) });
    const rolled = await api.call('POST', `/api/pipelines/${id}/rollback`, { body: { version: 1 } });
    expect(rolled.status).toBe(201);
    expect(rolled.body).toMatchObject({ version: 3, created: true });
    expect(rolled.body.document.nodes[0].config.rows).toBe(3);
    const v1 = await api.call('GET', `/api/pipelines/${id}/versions/1`);
    expect(rolled.body.versionHash).toBe(v1.body.versionHash);
    expect((await api.call('POST', `/api/pipelines/${id}/rollback`, { body: { version: 1 } })).status).toBe(
      200,
    );
    expect((await api.call('POST', `/api/pipelines/${id}/rollback`, { body: { version: 99 } })).status).toBe(
      404,
    );
    expect(
      (await api.call('POST', `/api/pipelines/${id}/rollback`, { body: { version: 'one' } })).status,
    ).toBe(400);
  });

  it('soft-deletes: gone from reads and lists, versions kept in the database', async () => {
    const id = uniq('pl');
    await create(id);
    expect((await api.call('DELETE', `/api/pipelines/${id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/pipelines/${id}`)).status).toBe(404);
    const list = await api.call('GET', `/api/pipelines?q=${id}`);
    expect(list.body.items).toEqual([]);
    const kept = await api.h.platform.platformPool.query(
      'select count(*)::int as n from tributary.pipeline_versions where pipeline_id = $1',
      [id],
    );
    expect(kept.rows[0].n).toBe(1);
  });
});

describe('listing', () => {
  it('filters by project and text, and pages with a cursor', async () => {
    const project = uniq('list');
    await api.call('POST', '/api/projects', { body: { id: project, name: 'Listing' } });
    const ids = ['a', 'b', 'c'].map((x) => `${project}-${x}`);
    for (const id of ids) await create(id, { project, name: `Report ${id}` });
    const first = await api.call('GET', `/api/pipelines?project=${project}&limit=2`);
    expect(first.body.items.map((p: { id: string }) => p.id)).toEqual(ids.slice(0, 2));
    expect(first.body.nextCursor).toBe(ids[1]);
    const second = await api.call(
      'GET',
      `/api/pipelines?project=${project}&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((p: { id: string }) => p.id)).toEqual([ids[2]]);
    expect(second.body.nextCursor).toBeNull();
    const found = await api.call('GET', `/api/pipelines?q=${encodeURIComponent(`report ${project}-b`)}`);
    expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([ids[1]]);
    // % and _ are literal in the search text.
    expect((await api.call('GET', `/api/pipelines?project=${project}&q=%25`)).body.items).toEqual([]);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=500', 'limit'],
    ['project=Not%20A%20Slug', 'project'],
  ])('refuses ?%s with 400 naming query %s', async (query, field) => {
    const reply = await api.call('GET', `/api/pipelines?${query}`);
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({ in: 'query', path: field });
  });
});

describe('validate without saving', () => {
  it('answers valid for a compiling document, even with required params missing', async () => {
    const doc = generatePipeline(uniq('v'), { params: { day: { type: 'date', required: true } } });
    const reply = await api.call('POST', '/api/pipelines/validate', { body: doc });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ valid: true, errors: [] });
    expect((await api.call('GET', `/api/pipelines/${doc.id}`)).status).toBe(404);
  });

  it('lists every compile error with its node, edge or path', async () => {
    const reply = await api.call('POST', '/api/pipelines/validate', {
      body: generatePipeline('v', {
        nodes: [{ id: 'g', type: 'source.generate', config: { rows: 1 } }],
        edges: [{ from: 'g', to: 'ghost' }],
      }),
    });
    expect(reply.body.valid).toBe(false);
    expect(reply.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'invalid_config', nodeId: 'g', path: 'nodes[0].config.columns' }),
        expect.objectContaining({ code: 'edge_unknown_node', edgeId: 'g->ghost', path: 'edges[0].to' }),
      ]),
    );
  });

  it('reports a malformed document as errors, not as a failed request', async () => {
    const reply = await api.call('POST', '/api/pipelines/validate', { body: { nodes: 'none' } });
    expect(reply.status).toBe(200);
    expect(reply.body.valid).toBe(false);
    expect(reply.body.errors).toContainEqual(
      expect.objectContaining({ code: 'invalid_document', path: 'nodes' }),
    );
  });

  it('refuses a body that is not a JSON object with 400', async () => {
    const reply = await api.call('POST', '/api/pipelines/validate', { body: [1, 2] });
    expect(reply.status).toBe(400);
  });

  it('locates a SQL syntax error by node, field, line and column', async () => {
    const doc = generatePipeline(uniq('v'), {
      nodes: [
        {
          id: 'g',
          type: 'source.generate',
          config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
        },
        { id: 'q', type: 'transform.sql', config: { sql: 'selec 1' } },
        {
          id: 'check',
          type: 'transform.assert',
          config: { assertions: [{ name: 'ok', sql: 'select *\nfrom {{ inputs.q }} wher n < 0' }] },
        },
      ],
      edges: [
        { from: 'g', to: 'q' },
        { from: 'q', to: 'check' },
      ],
    });
    const reply = await api.call('POST', '/api/pipelines/validate', { body: doc });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      valid: false,
      errors: [
        {
          code: 'invalid_sql',
          nodeId: 'q',
          path: 'nodes[1].config.sql',
          line: 1,
          column: 1,
          message: 'Node "q", line 1, column 1: Syntax error at or near "selec"',
        },
        {
          code: 'invalid_sql',
          nodeId: 'check',
          path: 'nodes[2].config.assertions[0].sql',
          line: 2,
          column: 26,
          message: 'Node "check", line 2, column 26: Syntax error at or near "n"',
        },
      ],
    });
  });

  it('says in plain words that a SQL step needs its SQL', async () => {
    const doc = generatePipeline(uniq('v'), {
      nodes: [
        {
          id: 'g',
          type: 'source.generate',
          config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
        },
        { id: 'q', type: 'transform.sql', config: { sql: ' ' } },
      ],
      edges: [{ from: 'g', to: 'q' }],
    });
    const reply = await api.call('POST', '/api/pipelines/validate', { body: doc });
    expect(reply.body.errors).toEqual([
      expect.objectContaining({
        code: 'invalid_config',
        nodeId: 'q',
        path: 'nodes[1].config.sql',
        message: 'Node "q", field "sql": SQL is required',
      }),
    ]);
  });

  it("names the node and field of a secret the pipeline's project lacks", async () => {
    const project = uniq('vs');
    expect((await api.call('POST', '/api/projects', { body: { id: project, name: project } })).status).toBe(
      201,
    );
    const doc = generatePipeline(uniq('v'), {
      project,
      nodes: [{ id: 'src', type: 'source.postgres', config: { connection: 'crm_db', table: 'public.t' } }],
    });
    const missing = await api.call('POST', '/api/pipelines/validate', { body: doc });
    expect(missing.body.valid).toBe(false);
    expect(missing.body.errors).toEqual([
      expect.objectContaining({ code: 'unknown_secret', nodeId: 'src', path: 'nodes[0].config.connection' }),
    ]);
    expect(missing.body.errors[0].message).toContain('"crm_db"');
    const put = await api.call('PUT', `/api/projects/${project}/secrets/crm_db`, {
      body: { value: 'postgres://u:p@localhost/db' },
    });
    expect(put.status).toBe(200);
    const found = await api.call('POST', '/api/pipelines/validate', { body: doc });
    expect(found.body).toEqual({ valid: true, errors: [] });
  });
});

describe('connectors', () => {
  it('lists node types with their config as JSON Schema', async () => {
    const reply = await api.call('GET', '/api/connectors');
    const generate = reply.body.items.find((c: { type: string }) => c.type === 'source.generate');
    expect(generate).toMatchObject({
      kind: 'source',
      title: expect.any(String),
      description: expect.any(String),
      icon: expect.any(String),
      inputs: { min: 0, max: 0 },
      config: { type: 'object', properties: { rows: expect.objectContaining({ type: 'integer' }) } },
    });
    expect(generate.config.required).toEqual(expect.arrayContaining(['rows', 'columns']));
    expect(generate.secrets).toEqual([]);
  });

  it('says which config fields name a secret, and how each field is edited', async () => {
    const items: { type: string; kind: string; secrets: string[]; config: Body }[] = (
      await api.call('GET', '/api/connectors')
    ).body.items;
    const byType = new Map(items.map((c) => [c.type, c]));
    expect(byType.get('source.postgres')).toMatchObject({ kind: 'source', secrets: ['connection'] });
    expect(byType.get('source.http')!.secrets).toEqual(['auth.secret']);
    expect(byType.get('sink.webhook')!.secrets).toEqual(['signingSecret']);
    expect(byType.get('transform.sql')!.config.properties.sql['x-widget']).toBe('sql');
    expect(byType.get('source.csv')!.config.properties.path['x-widget']).toBe('path');
  });

  it('starts a new Postgres sink in replace mode, while a stored sink that names no mode still appends', async () => {
    const items: { type: string; config: Body }[] = (await api.call('GET', '/api/connectors')).body.items;
    const mode = items.find((c) => c.type === 'sink.postgres')!.config.properties.mode;
    expect(mode['x-initial']).toBe('replace');
    expect(mode.default).toBe('append');
    expect(mode['x-option-notes'].append).toMatch(/re-running the pipeline doubles the table/);
  });
});
