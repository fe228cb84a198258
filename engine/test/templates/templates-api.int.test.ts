// The templates API over real HTTP, beside the platform's routes as app.ts mounts them: catalogue,
// instantiation (remembering the origin), origin, and upgrades (refused after edits unless forced).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/api/context.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { problemHandler, unknownRoute } from '../../src/api/problem.js';
import { mountRoutes } from '../../src/api/route.js';
import { apiRoutes } from '../../src/api/routes.js';
import { templateRoutes } from '../../src/api/templates.routes.js';
import { silentLogger } from '../../src/infra/logger.js';
import { loadTemplateCatalog, TEMPLATES_DIR, type TemplateCatalog } from '../../src/templates/catalog.js';
import { templateOriginOf } from '../../src/templates/template-origin.store.js';
import { TokenStore } from '../../src/store/tokens.store.js';
import { uniq, type Body } from '../api/api-harness.js';
import { startHarness, type Harness } from '../harness.js';

let h: Harness;
let server: Server;
let base: string;
let admin: string;
let catalogDir: string;
let catalog: TemplateCatalog;
// The platform's routes, with the template routes reading the test's own catalogue instead.
const testTemplateRoutes = templateRoutes({ catalog: () => catalog });
const templateOperations = new Set(testTemplateRoutes.map((r) => r.operationId));
const routes = [...apiRoutes.filter((r) => !templateOperations.has(r.operationId)), ...testTemplateRoutes];

beforeAll(async () => {
  h = await startHarness();
  // A catalogue of our own, so the test can publish a newer version of a template.
  catalogDir = mkdtempSync(path.join(os.tmpdir(), 'tributary-templates-'));
  for (const id of ['csv-to-table', 'rest-api-incremental-upsert']) {
    cpSync(path.join(TEMPLATES_DIR, id), path.join(catalogDir, id), { recursive: true });
  }
  catalog = loadTemplateCatalog(catalogDir);
  const app = express();
  app.use(express.json({ limit: '1mb' }));
  const api = express.Router();
  mountRoutes(
    api,
    routes,
    createContext({
      pool: h.platform.platformPool,
      warehousePool: h.platform.warehousePool,
      temporal: h.platform.temporal,
      runs: h.platform.runs,
      taskQueue: h.taskQueue,
      secrets: h.platform.secrets,
      version: 'test',
      log: silentLogger,
    }),
  );
  api.use(unknownRoute);
  app.use('/api', api);
  app.use(problemHandler(silentLogger));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  admin = await token(['admin']);
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(catalogDir, { recursive: true, force: true });
  await h?.stop();
});

async function token(scopes: string[], projects?: string[]): Promise<string> {
  const tokens = new TokenStore(h.platform.platformPool);
  return (await tokens.create({ name: uniq('t'), scopes, projects: projects ?? null, createdBy: 'test' }))
    .token;
}

