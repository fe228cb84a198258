// A project's files folder over HTTP, on the real stack: an upload lands in `<dataDir>/<project>/`
// and is listed, and a file source reads it; a bad path (out of the folder, absolute, hidden, through
// a link), a file too large, another project's token and no token are refused, each naming what is wrong.
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES } from '../../src/files/project-files.js';
import { startApi, uniq, type ApiHarness } from './api-harness.js';

let api: ApiHarness;
const projectA = uniq('files-a');
const projectB = uniq('files-b');
beforeAll(async () => {
  api = await startApi();
  for (const id of [projectA, projectB])
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
});
afterAll(async () => api?.stop());

const upload = (project: string, body: Record<string, unknown>, token?: string) =>
  api.call('POST', `/api/projects/${project}/files`, { body, ...(token !== undefined ? { token } : {}) });

describe("a project's files", () => {
  it('puts an uploaded file in the project folder, lists it, and a file source reads it', async () => {
    const put = await upload(projectA, { path: 'in/orders.csv', content: 'id,amount\n1,9.5\n2,12\n' });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ path: 'in/orders.csv', bytes: 21 });
    expect(readFileSync(path.join(api.h.dataDir, projectA, 'in', 'orders.csv'), 'utf8')).toBe(
      'id,amount\n1,9.5\n2,12\n',
    );
    // Uploading again replaces it.
    expect((await upload(projectA, { path: 'in/orders.csv', content: 'id,amount\n3,1\n' })).body.bytes).toBe(
      14,
    );
    const list = await api.call('GET', `/api/projects/${projectA}/files`);
    expect(list.body.items).toEqual([expect.objectContaining({ path: 'in/orders.csv', bytes: 14 })]);

    const doc = {
      apiVersion: 'tributary/v1',
      id: uniq('reads'),
      name: 'reads',
      project: projectA,
      nodes: [{ id: 'orders', type: 'source.csv', config: { path: 'in/orders.csv' } }],
      edges: [],
    };
    expect((await api.call('POST', '/api/pipelines', { body: doc })).status).toBe(201);
    const schemas = await api.call('POST', `/api/pipelines/${doc.id}/schemas`, { body: doc });
    expect(schemas.body.nodes.orders).toMatchObject({
      source: 'inferred',
      columns: [{ name: 'id' }, { name: 'amount' }],
    });

    const audit = await api.call('GET', `/api/audit?project=${projectA}&action=project.file_uploaded`);
    expect(audit.body.items[0]).toMatchObject({ target: `file:${projectA}/in/orders.csv` });
  });

  it('takes base64 for a file that is not text', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251]);
    const put = await upload(projectA, {
      path: 'blob.bin',
      content: bytes.toString('base64'),
      encoding: 'base64',
    });
    expect(put.status).toBe(201);
    expect(readFileSync(path.join(api.h.dataDir, projectA, 'blob.bin'))).toEqual(bytes);
  });

  it.each([
    ['../escape.csv', '".." segments'],
    ['in/../../escape.csv', '".." segments'],
    ['/etc/passwd', 'relative'],
    ['C:/x.csv', 'relative'],
    ['in\\\\x.csv', 'relative'],
    ['.env', 'plain name'],
    ['a/b/c/d/e.csv', '4 folders'],
    ['', 'Too small'],
  ])('refuses the path %j with a 400 naming path (%s)', async (bad, why) => {
    const reply = await upload(projectA, { path: bad, content: 'x' });
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
    expect(reply.body.errors[0]).toMatchObject({ path: 'path' });
    expect(reply.body.detail).toContain(why);
  });

  it('refuses a path through a link out of the folder', async () => {
    const outside = path.join(tmpdir(), uniq('outside'));
    mkdirSync(outside, { recursive: true });
    mkdirSync(path.join(api.h.dataDir, projectA), { recursive: true });
    symlinkSync(outside, path.join(api.h.dataDir, projectA, 'away'));
    const reply = await upload(projectA, { path: 'away/x.csv', content: 'x' });
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toContain('out of the project');
  });

  it('refuses a file over the limit (400 naming content, or 413 past the body limit)', async () => {
    const big = await upload(projectA, { path: 'big.csv', content: 'x'.repeat(MAX_FILE_BYTES + 1) });
    expect(big.status).toBe(400);
    expect(big.body.errors[0]).toMatchObject({ path: 'content' });
    const huge = await upload(projectA, { path: 'huge.csv', content: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toContain('application/problem+json');
  });

  it("refuses another project's token (403), a read-only token (403), no token (401), an unknown project (404)", async () => {
    const other = await api.token(['write', 'read'], [projectB]);
    expect((await upload(projectA, { path: 'x.csv', content: 'x' }, other)).status).toBe(403);
    expect((await api.call('GET', `/api/projects/${projectA}/files`, { token: other })).status).toBe(403);
    const reader = await api.token(['read'], [projectA]);
    expect((await upload(projectA, { path: 'x.csv', content: 'x' }, reader)).status).toBe(403);
    expect((await upload(projectA, { path: 'x.csv', content: 'x' }, '')).status).toBe(401);
    expect((await upload(uniq('nowhere'), { path: 'x.csv', content: 'x' })).status).toBe(404);
  });
});
