// Requests the fuzzer (engine/test/fuzz/run-fuzz.ts) found answered with a 500, kept as
// regressions: each must be a 400 problem naming the field at fault.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, startApi, uniq, type ApiHarness, type Reply } from './api-harness.js';

let api: ApiHarness;
let id: string;
beforeAll(async () => {
  api = await startApi();
  id = uniq('hostile');
  expect((await api.call('POST', '/api/pipelines', { body: generatePipeline(id) })).status).toBe(201);
});
afterAll(async () => api?.stop());

const expectProblem = (reply: Reply, where: string, path: string) => {
  expect(reply.status, reply.text).toBe(400);
  expect(reply.headers.get('content-type')).toContain('application/problem+json');
  expect(reply.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ in: where, path })]));
};

describe('hostile input', () => {
  it('refuses a runs cursor that is not one, before Temporal sees it', async () => {
    expectProblem(await api.call('GET', `/api/runs?cursor=${'0'.repeat(400)}`), 'query', 'cursor');
    expectProblem(
      await api.call('GET', `/api/runs?cursor=${encodeURIComponent("x' OR 1=1")}`),
      'query',
      'cursor',
    );
    const page = await api.call('GET', '/api/runs?limit=1');
    expect(page.status).toBe(200);
    if (page.body.nextCursor) {
      expect(
        (await api.call('GET', `/api/runs?limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`))
          .status,
      ).toBe(200);
    }
  });

  it('refuses versions beyond a Postgres integer', async () => {
    const big = 9007199254740990;
    expectProblem(await api.call('GET', `/api/pipelines/${id}/versions/${big}`), 'params', 'version');
    expectProblem(await api.call('GET', `/api/pipelines/${id}/diff?from=1&to=${big}`), 'query', 'to');
    expectProblem(
      await api.call('POST', `/api/pipelines/${id}/rollback`, { body: { version: big } }),
      'body',
      'version',
    );
    expect((await api.call('GET', `/api/pipelines/${id}/versions/2147483647`)).status).toBe(404);
  });

  it('refuses a NUL character anywhere in the input, naming where, before Postgres sees it', async () => {
    const project = await api.call('PATCH', '/api/projects/default', { body: { owners: ['a', 'b\u0000c'] } });
    expectProblem(project, 'body', 'owners[1]');
    const doc = { ...generatePipeline(id), description: 'x\u0000' };
    expectProblem(await api.call('PUT', `/api/pipelines/${id}`, { body: doc }), 'body', 'description');
    const key = await api.call('PUT', `/api/pipelines/${id}`, {
      body: { ...generatePipeline(id), params: { ['p\u0000']: { type: 'string' } } },
    });
    expect(key.status).toBe(400);
    expectProblem(await api.call('GET', '/api/runs?pipeline=a%00b'), 'query', 'pipeline');
  });

  it('documents the JSON Lines form of the audit trail', async () => {
    const doc = await api.call('GET', '/api/openapi.json');
    const content = doc.body.paths['/runs/{runId}/audit'].get.responses['200'].content;
    expect(Object.keys(content)).toEqual(['application/json', 'application/x-ndjson']);
  });
});
