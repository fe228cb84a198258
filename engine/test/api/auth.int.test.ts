// Authentication and scopes over the whole route table: every protected route is 401 without a
// token and 403 with a token lacking its scope; every project-scoped route refuses a token limited
// to another project. Also: tokens (shown once, hashed, expiring), the admin token bootstrap,
// and the OpenAPI document and docs page built from the same table.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdminToken } from '../../src/api/admin-token.js';
import { apiRoutes } from '../../src/api/routes.js';
import { hashToken, SCOPES, TOKEN_CACHE_MS, TokenStore } from '../../src/store/tokens.store.js';
import { generatePipeline, startApi, uniq, type ApiHarness } from './api-harness.js';

let api: ApiHarness;
const projectA = uniq('auth-a');
const projectB = uniq('auth-b');
const pipelineA = uniq('auth-p');
let runA: string;
const productA = uniq('auth-prod');

beforeAll(async () => {
  api = await startApi();
  for (const id of [projectA, projectB]) {
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
  }
  const created = await api.call('POST', '/api/pipelines', {
    body: generatePipeline(pipelineA, { project: projectA }),
  });
  expect(created.status).toBe(201);
  const run = await api.call('POST', `/api/pipelines/${pipelineA}/runs`, { body: {} });
  expect(run.status).toBe(202);
  runA = run.body.runId;
  await api.h.platform.temporal.workflow
    .getHandle(runA)
    .result()
    .catch(() => {});
  // A data product of project A, for the routes that act on one.
  const schemaA = projectSchemaName(projectA);
  await api.h.platform.warehousePool.query(`create table ${schemaA}.facts (n int)`);
  await api.h.giveSchema(schemaA, projectA);
  const product = await api.call('POST', `/api/projects/${projectA}/products`, {
    body: { id: productA, table: `${schemaA}.facts`, name: 'Facts' },
  });
  expect(product.status).toBe(201);
});
afterAll(async () => {
  await api?.h.platform.warehousePool.query(`drop schema if exists ${projectSchemaName(projectA)} cascade`);
  await api?.stop();
});

const fill = (routePath: string, values: Record<string, string> = {}) =>
  routePath.replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(values[name] ?? 'x'));

const protectedRoutes = apiRoutes.filter((r) => r.scope !== null);
const label = (r: (typeof apiRoutes)[number]) => `${r.method.toUpperCase()} /api${r.path}`;

