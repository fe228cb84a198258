// Projects (create, read, update, 409 on a taken id) and project secrets, whose values go in and
// never come out of any response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, uniq, type ApiHarness, type Reply } from './api-harness.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.stop());

describe('projects', () => {
  it('creates a project (201, Location) and reads it back', async () => {
    const id = uniq('proj');
    const created = await api.call('POST', '/api/projects', {
      body: { id, name: 'Analytics', description: 'numbers', owners: ['ana@example.com'] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/projects/${id}`);
    expect(created.body).toMatchObject({
      id,
      name: 'Analytics',
      description: 'numbers',
      owners: ['ana@example.com'],
    });
    const read = await api.call('GET', `/api/projects/${id}`);
    expect(read.body).toEqual(created.body);
    const list = await api.call('GET', '/api/projects');
    expect(list.body.items.map((p: { id: string }) => p.id)).toEqual(expect.arrayContaining(['default', id]));
  });

  it('refuses a second project with the same id with 409', async () => {
    const id = uniq('proj');
    await api.call('POST', '/api/projects', { body: { id, name: 'One' } });
    const again = await api.call('POST', '/api/projects', { body: { id, name: 'Two' } });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body).toMatchObject({
      status: 409,
      title: 'Conflict',
      detail: `Project "${id}" already exists`,
    });
  });

  it('patches only the fields given, and can clear the description', async () => {
    const id = uniq('proj');
    await api.call('POST', '/api/projects', { body: { id, name: 'Old', description: 'd', owners: ['a'] } });
    const renamed = await api.call('PATCH', `/api/projects/${id}`, { body: { name: 'New' } });
    expect(renamed.body).toMatchObject({ name: 'New', description: 'd', owners: ['a'] });
    const cleared = await api.call('PATCH', `/api/projects/${id}`, {
      body: { description: null, owners: [] },
    });
    expect(cleared.body).toMatchObject({ name: 'New', description: null, owners: [] });
  });

  it.each([
    ['POST', '/api/projects', { id: 'Bad Id', name: 'x' }, 'id'],
    ['POST', '/api/projects', { id: 'ok-id' }, 'name'],
    ['POST', '/api/projects', { id: 'ok-id', name: 'x', owners: 'me' }, 'owners'],
    ['POST', '/api/projects', { id: 'ok-id', name: 'x', colour: 'red' }, undefined],
    ['PATCH', '/api/projects/default', {}, undefined],
    ['PATCH', '/api/projects/default', { name: '' }, 'name'],
  ])('%s %s with %j is 400 naming %s', async (method, path, body, field) => {
    const reply = await api.call(method, path, { body });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0].in).toBe('body');
    if (field) expect(reply.body.errors[0].path).toBe(field);
  });

  it.each([
    ['GET', '/api/projects/no-such-project'],
    ['PATCH', '/api/projects/no-such-project'],
  ])('%s %s is 404', async (method, path) => {
    const reply = await api.call(method, path, { body: { name: 'x' } });
    expect(reply.status).toBe(404);
    expect(reply.body.detail).toBe('Project "no-such-project" does not exist');
  });

  it('answers a path that is not a project id with 400 naming the parameter', async () => {
    const reply = await api.call('GET', '/api/projects/NOT_A_SLUG');
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({ in: 'params', path: 'project' });
  });
});

describe('secrets', () => {
  const project = uniq('sec');
  const value = `s3cret-${uniq('v')}`;
  const replies: Reply[] = [];
  const call = async (...args: Parameters<ApiHarness['call']>) => {
    const reply = await api.call(...args);
    replies.push(reply);
    return reply;
  };

  beforeAll(async () => {
    await api.call('POST', '/api/projects', { body: { id: project, name: 'Secrets' } });
  });

  it('stores a secret write-only: names and dates come back, the value never does', async () => {
    const put = await call('PUT', `/api/projects/${project}/secrets/db_password`, { body: { value } });
    expect(put.status).toBe(200);
    expect(Object.keys(put.body).sort()).toEqual(['allowedHosts', 'createdAt', 'name', 'updatedAt']);
    const list = await call('GET', `/api/projects/${project}/secrets`);
    expect(list.body.items).toEqual([expect.objectContaining({ name: 'db_password' })]);
    // The worker's resolver decrypts what the API stored.
    expect(
      await api.h.platform.secrets
        .resolverFor(project)
        .resolve('db_password', { signFor: 'https://example.com/' }),
    ).toBe(value);
    // Overwriting keeps the name and moves updatedAt.
    const again = await call('PUT', `/api/projects/${project}/secrets/db_password`, {
      body: { value: `${value}2` },
    });
    expect(again.body.createdAt).toBe(put.body.createdAt);
    expect(Date.parse(again.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(put.body.updatedAt));
  });

  it('keeps only ciphertext in the database', async () => {
    const rows = await api.h.platform.platformPool.query(
      'select * from tributary.secrets where project_id = $1',
      [project],
    );
    expect(rows.rows).toHaveLength(1);
    expect(JSON.stringify(rows.rows)).not.toContain(value);
  });

  it.each([
    ['PUT', 'bad name', { value: 'x' }, 'params', 'name'],
    ['PUT', 'ok_name', { value: '' }, 'body', 'value'],
    ['PUT', 'ok_name', { secret: 'x' }, 'body', undefined],
  ])('%s a secret %s with %j is 400 naming %s.%s', async (method, name, body, location, field) => {
    const reply = await call(method, `/api/projects/${project}/secrets/${encodeURIComponent(name)}`, {
      body,
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toContainEqual(
      expect.objectContaining({ in: location, ...(field ? { path: field } : {}) }),
    );
  });

  it('answers 404 for a secret or project that does not exist', async () => {
    expect((await call('DELETE', `/api/projects/${project}/secrets/nope`)).status).toBe(404);
    expect((await call('GET', '/api/projects/no-such-project/secrets')).status).toBe(404);
    expect((await call('PUT', '/api/projects/no-such-project/secrets/x', { body: { value } })).status).toBe(
      404,
    );
  });

  it('deletes a secret', async () => {
    expect((await call('DELETE', `/api/projects/${project}/secrets/db_password`)).status).toBe(204);
    expect((await call('GET', `/api/projects/${project}/secrets`)).body.items).toEqual([]);
  });

  it('never returned the value in any response above, headers included', () => {
    expect(replies.length).toBeGreaterThan(8);
    for (const reply of replies) {
      expect(reply.text).not.toContain(value);
      expect(JSON.stringify([...reply.headers])).not.toContain(value);
    }
  });
});
