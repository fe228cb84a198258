// The builder's spec and discover calls for Python connectors, against the real
// airbyte-source-faker and tap-jsonl from PyPI, run by the harness's worker in the bubblewrap
// sandbox: the spec (cached per package and version), the streams discover lists with their
// columns and sync modes, a missing package named, a plain value in a secret field refused, and who
// may ask (no token, a read token, another project's token, another project's probe).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, uniq, type ApiHarness, type Body, type Reply } from './api-harness.js';

const FAKER = 'airbyte-source-faker==6.2.32';
const JSONL = 'tap-jsonl==0.3.1';

let api: ApiHarness;
let project: string;
beforeAll(async () => {
  api = await startApi();
  project = uniq('conn');
  expect(
    (await api.call('POST', '/api/projects', { body: { id: project, name: 'Connectors' } })).status,
  ).toBe(201);
}, 600_000);
afterAll(async () => api?.stop());

/** Asks, then asks again by probe id while it answers 202, as the builder does. */
async function settle(first: Reply, asker = project): Promise<Reply> {
  let reply = first;
  const deadline = Date.now() + 240_000;
  while (reply.status === 202 && Date.now() < deadline) {
    expect(reply.body.probe).toEqual(expect.any(String));
    reply = await api.call(
      'GET',
      `/api/projects/${asker}/connector-probes/${encodeURIComponent(reply.body.probe)}?wait=5000`,
    );
  }
  return reply;
}