describe('auth matrix over the route table', () => {
  it('has routes to check', () => {
    expect(protectedRoutes.length).toBeGreaterThan(25);
  });

  it.each(protectedRoutes.map((r) => [label(r), r] as const))('%s without a token is 401', async (_l, r) => {
    const reply = await api.call(r.method.toUpperCase(), `/api${fill(r.path)}`, { token: null, body: {} });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
    expect(reply.headers.get('www-authenticate')).toContain('Bearer');
    expect(reply.body.detail).toContain('Authorization: Bearer');
  });

  it.each(protectedRoutes.map((r) => [label(r), r] as const))(
    '%s with an unknown token is 401',
    async (_l, r) => {
      const reply = await api.call(r.method.toUpperCase(), `/api${fill(r.path)}`, {
        token: 'trb_nope_notatoken',
        body: {},
      });
      expect(reply.status).toBe(401);
      expect(reply.body.detail).toContain('unknown');
    },
  );

  it.each(protectedRoutes.map((r) => [label(r), r] as const))(
    '%s with a token lacking its scope is 403 naming the scope',
    async (_l, r) => {
      const token = await api.token(SCOPES.filter((s) => s !== r.scope && s !== 'admin'));
      const reply = await api.call(r.method.toUpperCase(), `/api${fill(r.path)}`, { token, body: {} });
      expect(reply.status).toBe(403);
      expect(reply.body.detail).toContain(`"${r.scope}"`);
    },
  );

  it.each(protectedRoutes.filter((r) => r.allProjects).map((r) => [label(r), r] as const))(
    '%s refuses an admin token limited to a project',
    async (_l, r) => {
      const token = await api.token(['admin'], [projectA]);
      const reply = await api.call(r.method.toUpperCase(), `/api${fill(r.path)}`, { token, body: {} });
      expect(reply.status).toBe(403);
      expect(reply.body.detail).toContain('every project');
    },
  );

  // Valid input for each project-scoped route, naming resources of project A.
  const scoped: Record<string, { values?: Record<string, string>; body?: unknown }> = {
    createProject: { body: { id: projectA, name: 'again' } },
    getProject: { values: { project: projectA } },
    updateProject: { values: { project: projectA }, body: { name: 'x' } },
    listSecrets: { values: { project: projectA } },
    putSecret: { values: { project: projectA, name: 'k' }, body: { value: 'v' } },
    deleteSecret: { values: { project: projectA, name: 'k' } },
    listBranches: { values: { project: projectA } },
    createBranch: { values: { project: projectA }, body: { name: 'probe' } },
    deleteBranch: { values: { project: projectA, name: 'probe' } },
    diffBranch: { values: { project: projectA, name: 'probe' } },
    mergeBranch: { values: { project: projectA, name: 'probe' }, body: {} },
    previewBranchUpdate: { values: { project: projectA, name: 'probe' } },
    updateBranch: { values: { project: projectA, name: 'probe' }, body: {} },
    createPipeline: { body: generatePipeline(uniq('p'), { project: projectA }) },
    getPipeline: {},
    savePipeline: { body: generatePipeline(pipelineA, { project: projectA }) },
    deletePipeline: {},
    listPipelineVersions: {},
    getPipelineVersion: { values: { version: '1' } },
    diffPipelineVersions: {},
    pipelineSchemas: { body: generatePipeline(pipelineA, { project: projectA }) },
    sinkTarget: { values: { nodeId: 'out' } },
    rollbackPipeline: { body: { version: 1 } },
    getPipelineDraft: {},
    savePipelineDraft: { body: generatePipeline(pipelineA, { project: projectA }) },
    discardPipelineDraft: {},
    publishPipeline: { body: {} },
    startRun: { body: {} },
    getRun: {},
    cancelRun: { body: {} },
    rerunRun: { body: { from: 'g' } },
    followRun: {},
    previewStep: { values: { nodeId: 'g' } },
    putSchedule: { body: { cron: '0 6 * * *' } },
    getSchedule: {},
    deleteSchedule: {},
    triggerSchedule: {},
    createWebhook: { body: {} },
    listWebhooks: {},
    deleteWebhook: { values: { hookId: 'hk_x' } },
    getRunAudit: {},
    getRunUsage: {},
    instantiateTemplate: {
      values: { id: 'csv-to-table' },
      body: { project: projectA, pipelineId: uniq('t'), values: {} },
    },
    getPipelineTemplate: {},
    upgradePipelineTemplate: { body: {} },
    publishProduct: {
      values: { project: projectA },
      body: { id: uniq('prod'), table: `${projectSchemaName(projectA)}.facts`, name: 'x' },
    },
    listProjectTables: { values: { project: projectA } },
    listReadableProducts: { values: { project: projectA } },
    shareProduct: { values: { id: productA, project: projectB } },
    unshareProduct: { values: { id: productA, project: projectB } },
    getRunOpenLineage: {},
    getPipelineLineage: {},
    listProjectFiles: { values: { project: projectA } },
    uploadProjectFile: { values: { project: projectA }, body: { path: 'probe.csv', content: 'a\n1\n' } },
    getProjectNotifications: { values: { project: projectA } },
    putProjectNotifications: { values: { project: projectA }, body: { rules: [] } },
    sendTestNotification: {
      values: { project: projectA },
      body: { channel: { type: 'slack', webhookUrlSecret: 'k' } },
    },
    getNotificationDelivery: { values: { project: projectA, id: '1' } },
    getRunNotifications: {},
    connectorSpec: {
      values: { project: projectA },
      body: { type: 'source.airbyte', package: 'airbyte-source-faker==6.2.32' },
    },
    connectorDiscover: {
      values: { project: projectA },
      body: { type: 'source.airbyte', package: 'airbyte-source-faker==6.2.32' },
    },
    getConnectorProbe: { values: { project: projectA, probe: 'connector-discover:x' } },
  };
  const unscoped = [
    'listProjects',
    'listPipelines',
    'validatePipeline',
    'listConnectors',
    'listRuns',
    'listAuditLog',
    'getUsage',
    'listTemplates',
    'getTemplate',
    // Discovery is open to every reader: names and schemas, never rows.
    'listCatalog',
    'getProduct',
    'getLineage',
  ];

  it('classifies every protected route as project-scoped, unscoped or all-projects', () => {
    const unclassified = protectedRoutes
      .filter((r) => !r.allProjects && !(r.operationId in scoped) && !unscoped.includes(r.operationId))
      .map(label);
    expect(unclassified).toEqual([]);
  });

  it.each(protectedRoutes.filter((r) => r.operationId in scoped).map((r) => [label(r), r] as const))(
    '%s refuses a token limited to another project and names the project',
    async (_l, r) => {
      const sample = scoped[r.operationId]!;
      // Every scope the route could want, but for project B only.
      const token = await api.token(r.scope === 'admin' ? ['admin'] : ['read', 'write', 'run'], [projectB]);
      const values = { id: pipelineA, runId: runA, ...sample.values };
      const reply = await api.call(r.method.toUpperCase(), `/api${fill(r.path, values)}`, {
        token,
        ...(sample.body !== undefined ? { body: sample.body } : {}),
      });
      expect(reply.status).toBe(403);
      expect(reply.body.detail).toContain(`"${r.scope}" scope for project "${projectA}"`);
    },
  );

  // Every protected route, with valid input naming project A's resources, under every kind of bad
  // credential: each is refused (401 or 403), and afterwards nothing reachable through the API changed.
  it('refuses every route to no, revoked, expired, other-project and too-small tokens, changing nothing', async () => {
    const tokens = new TokenStore(api.h.platform.platformPool);
    const revoked = await tokens.create({ name: uniq('revoked'), scopes: ['admin'], createdBy: 'test' });
    expect((await api.call('DELETE', `/api/tokens/${revoked.record.id}`)).status).toBe(204);
    const expired = await tokens.create({
      name: uniq('expired'),
      scopes: ['admin'],
      expiresAt: '2020-01-01T00:00:00Z',
      createdBy: 'test',
    });
    const otherProject = await api.token(['read', 'write', 'run'], [projectB]);
    const probe = uniq('matrix-probe');
    const fingerprint = async () => {
      const reads = [
        `/api/projects/${projectA}`,
        `/api/projects/${projectA}/secrets`,
        `/api/pipelines/${pipelineA}`,
        `/api/pipelines/${pipelineA}/versions`,
        `/api/pipelines/${pipelineA}/webhooks`,
        `/api/pipelines/${pipelineA}/schedule`,
        `/api/runs?pipeline=${pipelineA}`,
        `/api/audit?project=${projectA}`,
        `/api/pipelines?project=${projectA}`,
      ];
      const replies = await Promise.all(reads.map((p) => api.call('GET', p)));
      const tokenList = await api.call('GET', '/api/tokens');
      const probes = tokenList.body.items.filter((t: { name: string }) => t.name === probe).length;
      return JSON.stringify([replies.map((r) => [r.status, r.body]), probes]);
    };
    const before = await fingerprint();
    const kinds: [string, (r: (typeof apiRoutes)[number]) => Promise<string | null>, number[]][] = [
      ['no token', async () => null, [401]],
      ['revoked', async () => revoked.token, [401]],
      ['expired', async () => expired.token, [401]],
      ['another project', async () => otherProject, [403]],
      [
        'scope too small',
        async (r) => api.token(SCOPES.filter((x) => x !== r.scope && x !== 'admin')),
        [403],
      ],
    ];
    const unexpected: string[] = [];
    for (const r of protectedRoutes) {
      const sample = scoped[r.operationId] ?? {
        body: r.operationId === 'createToken' ? { name: probe, scopes: ['admin'] } : {},
      };
      const values = { id: pipelineA, runId: runA, project: projectA, ...sample.values };
      for (const [kind, tokenFor, statuses] of kinds) {
        // An unscoped route (listing, validating) cannot be refused for naming another project.
        if (kind === 'another project' && !(r.operationId in scoped) && !r.allProjects) continue;
        const reply = await api.call(r.method.toUpperCase(), `/api${fill(r.path, values)}`, {
          token: await tokenFor(r),
          ...(sample.body !== undefined ? { body: sample.body } : {}),
        });
        const problem = reply.headers.get('content-type')?.includes('application/problem+json');
        if (!statuses.includes(reply.status) || !problem)
          unexpected.push(`${label(r)} ${kind}: ${reply.status}`);
      }
    }
    expect(unexpected).toEqual([]);
    expect(await fingerprint()).toBe(before);
  });

  it('lets a per-project scope entry reach only its project', async () => {
    const token = await api.token(['read', `write:${projectB}`]);
    expect((await api.call('GET', `/api/projects/${projectA}`, { token })).status).toBe(200);
    expect(
      (await api.call('PATCH', `/api/projects/${projectB}`, { token, body: { name: 'B' } })).status,
    ).toBe(200);
    const refused = await api.call('PATCH', `/api/projects/${projectA}`, { token, body: { name: 'A' } });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain(`it has it only for "${projectB}"`);
  });

  it('lists only the projects and pipelines a limited token may read', async () => {
    const token = await api.token(['read'], [projectB]);
    const projects = await api.call('GET', '/api/projects', { token });
    expect(projects.body.items.map((p: { id: string }) => p.id)).toEqual([projectB]);
    const pipelines = await api.call('GET', '/api/pipelines', { token });
    expect(pipelines.body.items).toEqual([]);
    const runs = await api.call('GET', `/api/runs?pipeline=${pipelineA}`, { token });
    expect(runs.status).toBe(403);
  });

  it('needs run as well as write to make a schedule or a webhook (they start runs later)', async () => {
    const writeOnly = await api.token(['read', 'write']);
    const schedule = await api.call('PUT', `/api/pipelines/${pipelineA}/schedule`, {
      token: writeOnly,
      body: { cron: '0 6 * * *' },
    });
    expect(schedule.status).toBe(403);
    expect(schedule.body.detail).toContain('"run"');
    const hook = await api.call('POST', `/api/pipelines/${pipelineA}/webhooks`, {
      token: writeOnly,
      body: {},
    });
    expect(hook.status).toBe(403);
    expect(hook.body.detail).toContain('"run"');
    const runOnProjectB = await api.token(['read', 'write', `run:${projectB}`]);
    const elsewhere = await api.call('POST', `/api/pipelines/${pipelineA}/webhooks`, {
      token: runOnProjectB,
      body: {},
    });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.detail).toContain(`"run" scope for project "${projectA}"`);

    const both = await api.token(['read', 'write', 'run']);
    const made = await api.call('POST', `/api/pipelines/${pipelineA}/webhooks`, { token: both, body: {} });
    expect(made.status).toBe(201);
    expect(
      (await api.call('DELETE', `/api/pipelines/${pipelineA}/webhooks/${made.body.id}`, { token: both }))
        .status,
    ).toBe(204);
    const doc = (await api.call('GET', '/api/openapi.json', { token: null })).body;
    expect(doc.paths['/pipelines/{id}/schedule'].put.description).toContain('`write` and `run` scopes');
  });

  it('keeps health, docs, the OpenAPI document and the pipeline schema public', async () => {
    for (const p of ['/api/health', '/api/docs', '/api/openapi.json', '/api/schemas/pipeline']) {
      expect((await api.call('GET', p, { token: null })).status, p).toBe(200);
    }
  });
});