async function call(method: string, url: string, body?: unknown, auth = admin) {
  const response = await fetch(`${base}/api${url}`, {
    method,
    headers: {
      authorization: `Bearer ${auth}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Body };
}

/** Publishes a new version of a template in the test catalogue. */
function publish(id: string, change: (template: Record<string, unknown>) => void) {
  const file = path.join(catalogDir, id, 'template.json');
  const template = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  change(template);
  writeFileSync(file, JSON.stringify(template, null, 2));
  catalog = loadTemplateCatalog(catalogDir);
  expect(catalog.problems).toEqual([]);
}

const csvValues = {
  path: 'imports/customers.csv',
  columns: 'customer_id integer, email text',
  target_table: 'analytics.customers',
};

describe('templates API', () => {
  it('lists templates, filtered by category and by a word of their text', async () => {
    const all = await call('GET', '/templates');
    expect(all.status).toBe(200);
    expect(all.body.items.map((t: Body) => t.id)).toEqual(['csv-to-table', 'rest-api-incremental-upsert']);
    expect(all.body.items[0]).toMatchObject({
      version: '1.0.0',
      category: 'ingestion',
      links: { self: '/api/templates/csv-to-table', instantiate: '/api/templates/csv-to-table/instantiate' },
    });
    expect((await call('GET', '/templates?q=BEARER')).body.items.map((t: Body) => t.id)).toEqual([
      'rest-api-incremental-upsert',
    ]);
    expect((await call('GET', '/templates?category=export')).body.items).toEqual([]);
    const bad = await call('GET', '/templates?category=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('category');
  });

  it('shows a template with its params schema, examples, secrets and README', async () => {
    const reply = await call('GET', '/templates/rest-api-incremental-upsert');
    expect(reply.status).toBe(200);
    expect(reply.body.params.required).toEqual(['url', 'primary_key', 'target_table']);
    expect(reply.body.examples).toMatchObject({
      url: 'https://api.example.com/v1/customers',
      primary_key: 'id',
    });
    expect(reply.body.secrets).toEqual([
      {
        param: 'token_secret',
        defaultName: 'api-token',
        description: expect.stringContaining('bearer token'),
      },
    ]);
    expect(reply.body.readme).toContain('## What it produces');
    expect(reply.body.pipeline.nodes[0].config.url).toBe('{{ template.url }}');
    expect((await call('GET', '/templates/no-such-template')).status).toBe(404);
  });

  it('instantiates a template into a pipeline that remembers its origin and says which secrets exist', async () => {
    const id = uniq('tpl-api');
    // A project of its own: other test files store secrets (an `api-token`, too) in `default`.
    const project = uniq('tpl-project');
    expect((await call('POST', '/projects', { id: project, name: 'Templates API test' })).status).toBe(201);
    const values = {
      url: 'https://api.example.com/v1/customers',
      primary_key: 'id',
      target_table: 'crm.customers',
    };
    // The project lacks the secret the pipeline would read: refused, naming the value and the secret.
    const missing = await call('POST', '/templates/rest-api-incremental-upsert/instantiate', {
      project,
      pipelineId: id,
      values,
    });
    expect(missing.status).toBe(400);
    expect(missing.body.detail).toContain(`secret "api-token", which project "${project}" does not have`);
    expect(missing.body.errors).toEqual([
      expect.objectContaining({
        path: 'values.token_secret',
        code: 'missing_secret',
        message: expect.stringContaining(`PUT /api/projects/${project}/secrets/api-token`),
      }),
    ]);
    expect((await call('GET', `/pipelines/${id}`)).status).toBe(404);
    // Asked to go on anyway, it creates the pipeline and says the secret is missing.
    const reply = await call('POST', '/templates/rest-api-incremental-upsert/instantiate', {
      project,
      pipelineId: id,
      name: 'CRM customers',
      values,
      allowMissingSecrets: true,
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      id,
      project,
      name: 'CRM customers',
      version: 1,
      valid: true,
      errors: [],
      template: {
        template: 'rest-api-incremental-upsert',
        templateVersion: '1.0.0',
        values,
        pipelineVersion: 1,
        edited: false,
        latestVersion: '1.0.0',
        upgradeAvailable: false,
      },
      secrets: [{ param: 'token_secret', name: 'api-token', exists: false }],
    });
    expect(reply.body.document.nodes[0].config).toMatchObject({
      url: 'https://api.example.com/v1/customers',
      auth: { type: 'bearer', secret: 'api-token' },
      query: { updated_since: '{{ params.since }}' },
      pagination: { type: 'page', param: 'page', sizeParam: 'per_page', size: 100 },
    });
    // It is an ordinary pipeline for the rest of the API.
    const stored = await call('GET', `/pipelines/${id}`);
    expect(stored.status).toBe(200);
    expect(stored.body.document).toEqual(reply.body.document);
    expect(await templateOriginOf(h.platform.platformPool, id, catalog)).toMatchObject({
      template: 'rest-api-incremental-upsert',
      upgradeAvailable: false,
    });
    expect(await templateOriginOf(h.platform.platformPool, 'not-from-a-template', catalog)).toBeNull();
  });

  it('instantiates once the missing secret exists, and names another secret param the same way', async () => {
    const project = uniq('tpl-secrets');
    expect((await call('POST', '/projects', { id: project, name: 'Template secrets' })).status).toBe(201);
    const values = {
      url: 'https://api.example.com/v1/customers',
      primary_key: 'id',
      target_table: 'crm.customers',
      token_secret: 'crm-token',
    };
    const refused = await call('POST', '/templates/rest-api-incremental-upsert/instantiate', {
      project,
      pipelineId: uniq('tpl-sec'),
      values,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatchObject({ path: 'values.token_secret', code: 'missing_secret' });
    expect(refused.body.errors[0].message).toContain('secret "crm-token" does not exist');
    const put = await call('PUT', `/projects/${project}/secrets/crm-token`, { value: 'abc123' });
    expect(put.status).toBe(200);
    const made = await call('POST', '/templates/rest-api-incremental-upsert/instantiate', {
      project,
      pipelineId: uniq('tpl-sec'),
      values,
    });
    expect(made.status).toBe(201);
    expect(made.body.secrets).toEqual([
      expect.objectContaining({ param: 'token_secret', name: 'crm-token', exists: true }),
    ]);
    expect(JSON.stringify(made.body)).not.toContain('abc123');
  });

  it("lists each template's graph and what it needs: secrets and the files its sources read", async () => {
    const all = await call('GET', '/templates');
    const csv = all.body.items.find((t: Body) => t.id === 'csv-to-table');
    expect(csv.graph.nodes.map((n: Body) => [n.id, n.kind])).toEqual([
      ['load', 'source'],
      ['check_columns', 'transform'],
      ['clean', 'transform'],
      ['publish', 'sink'],
    ]);
    expect(csv.graph.edges).toContainEqual({ from: 'load', to: 'check_columns' });
    expect(csv.needs).toEqual({
      secrets: [],
      files: [
        {
          nodeId: 'load',
          nodeType: 'source.csv',
          field: 'path',
          param: 'path',
          example: 'imports/customers.csv',
        },
      ],
    });
    const rest = all.body.items.find((t: Body) => t.id === 'rest-api-incremental-upsert');
    expect(rest.needs.files).toEqual([]);
    expect(rest.needs.secrets).toEqual([
      expect.objectContaining({ param: 'token_secret', defaultName: 'api-token' }),
    ]);
  });

  it('refuses bad values with 400 naming each one, and a duplicate pipeline id with 409', async () => {
    const id = uniq('tpl-bad');
    const bad = await call('POST', '/templates/csv-to-table/instantiate', {
      pipelineId: id,
      values: { path: 'x.csv', columns: 'id int; drop table x', delimiter: '#', colour: 'red' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: Body) => e.path).sort()).toEqual([
      'values.colour',
      'values.columns',
      'values.delimiter',
      'values.target_table',
    ]);
    expect(bad.body.detail).toContain('The values do not fit template "csv-to-table" 1.0.0');
    expect((await call('GET', `/pipelines/${id}`)).status).toBe(404);

    const platform = await call('POST', '/templates/csv-to-table/instantiate', {
      pipelineId: id,
      values: { ...csvValues, target_table: 'tributary.customers' },
    });
    expect(platform.status).toBe(400);
    expect(platform.body.detail).toContain('makes a pipeline that does not compile');
    expect(platform.body.errors[0]).toMatchObject({ path: 'values.target_table', nodeId: 'publish' });

    expect(
      (await call('POST', '/templates/csv-to-table/instantiate', { pipelineId: id, values: csvValues }))
        .status,
    ).toBe(201);
    const again = await call('POST', '/templates/csv-to-table/instantiate', {
      pipelineId: id,
      values: csvValues,
    });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain(`Pipeline "${id}" already exists`);

    const noProject = await call('POST', '/templates/csv-to-table/instantiate', {
      project: 'no-such-project',
      pipelineId: uniq('tpl'),
      values: csvValues,
    });
    expect(noProject.status).toBe(400);
    expect(noProject.body.errors[0].path).toBe('project');
    // A template that reads a secret is told the same: the project is at fault, not its secrets.
    const noProjectSecret = await call('POST', '/templates/rest-api-incremental-upsert/instantiate', {
      project: 'no-such-project',
      pipelineId: uniq('tpl'),
      values: {
        url: 'https://api.example.com/v1/customers',
        primary_key: 'id',
        target_table: 'crm.customers',
      },
    });
    expect(noProjectSecret.status).toBe(400);
    expect(noProjectSecret.body.errors[0].path).toBe('project');
  });

  it('needs the write scope on the project to instantiate', async () => {
    const reader = await token(['read']);
    expect((await call('GET', '/templates', undefined, reader)).status).toBe(200);
    const body = { pipelineId: uniq('tpl'), values: csvValues };
    expect((await call('POST', '/templates/csv-to-table/instantiate', body, reader)).status).toBe(403);
    const elsewhere = await token(['write'], ['other-project']);
    const refused = await call('POST', '/templates/csv-to-table/instantiate', body, elsewhere);
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('project "default"');
  });

  it('upgrades pipelines onto a newer template version, unless they were edited since', async () => {
    const untouched = uniq('tpl-up');
    const moved = uniq('tpl-up');
    const edited = uniq('tpl-up');
    for (const pipelineId of [untouched, moved, edited]) {
      expect(
        (await call('POST', '/templates/csv-to-table/instantiate', { pipelineId, values: csvValues })).status,
      ).toBe(201);
    }
    // One is only rearranged on the canvas, another gets its SQL changed.
    const save = async (id: string, change: (doc: Body) => void) => {
      const doc = (await call('GET', `/pipelines/${id}`)).body.document;
      change(doc);
      expect((await call('PUT', `/pipelines/${id}`, doc)).status).toBe(200);
    };
    await save(moved, (doc) => {
      doc.nodes[0].position = { x: 10, y: 20 };
    });
    await save(edited, (doc) => {
      doc.nodes[2].config.sql += '\nlimit 10';
    });
    expect((await call('POST', `/pipelines/${untouched}/upgrade-template`)).body).toMatchObject({
      upgraded: false,
      from: '1.0.0',
      to: '1.0.0',
    });

    publish('csv-to-table', (t) => {
      t.version = '1.1.0';
      const nodes = (t.pipeline as { nodes: { id: string; name: string }[] }).nodes;
      nodes.find((n) => n.id === 'publish')!.name = 'Swap in the new table';
    });
    expect((await call('GET', `/pipelines/${untouched}/template`)).body).toMatchObject({
      templateVersion: '1.0.0',
      latestVersion: '1.1.0',
      upgradeAvailable: true,
      edited: false,
    });
    expect((await call('GET', `/pipelines/${edited}/template`)).body).toMatchObject({ edited: true });

    for (const id of [untouched, moved]) {
      const upgraded = await call('POST', `/pipelines/${id}/upgrade-template`, {});
      expect(upgraded.status).toBe(201);
      expect(upgraded.body).toMatchObject({
        upgraded: true,
        from: '1.0.0',
        to: '1.1.0',
        template: { templateVersion: '1.1.0', upgradeAvailable: false, edited: false, values: csvValues },
      });
      expect(upgraded.body.document.nodes[3].name).toBe('Swap in the new table');
    }
    expect((await call('GET', `/pipelines/${untouched}`)).body.version).toBe(2);
    expect((await call('GET', `/pipelines/${moved}`)).body.version).toBe(3);

    const refused = await call('POST', `/pipelines/${edited}/upgrade-template`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(
      `Pipeline "${edited}" was edited since template "csv-to-table" 1.0.0 made it (as version 1; changed: ` +
        'node "clean" config.sql). Upgrading to 1.1.0 would discard those edits. Roll back to version 1 ' +
        'first, or send {"force": true} to upgrade anyway.',
    );
    expect((await call('GET', `/pipelines/${edited}`)).body.version).toBe(2);
    const forced = await call('POST', `/pipelines/${edited}/upgrade-template`, { force: true });
    expect(forced.status).toBe(201);
    expect(forced.body.document.nodes[2].config.sql).not.toContain('limit 10');
  });

  it('asks for values a new template version needs, and takes them from the body', async () => {
    const id = uniq('tpl-up');
    const values = {
      url: 'https://api.example.com/v1/customers',
      primary_key: 'id',
      target_table: 'crm.customers',
    };
    await call('POST', '/templates/rest-api-incremental-upsert/instantiate', {
      pipelineId: id,
      values,
      allowMissingSecrets: true,
    });
    // The README must mention the new param, or the catalogue leaves the template out.
    const readme = path.join(catalogDir, 'rest-api-incremental-upsert', 'README.md');
    writeFileSync(readme, `${readFileSync(readme, 'utf8')}\n\`max_pages\`: the most pages a run reads.\n`);
    publish('rest-api-incremental-upsert', (t) => {
      t.version = '2.0.0';
      const params = t.params as { required: string[]; properties: Record<string, unknown> };
      params.required.push('max_pages');
      params.properties.max_pages = {
        type: 'integer',
        minimum: 1,
        description: 'Most pages',
        examples: [50],
      };
      const fetch = (t.pipeline as { nodes: { config: Record<string, unknown> }[] }).nodes[0]!;
      fetch.config.maxPages = '{{ template.max_pages }}';
    });

    const missing = await call('POST', `/pipelines/${id}/upgrade-template`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([
      expect.objectContaining({
        in: 'body',
        path: 'values.max_pages',
        message: 'values.max_pages: required',
      }),
    ]);
    expect(missing.body.detail).toContain('Upgrading to 2.0.0 needs other values');
    const upgraded = await call('POST', `/pipelines/${id}/upgrade-template`, { values: { max_pages: 20 } });
    expect(upgraded.status).toBe(201);
    expect(upgraded.body.document.nodes[0].config.maxPages).toBe(20);
    expect(upgraded.body.template.values).toEqual({ ...values, max_pages: 20 });
  });

  it('refuses to upgrade a pipeline that was not made from a template', async () => {
    const id = uniq('plain');
    const created = await call('POST', '/pipelines', {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      nodes: [
        {
          id: 'g',
          type: 'source.generate',
          config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
        },
      ],
    });
    expect(created.status).toBe(201);
    const reply = await call('POST', `/pipelines/${id}/upgrade-template`);
    expect(reply.status).toBe(409);
    expect(reply.body.detail).toBe(
      `Pipeline "${id}" was not made from a template, so there is nothing to upgrade`,
    );
    expect((await call('GET', `/pipelines/${id}/template`)).status).toBe(404);
  });

  it('describes its routes in a valid OpenAPI document', async () => {
    const document = openApiDocument(routes, 'test');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/templates',
        '/templates/{id}',
        '/templates/{id}/instantiate',
        '/pipelines/{id}/template',
        '/pipelines/{id}/upgrade-template',
      ]),
    );
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });
});
