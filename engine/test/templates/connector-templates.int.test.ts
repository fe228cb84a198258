// The gallery's templates for real services (GitHub, Stripe, HubSpot; tag `needs-service`), whose
// first run needs the service, checked against their connectors' real specs: the environment is
// built (shared with CI's build-python-envs.ts), the spec is read through the API from the worker's
// sandbox, the template's config validates against it with the jsonschema the connector itself
// uses, every secret field is a project secret reference (never a plain value), and the picked
// streams are the connector's: Stripe's from its real `discover` (offline, with the key resolved on
// the worker from a project secret); GitHub's and HubSpot's, whose discover calls the service, from
// the streams their packaged manifest defines.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEnvironment } from '../../../activities/src/python/environment.js';
import { parseRequirements } from '../../../activities/src/python/requirements.js';
import { activityCatalog } from '../../src/pipelines/node-catalog.js';
import { readTemplateFolder, TEMPLATES_DIR } from '../../src/templates/catalog.js';
import { exampleValues, instantiate } from '../../src/templates/instantiate.js';
import type { LoadedTemplate } from '../../src/templates/template.schema.js';
import { startApi, uniq, type ApiHarness, type Body, type Reply } from '../api/api-harness.js';

const SERVICE_TEMPLATES = readdirSync(TEMPLATES_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => readTemplateFolder(path.join(TEMPLATES_DIR, e.name)).template)
  .filter((t): t is LoadedTemplate => !!t?.tags.includes('needs-service'))
  .sort((a, b) => a.id.localeCompare(b.id));

let api: ApiHarness;
let project: string;
beforeAll(async () => {
  api = await startApi();
  project = uniq('saas');
  await api.call('POST', '/api/projects', { body: { id: project, name: 'SaaS' } });
}, 600_000);
afterAll(async () => api?.stop());

async function settle(first: Reply): Promise<Reply> {
  let reply = first;
  const deadline = Date.now() + 480_000;
  while (reply.status === 202 && Date.now() < deadline) {
    reply = await api.call(
      'GET',
      `/api/projects/${project}/connector-probes/${encodeURIComponent(reply.body.probe)}?wait=10000`,
    );
  }
  return reply;
}

/**
 * Runs a Python snippet with the connector environment's own interpreter; its stdout as JSON.
 * Asynchronously: the API's keep-alive sockets must see the server close them meanwhile.
 */
function inEnvironment(envDir: string, script: string, input: unknown): Promise<Body> {
  const file = path.join(os.tmpdir(), `tributary-check-${process.pid}-${Date.now()}.py`);
  writeFileSync(file, script);
  return new Promise((resolve, reject) => {
    const child = execFile(path.join(envDir, 'bin', 'python'), [file], (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout)),
    );
    child.stdin!.end(JSON.stringify(input));
  });
}

/** Validates with jsonschema (the validator the Airbyte CDK checks configs with). */
const VALIDATE = `
import json, sys, jsonschema
given = json.load(sys.stdin)
errors = sorted(jsonschema.Draft7Validator(given["schema"]).iter_errors(given["config"]), key=str)
print(json.dumps([".".join(map(str, e.path)) + ": " + e.message for e in errors]))
`;

/** The streams a declarative connector's packaged manifest defines (its top-level \`streams\`). */
const MANIFEST_STREAMS = `
import json, sys, yaml, importlib.resources as r
m = yaml.safe_load((r.files(json.load(sys.stdin)) / "manifest.yaml").read_text())
def resolve(x):
    if isinstance(x, str) and x.startswith("#/"):
        x = {"$ref": x}
    if isinstance(x, dict) and isinstance(x.get("$ref"), str):
        node = m
        for part in x["$ref"][2:].split("/"):
            node = node[part]
        merged = dict(resolve(node))
        merged.update({k: v for k, v in x.items() if k != "$ref"})
        return merged
    return x
names = []
for s in m.get("streams", []):
    s = resolve(s)
    names.append(s.get("name") or (s.get("$parameters") or {}).get("name"))
print(json.dumps(sorted(n for n in names if n)))
`;