describe('connector spec', () => {
  it("returns faker's connection specification, then serves it from the cache", async () => {
    const first = await api.call('POST', `/api/projects/${project}/connectors/spec?wait=1000`, {
      body: { type: 'source.airbyte', package: FAKER },
    });
    expect([200, 202]).toContain(first.status);
    if (first.status === 202) expect(first.body).toMatchObject({ status: 'running' });
    const reply = await settle(first);
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('ready');
    const spec = reply.body.spec as Body;
    expect(spec.secretFields).toEqual([]);
    expect(Object.keys(spec.schema.properties)).toEqual(
      expect.arrayContaining(['count', 'seed', 'records_per_slice', 'parallelism']),
    );
    expect(spec.schema.properties.count.type).toBe('integer');

    // Cached: the same answer at once, for any project, with a space in the pin or not.
    const other = uniq('conn');
    await api.call('POST', '/api/projects', { body: { id: other, name: 'Other' } });
    const started = Date.now();
    const again = await api.call('POST', `/api/projects/${other}/connectors/spec?wait=0`, {
      body: { type: 'source.airbyte', package: 'airbyte-source-faker == 6.2.32' },
    });
    expect(again.status).toBe(200);
    expect(again.body.spec).toEqual(spec);
    expect(Date.now() - started).toBeLessThan(2_000);
    const { rows } = await api.h.platform.platformPool.query(
      `select spec from tributary.connector_specs where type = 'source.airbyte' and package = $1`,
      [FAKER],
    );
    expect(rows[0].spec).toEqual(spec);
  }, 300_000);

  it("returns a Singer tap's settings from --about, with their secret fields", async () => {
    const reply = await settle(
      await api.call('POST', `/api/projects/${project}/connectors/spec?wait=20000`, {
        body: { type: 'source.singer', package: JSONL },
      }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body.spec.schema.properties.path).toMatchObject({ title: 'Path Glob' });
    expect(reply.body.spec.secretFields).toEqual([]);
  }, 300_000);

  it('names a package that does not exist (400), and a package of the other kind', async () => {
    const missing = await settle(
      await api.call('POST', `/api/projects/${project}/connectors/spec?wait=20000`, {
        body: { type: 'source.airbyte', package: 'airbyte-source-no-such-connector-tributary==0.0.1' },
      }),
    );
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(missing.body.detail).toContain('airbyte-source-no-such-connector-tributary==0.0.1');
    expect(missing.body.detail).toContain('was not found in the package index');
    expect(missing.body.errors[0]).toMatchObject({ path: 'package' });

    const wrongKind = await api.call('POST', `/api/projects/${project}/connectors/spec`, {
      body: { type: 'source.airbyte', package: JSONL },
    });
    expect(wrongKind.status).toBe(400);
    expect(JSON.stringify(wrongKind.body.errors)).toContain('airbyte-source-');
    const unpinned = await api.call('POST', `/api/projects/${project}/connectors/spec`, {
      body: { type: 'source.airbyte', package: 'airbyte-source-faker' },
    });
    expect(unpinned.status).toBe(400);
    expect(unpinned.body.errors[0].path).toContain('package');
  }, 300_000);
});

describe('connector discover', () => {
  it("lists faker's streams with their columns and sync modes", async () => {
    const reply = await settle(
      await api.call('POST', `/api/projects/${project}/connectors/discover?wait=20000`, {
        body: { type: 'source.airbyte', package: FAKER, config: { count: 10, seed: 1 } },
      }),
    );
    expect(reply.status).toBe(200);
    const streams = reply.body.streams as Body[];
    expect(streams.map((s) => s.name).sort()).toEqual(['products', 'purchases', 'users']);
    const users = streams.find((s) => s.name === 'users');
    expect(users.syncModes).toEqual(expect.arrayContaining(['full_refresh', 'incremental']));
    expect(users.columns).toEqual(
      expect.arrayContaining([
        { name: 'id', type: 'bigint' },
        { name: 'email', type: 'text' },
        { name: 'address', type: 'jsonb' },
        { name: 'updated_at', type: 'timestamp with time zone' },
      ]),
    );
  }, 300_000);

  it("lists a tap's stream from the project's files, mounted read-only", async () => {
    const folder = path.join(api.h.dataDir, project, 'orders');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'a.jsonl'), '{"id": 1, "amount": 2.5}\n');
    const reply = await settle(
      await api.call('POST', `/api/projects/${project}/connectors/discover?wait=20000`, {
        body: {
          type: 'source.singer',
          package: JSONL,
          config: { path: '/data/*.jsonl', stream_name: 'orders' },
          files: 'orders',
        },
      }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body.streams.map((s: Body) => s.name)).toEqual(['orders']);
  }, 300_000);

  it('refuses a secret for a field the spec does not mark secret, naming it', async () => {
    const reply = await settle(
      await api.call('POST', `/api/projects/${project}/connectors/discover?wait=20000`, {
        body: { type: 'source.airbyte', package: FAKER, config: {}, secrets: { seed: 'some_secret' } },
      }),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toContain('has no secret field "seed"');
    expect(reply.body.errors[0]).toMatchObject({ path: 'secrets.seed' });
  }, 300_000);

  it('tells who may ask: no token 401, a read token 403, another project 403 and 404', async () => {
    const body = { type: 'source.airbyte', package: FAKER, config: { count: 1 } };
    expect(
      (await api.call('POST', `/api/projects/${project}/connectors/discover`, { body, token: null })).status,
    ).toBe(401);
    const reader = await api.token(['read'], [project]);
    expect(
      (await api.call('POST', `/api/projects/${project}/connectors/discover`, { body, token: reader }))
        .status,
    ).toBe(403);
    const other = uniq('conn');
    await api.call('POST', '/api/projects', { body: { id: other, name: 'Other' } });
    const otherWriter = await api.token(['write'], [other]);
    expect(
      (await api.call('POST', `/api/projects/${project}/connectors/discover`, { body, token: otherWriter }))
        .status,
    ).toBe(403);
    // A discover probe of this project, asked for through another project's path, does not exist.
    const mine = await api.call('POST', `/api/projects/${project}/connectors/discover?wait=0`, { body });
    expect(mine.body.probe).toMatch(new RegExp(`^connector-discover:${project}:`));
    const peek = await api.call(
      'GET',
      `/api/projects/${other}/connector-probes/${encodeURIComponent(mine.body.probe)}?wait=0`,
      { token: otherWriter },
    );
    expect(peek.status).toBe(404);
    expect((await settle(mine)).status).toBe(200);
  }, 300_000);
});

describe("a connector node's config, checked against its cached spec", () => {
  const doc = (id: string, config: Record<string, unknown>) => ({
    apiVersion: 'tributary/v1',
    id,
    name: id,
    project,
    nodes: [{ id: 'src', type: 'source.airbyte', config: { stream: 'users', ...config } }],
  });
  // A spec in the cache as a probe leaves it: one required secret field and a required date.
  const SECRETIVE = 'airbyte-source-tributary-spec-test==1.0.0';
  beforeAll(async () => {
    await settle(
      await api.call('POST', `/api/projects/${project}/connectors/spec?wait=20000`, {
        body: { type: 'source.airbyte', package: FAKER },
      }),
    );
    await api.h.platform.platformPool.query(
      `insert into tributary.connector_specs (type, package, spec) values ('source.airbyte', $1, $2)
       on conflict (type, package) do nothing`,
      [
        SECRETIVE,
        JSON.stringify({
          schema: {
            type: 'object',
            required: ['api_key', 'start_date'],
            properties: {
              api_key: { type: 'string', airbyte_secret: true, pattern: '^sk_' },
              start_date: { type: 'string', format: 'date' },
            },
          },
          secretFields: ['api_key'],
        }),
      ],
    );
  }, 300_000);

  it('validate names the node, the field and what is wrong; a spec not known yet is a note, not an error', async () => {
    const bad = await api.call('POST', '/api/pipelines/validate', {
      body: doc(uniq('spec'), { package: FAKER, config: { count: 'many', seed: 1 } }),
    });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    expect(bad.body.errors).toEqual([
      {
        code: 'invalid_connector_config',
        nodeId: 'src',
        path: 'nodes[0].config.config.count',
        message: `Node "src", field "config.count": must be integer (the spec of ${FAKER})`,
      },
    ]);
    const good = await api.call('POST', '/api/pipelines/validate', {
      body: doc(uniq('spec'), { package: FAKER, config: { count: 5 } }),
    });
    expect(good.body).toEqual({ valid: true, errors: [] });

    const unknown = await api.call('POST', '/api/pipelines/validate', {
      body: doc(uniq('spec'), { package: 'airbyte-source-faker==0.0.1', config: { count: 'many' } }),
    });
    expect(unknown.body.valid).toBe(true);
    expect(unknown.body.notes).toEqual([
      "src: the spec of airbyte-source-faker==0.0.1 is not known yet (open the node's form, or run it): its config is checked against the spec once it is",
    ]);
  });

  it('checks a secret field as named, never by value, and never repeats a value put there', async () => {
    const plain = await api.call('POST', '/api/pipelines/validate', {
      body: doc(uniq('spec'), {
        package: SECRETIVE,
        config: { api_key: 'sk_live_VERYSECRET', start_date: 'soon' },
      }),
    });
    expect(plain.body.errors).toEqual([
      expect.objectContaining({
        path: 'nodes[0].config.config.api_key',
        message: `Node "src", field "config.api_key": is a secret field: put the name of a project secret in secrets["api_key"] instead of a value (the spec of ${SECRETIVE})`,
      }),
      expect.objectContaining({
        path: 'nodes[0].config.config.start_date',
        message: expect.stringContaining('must match format "date"'),
      }),
    ]);
    expect(JSON.stringify(plain.body)).not.toContain('VERYSECRET');
    expect(JSON.stringify(plain.body)).not.toContain('soon');
    const missing = await api.call('POST', '/api/pipelines/validate', {
      body: doc(uniq('spec'), { package: SECRETIVE, config: { start_date: '2024-01-01' } }),
    });
    expect(missing.body.errors).toEqual([
      expect.objectContaining({
        path: 'nodes[0].config.config.api_key',
        message: `Node "src", field "config.api_key": is required: a secret field, so name a project secret in secrets["api_key"] (the spec of ${SECRETIVE})`,
      }),
    ]);
    // Named: present, whatever its value (the pattern ^sk_ is not the name's business).
    const named = await api.call('POST', '/api/pipelines/validate', {
      body: doc(uniq('spec'), {
        package: SECRETIVE,
        config: { start_date: '2024-01-01' },
        secrets: { api_key: 'stripe-key' },
      }),
    });
    expect(named.body.errors.filter((e: Body) => e.code === 'invalid_connector_config')).toEqual([]);
  });

  it("shows the problems in a save's and a draft's answer, and refuses to publish them (400 problem+json)", async () => {
    const id = uniq('spec');
    const created = await api.call('POST', '/api/pipelines', {
      body: doc(id, { package: FAKER, config: { count: 5 } }),
    });
    expect(created.status).toBe(201);
    expect(created.body.valid).toBe(true);
    const saved = await api.call('PUT', `/api/pipelines/${id}`, {
      body: doc(id, { package: FAKER, config: { count: 0 } }),
    });
    expect(saved.status).toBe(200);
    expect(saved.body.valid).toBe(false);
    expect(saved.body.errors).toEqual([
      expect.objectContaining({ code: 'invalid_connector_config', path: 'nodes[0].config.config.count' }),
    ]);
    const draft = await api.call('PUT', `/api/pipelines/${id}/draft`, {
      body: doc(id, { package: FAKER, config: { count: 5, always_updated: 'yes' } }),
    });
    expect(draft.status).toBe(200);
    expect(draft.body.valid).toBe(false);
    expect(draft.body.errors).toEqual([
      expect.objectContaining({
        path: 'nodes[0].config.config.always_updated',
        message: `Node "src", field "config.always_updated": must be boolean (the spec of ${FAKER})`,
      }),
    ]);
    const refused = await api.call('POST', `/api/pipelines/${id}/publish`, { body: {} });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.detail).toContain("has a connector config its connector's spec refuses");
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ path: 'nodes[0].config.config.always_updated', nodeId: 'src' }),
    ]);
  });

  it('refuses discover with a config the spec refuses, naming the field of the request', async () => {
    const reply = await settle(
      await api.call('POST', `/api/projects/${project}/connectors/discover?wait=20000`, {
        body: { type: 'source.airbyte', package: FAKER, config: { count: 'many' } },
      }),
    );
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({ path: 'config.count' });
    expect(reply.body.detail).toContain('config.config.count: must be integer');
  }, 300_000);

  it("leaves tap-jsonl's invalid sub-schemas out of its form, naming them, and keeps the rest", async () => {
    const reply = await settle(
      await api.call('POST', `/api/projects/${project}/connectors/spec?wait=20000`, {
        body: { type: 'source.singer', package: JSONL },
      }),
    );
    expect(reply.status).toBe(200);
    const spec = reply.body.spec as Body;
    expect(spec.note).toContain('/properties/stream_maps/properties/__else__/anyOf/2');
    expect(spec.schema.properties.stream_maps.properties.__else__.anyOf).toEqual([
      { const: '__NULL__' },
      { type: 'null' },
    ]);
    expect(Object.keys(spec.schema.properties)).toEqual(
      expect.arrayContaining(['path', 'stream_name', 'stream_maps']),
    );
  }, 300_000);
});
