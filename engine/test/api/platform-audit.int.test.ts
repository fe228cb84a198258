// The platform audit log as the API writes it: every audited change made through real HTTP shows
// up in GET /api/audit with the acting token, its target and a summary of names and numbers, while
// refused changes leave no entry and no secret, token or param value reaches the log.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, startApi, uniq, type ApiHarness, type Body, type Reply } from './api-harness.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.stop());

/** The actor the API records for a token: `token:<id>/<name>`, as on runs and versions. */
async function actorOf(token: string): Promise<string> {
  const id = /^trb_([^_]+)_/.exec(token)?.[1];
  const { body } = await api.call('GET', '/api/tokens');
  const record = body.items.find((t: Body) => t.id === id);
  expect(record, `token ${id} is listed`).toBeDefined();
  return `token:${record.id}/${record.name}`;
}

const ok = (reply: Reply, status: number, what: string) => {
  expect(reply.status, `${what}: ${reply.text}`).toBe(status);
  return reply.body as Body;
};

describe('platform audit log through the API', () => {
  const project = uniq('audited');
  const pipelineId = uniq('audited-p');
  const secretValue = `sv_${randomBytes(16).toString('hex')}`;
  const paramValue = `pv_${randomBytes(16).toString('hex')}`;
  /** Every token, webhook token and value sent along the way; none may appear in an audit response. */
  const neverLogged = [secretValue, paramValue];
  const auditTexts: string[] = [];
  let operator: string;
  let operatorActor: string;
  let operatorId: string;
  let adminActor: string;
  let hookId: string;
  let ciId: string;

  const audit = async (query: string) => {
    const reply = await api.call('GET', `/api/audit?${query}`);
    expect(reply.status, reply.text).toBe(200);
    auditTexts.push(reply.text);
    return reply.body.items as Body[];
  };

  beforeAll(async () => {
    adminActor = await actorOf(api.admin);
    const created = ok(
      await api.call('POST', '/api/tokens', { body: { name: uniq('operator'), scopes: ['admin'] } }),
      201,
      'operator token',
    );
    operator = created.token;
    operatorId = created.id;
    neverLogged.push(api.admin, operator);
    operatorActor = await actorOf(operator);
    const as = (method: string, path: string, body?: unknown) =>
      api.call(method, path, { token: operator, ...(body !== undefined ? { body } : {}) });

    ok(await as('POST', '/api/projects', { id: project, name: 'Audited' }), 201, 'create project');
    ok(
      await as('PATCH', `/api/projects/${project}`, { name: 'Audited too', description: 'd' }),
      200,
      'patch project',
    );
    ok(
      await as('PUT', `/api/projects/${project}/secrets/api_key`, { value: secretValue }),
      200,
      'set secret',
    );
    ok(await as('DELETE', `/api/projects/${project}/secrets/api_key`), 204, 'delete secret');

    const doc = generatePipeline(pipelineId, {
      project,
      params: { apiKey: { type: 'string', sensitive: true }, day: { type: 'date', default: '2026-01-01' } },
    });
    ok(await as('POST', '/api/pipelines', doc), 201, 'create pipeline');
    ok(await as('PUT', `/api/pipelines/${pipelineId}`, { ...doc, name: 'Renamed' }), 200, 'save v2');
    // The same document again adds no version: nothing to record.
    const unchanged = ok(
      await as('PUT', `/api/pipelines/${pipelineId}`, { ...doc, name: 'Renamed' }),
      200,
      'resave',
    );
    expect(unchanged.created).toBe(false);
    ok(await as('POST', `/api/pipelines/${pipelineId}/rollback`, { version: 1 }), 201, 'rollback');

    ok(
      await as('PUT', `/api/pipelines/${pipelineId}/schedule`, {
        cron: '0 6 * * *',
        timezone: 'Europe/Berlin',
        paused: true,
        params: { apiKey: paramValue, day: '2026-02-01' },
      }),
      200,
      'put schedule',
    );
    ok(await as('DELETE', `/api/pipelines/${pipelineId}/schedule`), 204, 'delete schedule');

    const hook = ok(await as('POST', `/api/pipelines/${pipelineId}/webhooks`, { name: 'shop' }), 201, 'hook');
    hookId = hook.id;
    neverLogged.push(hook.token);
    ok(await as('DELETE', `/api/pipelines/${pipelineId}/webhooks/${hookId}`), 204, 'delete hook');

    const ci = ok(
      await as('POST', '/api/tokens', {
        name: 'ci',
        scopes: ['run'],
        projects: [project],
        expiresAt: '2099-01-01T00:00:00Z',
      }),
      201,
      'ci token',
    );
    ciId = ci.id;
    neverLogged.push(ci.token);
    ok(await as('DELETE', `/api/tokens/${ciId}`), 204, 'revoke ci token');

    ok(await as('DELETE', `/api/pipelines/${pipelineId}`), 204, 'delete pipeline');

    // Refused changes: none of them may leave an entry.
    expect((await as('DELETE', `/api/pipelines/${pipelineId}/webhooks/hk_nope`)).status).toBe(404);
    expect((await as('DELETE', `/api/projects/${project}/secrets/api_key`)).status).toBe(404);
    expect((await as('DELETE', `/api/tokens/${ciId}`)).status).toBe(404);
    expect((await as('POST', '/api/projects', { id: project, name: 'again' })).status).toBe(409);
  });

  it('lists each audited action with the acting token, its target and a summary, newest first', async () => {
    const items = await audit(`actor=${encodeURIComponent(operatorActor)}&limit=200`);
    const expected: [string, string | null, string, Record<string, unknown>][] = [
      ['project.created', project, `project:${project}`, { name: 'Audited' }],
      ['project.changed', project, `project:${project}`, { fields: ['name', 'description'] }],
      ['secret.set', project, `secret:${project}/api_key`, { name: 'api_key' }],
      ['secret.deleted', project, `secret:${project}/api_key`, { name: 'api_key' }],
      ['pipeline.created', project, `pipeline:${pipelineId}`, { version: 1 }],
      ['pipeline.saved', project, `pipeline:${pipelineId}`, { version: 2, fromVersion: 1 }],
      [
        'pipeline.rolled_back',
        project,
        `pipeline:${pipelineId}`,
        { toVersion: 1, version: 3, fromVersion: 2 },
      ],
      [
        'schedule.changed',
        project,
        `schedule:${pipelineId}`,
        { cron: '0 6 * * *', timezone: 'Europe/Berlin', paused: true, params: ['apiKey', 'day'] },
      ],
      ['schedule.deleted', project, `schedule:${pipelineId}`, {}],
      ['webhook.created', project, `webhook:${hookId}`, { pipelineId, name: 'shop' }],
      ['webhook.deleted', project, `webhook:${hookId}`, { pipelineId }],
      [
        'token.created',
        null,
        `token:${ciId}`,
        { name: 'ci', scopes: ['run'], projects: [project], expiresAt: '2099-01-01T00:00:00.000Z' },
      ],
      ['token.revoked', null, `token:${ciId}`, { name: 'ci' }],
      ['pipeline.deleted', project, `pipeline:${pipelineId}`, { version: 3 }],
    ];
    expect(items.map((e) => [e.action, e.project, e.target, e.summary])).toEqual(expected.reverse());
    for (const entry of items) expect(entry.actor).toBe(operatorActor);
    const times = items.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("records who created a token, and filters one project's entries and one action", async () => {
    const byAdmin = await audit(`actor=${encodeURIComponent(adminActor)}&action=token.created&limit=200`);
    expect(byAdmin.find((e) => e.target === `token:${operatorId}`)).toMatchObject({
      actor: adminActor,
      project: null,
      summary: { scopes: ['admin'], projects: null, expiresAt: null },
    });
    const ofProject = await audit(`project=${project}&limit=200`);
    expect(ofProject).toHaveLength(12);
    expect(new Set(ofProject.map((e) => e.project))).toEqual(new Set([project]));
    const saves = await audit(`project=${project}&action=pipeline.saved`);
    expect(saves.map((e) => e.summary)).toEqual([{ version: 2, fromVersion: 1 }]);
  });

  it('never shows a secret value, a param value or any token in audit responses', async () => {
    await audit(`project=${project}&limit=200`);
    expect(auditTexts.length).toBeGreaterThan(0);
    for (const text of auditTexts) {
      for (const value of neverLogged) expect(text).not.toContain(value);
    }
  });
});
