// The packed CLI as a pipelines repository outside the platform meets it: `npm run pack:cli`'s
// tarball installed offline into an empty folder (no platform checkout on its path), then
// `npx tributary --help`, pull, push and run against a real API, Postgres and Temporal.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packCli } from '../../scripts/pack-cli.js';
import { startApi, uniq, type ApiHarness } from '../api/api-harness.js';

let api: ApiHarness;
let repo: string;
let out: string;
const project = uniq('packed');
const pipelineId = uniq('counted');

function sh(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: repo,
        // Only what a shell in an unrelated folder has: no NODE_OPTIONS, no tsx loader.
        env: {
          PATH: process.env.PATH ?? '',
          HOME: repo,
          XDG_CONFIG_HOME: path.join(repo, '.config'),
          ...env,
        },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  api = await startApi();
  out = await mkdtemp(path.join(os.tmpdir(), 'tributary-pack-'));
  repo = await mkdtemp(path.join(os.tmpdir(), 'tributary-pipelines-repo-'));
  expect((await api.call('POST', '/api/projects', { body: { id: project, name: 'Packed' } })).status).toBe(
    201,
  );
  const created = await api.call('POST', '/api/pipelines', {
    body: {
      apiVersion: 'tributary/v1',
      id: pipelineId,
      name: 'Counted',
      project,
      nodes: [
        {
          id: 'numbers',
          type: 'source.generate',
          config: { rows: 4, columns: [{ name: 'n', generator: 'sequence' }] },
        },
        { id: 'kept', type: 'transform.sql', config: { sql: 'select n from {{ inputs.numbers }}' } },
      ],
      edges: [{ from: 'numbers', to: 'kept' }],
    },
  });
  expect(created.status).toBe(201);
}, 240_000);
afterAll(async () => {
  await api?.stop();
  await Promise.all([repo, out].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

describe('the packed tributary CLI', () => {
  it('installs offline into an empty repository and pulls, pushes and runs against the API', async () => {
    const { tarball, version } = await packCli(out);
    expect(path.basename(tarball)).toBe(`tributary-${version}.tgz`);
    await writeFile(path.join(repo, 'package.json'), '{ "name": "our-pipelines", "private": true }\n');
    // The package has no dependencies: installing it needs neither the registry nor the cache.
    const installed = await sh('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund']);
    expect(installed.code, installed.stderr).toBe(0);
    expect(await readdir(path.join(repo, 'node_modules'))).toEqual(expect.arrayContaining(['tributary']));
    const manifest = JSON.parse(
      await readFile(path.join(repo, 'node_modules/tributary/package.json'), 'utf8'),
    );
    expect(manifest.dependencies ?? {}).toEqual({});

    const help = await sh('npx', ['--offline', 'tributary', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tributary [options] [command]');
    expect(help.stdout).toMatch(/pull \[options\]/);
    expect((await sh('npx', ['--offline', 'tributary', '--version'])).stdout.trim()).toBe(version);

    const env = { TRIBUTARY_URL: api.base, TRIBUTARY_TOKEN: api.admin };
    const pulled = await sh(
      'npx',
      ['--offline', 'tributary', 'pull', '--project', project, '--dir', 'pipelines'],
      env,
    );
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain(`Pulled 1 pipeline of project ${project}`);
    const sql = path.join(repo, 'pipelines', pipelineId, 'kept.sql');
    expect(await readFile(sql, 'utf8')).toBe('select n from {{ inputs.numbers }}\n');

    // The SQL parser (WebAssembly, beside the bundle) checks an edit offline before it is pushed.
    await writeFile(sql, 'selec n from {{ inputs.numbers }}\n');
    const invalid = await sh('npx', ['--offline', 'tributary', 'validate', '--dir', 'pipelines']);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain('Syntax error at or near "selec"');
    await writeFile(sql, 'select n from {{ inputs.numbers }}\nwhere n % 2 = 0\n');
    const pushed = await sh('npx', ['--offline', 'tributary', 'push', '--dir', 'pipelines'], env);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain(`${pipelineId}: pushed version 2 on main (was 1)`);
    const saved = await api.call('GET', `/api/pipelines/${pipelineId}`);
    expect(saved.body.version).toBe(2);
    expect(saved.body.document.nodes[1].config.sql).toBe(
      'select n from {{ inputs.numbers }}\nwhere n % 2 = 0',
    );

    const ran = await sh('npx', ['--offline', 'tributary', 'run', pipelineId, '--wait'], env);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/kept\s+succeeded\s+4 rows in, 2 rows out/);
    expect(ran.stdout).toMatch(/Run run-\S+ succeeded/);
  }, 240_000);
});