function setPath(target: Record<string, unknown>, dotted: string, value: unknown) {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}
function getPath(target: unknown, dotted: string): unknown {
  let node = target;
  for (const part of dotted.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

describe('service templates against their connectors', () => {
  it('are GitHub, Stripe and HubSpot', () => {
    expect(SERVICE_TEMPLATES.map((t) => t.id)).toEqual([
      'github-airbyte',
      'hubspot-airbyte',
      'stripe-airbyte',
    ]);
  });

  it.each(SERVICE_TEMPLATES.map((t) => [t.id, t] as const))(
    '%s: its config validates against the real spec, its secrets are secret references, its streams exist',
    async (_id, template) => {
      const made = instantiate(
        template,
        { values: exampleValues(template), pipelineId: uniq(template.id), project },
        activityCatalog,
      );
      if (!made.ok) throw new Error(JSON.stringify(made.errors));
      const node = made.document.nodes.find((n) => n.type === 'source.airbyte')!;
      const config = node.config as {
        package: string;
        config: Record<string, unknown>;
        secrets: Record<string, string>;
        streams: { name: string; syncMode: string }[];
        network: boolean;
      };
      expect(config.network).toBe(true);

      const reply = await settle(
        await api.call('POST', `/api/projects/${project}/connectors/spec?wait=20000`, {
          body: { type: 'source.airbyte', package: config.package },
        }),
      );
      expect(reply.status).toBe(200);
      const spec = reply.body.spec as { schema: Record<string, unknown>; secretFields: string[] };

      // Every secret is named, at a field the connector marks secret; no secret field holds a value.
      const named = Object.keys(config.secrets);
      expect(named.length).toBeGreaterThan(0);
      for (const field of named) expect(spec.secretFields).toContain(field);
      for (const field of spec.secretFields) expect(getPath(config.config, field)).toBeUndefined();
      // The secrets the template declares are the ones the node names.
      expect(Object.values(config.secrets).sort()).toEqual(
        template.secrets.map((s) => String(made.values[s.param])).sort(),
      );

      // The config the node hands the connector (secrets filled on the worker) validates.
      const env = await ensureEnvironment(
        { home: path.resolve('.tributary', 'python'), python: process.env.TRIBUTARY_PYTHON ?? 'python3' },
        parseRequirements([config.package], 'package'),
        'package',
        () => {},
      );
      const filled = structuredClone(config.config);
      for (const field of named) setPath(filled, field, 'a-secret-value');
      expect(await inEnvironment(env.dir, VALIDATE, { schema: spec.schema, config: filled })).toEqual([]);
      // And the check has teeth: without the secret, the spec refuses it.
      const bare = structuredClone(config.config);
      const refused = (await inEnvironment(env.dir, VALIDATE, {
        schema: spec.schema,
        config: bare,
      })) as string[];
      expect(refused.length).toBeGreaterThan(0);

      // The streams are the connector's.
      if (config.package.startsWith('airbyte-source-stripe==')) {
        for (const [field, name] of Object.entries(config.secrets)) {
          expect(field).toBe('client_secret');
          await api.call('PUT', `/api/projects/${project}/secrets/${name}`, {
            body: { value: 'sk_test_not_a_real_key' },
          });
        }
        const discovered = await settle(
          await api.call('POST', `/api/projects/${project}/connectors/discover?wait=20000`, {
            body: {
              type: 'source.airbyte',
              package: config.package,
              config: config.config,
              secrets: config.secrets,
            },
          }),
        );
        expect(discovered.status).toBe(200);
        // The key never comes back.
        expect(discovered.text).not.toContain('sk_test_not_a_real_key');
        const streams = discovered.body.streams as { name: string; syncModes: string[] }[];
        for (const picked of config.streams) {
          const stream = streams.find((s) => s.name === picked.name);
          expect(stream, picked.name).toBeDefined();
          expect(stream!.syncModes).toContain(picked.syncMode);
        }
      } else {
        const module = config.package
          .split('==')[0]!
          .replace(/^airbyte-/, '')
          .replaceAll('-', '_');
        const defined = (await inEnvironment(env.dir, MANIFEST_STREAMS, module)) as string[];
        expect(defined.length).toBeGreaterThan(5);
        for (const picked of config.streams) expect(defined).toContain(picked.name);
      }
      // The README says what it needs.
      expect(readFileSync(path.join(template.dir, 'README.md'), 'utf8')).toContain(config.package);
    },
    600_000,
  );
});