describe('tokens', () => {
  it('shows a new token once, stores only its hash, and lists it without the token', async () => {
    const created = await api.call('POST', '/api/tokens', {
      body: { name: 'ci', scopes: ['read', 'run'], projects: [projectA] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'ci',
      scopes: ['read', 'run'],
      projects: [projectA],
      expiresAt: null,
    });
    expect(created.body.token).toMatch(new RegExp(`^trb_${created.body.id}_[A-Za-z0-9_-]{43}$`));
    const row = await api.h.platform.platformPool.query('select * from tributary.api_tokens where id = $1', [
      created.body.id,
    ]);
    expect(row.rows[0].token_hash).toBe(hashToken(created.body.token));
    expect(JSON.stringify(row.rows[0])).not.toContain(created.body.token);
    const list = await api.call('GET', '/api/tokens');
    expect(list.text).not.toContain(created.body.token);
    expect(list.body.items.find((t: { id: string }) => t.id === created.body.id)).toMatchObject({
      name: 'ci',
    });
    // The new token works, within its scopes.
    expect((await api.call('GET', `/api/projects/${projectA}`, { token: created.body.token })).status).toBe(
      200,
    );
  });

  it('revokes a token: it is 401 afterwards, and a second delete is 404', async () => {
    const created = await api.call('POST', '/api/tokens', { body: { name: 'short', scopes: ['read'] } });
    // Used first, so the API process has it in its token cache: revoking through it still holds at once.
    expect((await api.call('GET', '/api/projects', { token: created.body.token })).status).toBe(200);
    expect((await api.call('DELETE', `/api/tokens/${created.body.id}`)).status).toBe(204);
    expect((await api.call('GET', '/api/projects', { token: created.body.token })).status).toBe(401);
    expect((await api.call('DELETE', `/api/tokens/${created.body.id}`)).status).toBe(404);
  });

  it('refuses a token revoked by another API process once the token cache time has passed', async () => {
    const created = await api.call('POST', '/api/tokens', { body: { name: 'elsewhere', scopes: ['read'] } });
    const use = async () => (await api.call('GET', '/api/projects', { token: created.body.token })).status;
    expect(await use()).toBe(200); // now cached by this API process
    // Another process's store: its delete does not reach this process's cache.
    expect(await new TokenStore(api.h.platform.platformPool).delete(created.body.id)).toBe(true);
    const revoked = Date.now();
    // Asked until refused; the time that counts is when the refused request was sent.
    let askedAt = Date.now();
    let status = await use();
    while (status === 200 && Date.now() - revoked < 10_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      askedAt = Date.now();
      status = await use();
    }
    expect(status).toBe(401);
    // The cache holds a token for TOKEN_CACHE_MS; the slack is for a reply that was slow to come
    // back on a loaded machine (each request is sent only after the previous one answered).
    expect(askedAt - revoked).toBeLessThan(TOKEN_CACHE_MS + 3_000);
    // And it stays refused.
    expect(await use()).toBe(401);
  });

  it('refuses an expired token with 401 naming the expiry', async () => {
    const { token } = await new TokenStore(api.h.platform.platformPool).create({
      name: 'old',
      scopes: ['read'],
      expiresAt: '2020-01-01T00:00:00Z',
      createdBy: 'test',
    });
    const reply = await api.call('GET', '/api/projects', { token });
    expect(reply.status).toBe(401);
    expect(reply.body.detail).toBe('The token expired at 2020-01-01T00:00:00.000Z');
  });

  it.each([
    [{ name: 'x', scopes: ['superuser'] }, 'scopes[0]'],
    [{ name: 'x', scopes: [] }, 'scopes'],
    [{ name: 'x', scopes: ['read:Not A Slug'] }, 'scopes[0]'],
    [{ name: 'x', scopes: ['read'], expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
    [{ scopes: ['read'] }, 'name'],
    [{ name: 'x', scopes: ['read'], extra: 1 }, ''],
  ])('refuses token body %j with 400 naming %s', async (body, field) => {
    const reply = await api.call('POST', '/api/tokens', { body });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({ in: 'body', ...(field ? { path: field } : {}) });
  });
});

describe('admin token bootstrap', () => {
  it('creates the admin token once, writes it 0600, and takes TRIBUTARY_ADMIN_TOKEN over it', async () => {
    const tokens = new TokenStore(api.h.platform.platformPool);
    await tokens.delete('admin');
    const home = mkdtempSync(path.join(os.tmpdir(), 'trb-admin-'));
    const first = await ensureAdminToken(tokens, { home });
    expect(first.source).toBe('created');
    const token = first.source === 'created' ? first.token : '';
    expect(readFileSync(path.join(home, 'admin-token'), 'utf8').trim()).toBe(token);
    expect(statSync(path.join(home, 'admin-token')).mode & 0o777).toBe(0o600);
    expect((await api.call('GET', '/api/tokens', { token })).status).toBe(200);

    const again = await ensureAdminToken(tokens, { home });
    expect(again).toEqual({ source: 'existing', file: path.join(home, 'admin-token') });

    const fromEnv = 'automation-admin-token-0123456789';
    expect(await ensureAdminToken(tokens, { home, fromEnv })).toEqual({ source: 'env' });
    expect((await api.call('GET', '/api/tokens', { token: fromEnv })).status).toBe(200);
    // Rotated by another store (as at another process's start): the API's cached lookup of the old
    // token lasts at most TOKEN_CACHE_MS.
    await new Promise((resolve) => setTimeout(resolve, TOKEN_CACHE_MS));
    expect((await api.call('GET', '/api/tokens', { token })).status).toBe(401);
    await tokens.delete('admin');
  });
});

describe('OpenAPI document and docs', () => {
  it('is a valid OpenAPI 3.1 document with one operation per route', async () => {
    const reply = await api.call('GET', '/api/openapi.json', { token: null });
    expect(reply.body.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(reply.body))).resolves.toBeTruthy();
    const operations = Object.values(
      reply.body.paths as Record<string, Record<string, { operationId: string }>>,
    )
      .flatMap((methods) => Object.values(methods))
      .map((op) => op.operationId)
      .sort();
    expect(operations).toEqual(apiRoutes.map((r) => r.operationId).sort());
    expect(new Set(operations).size).toBe(operations.length);
  });

  it('describes the pipeline body with the pipeline schema and marks scopes and public routes', async () => {
    const doc = (await api.call('GET', '/api/openapi.json', { token: null })).body;
    const create = doc.paths['/pipelines'].post;
    expect(create['x-tributary-scope']).toBe('write');
    expect(create.requestBody.content['application/json'].schema.properties.nodes.type).toBe('array');
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409']),
    );
    expect(doc.paths['/health'].get.security).toEqual([]);
    const preview = doc.paths['/runs/{runId}/steps/{nodeId}/preview'].get;
    expect(preview.parameters.find((p: { name: string }) => p.name === 'limit').schema.maximum).toBe(1000);
  });

  it('serves a self-contained HTML page listing every operation', async () => {
    const reply = await api.call('GET', '/api/docs', { token: null });
    expect(reply.headers.get('content-type')).toContain('text/html');
    expect(reply.text).not.toMatch(/<script|https?:\/\/(?!tributary\.dev)/);
    for (const r of apiRoutes) expect(reply.text, r.operationId).toContain(`id="${r.operationId}"`);
  });
});
