// The `tributary` CLI as a person or CI uses it: the real command in a subprocess (its own HOME
// and config dir) against a real API, Postgres and Temporal. pull → edit SQL → validate → push
// gives exactly that change as a new version; a save on the server in between is refused (exit 3)
// unless --force; broken files are named by file, node and field; run --wait follows a real run.
// The tests are one session, in order: each starts from the folder and the server the last left.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, uniq, type ApiHarness } from '../api/api-harness.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = path.join(ROOT, 'engine/src/cli/tributary.ts');

let api: ApiHarness;
let home: string;
let work: string;
let project: string;
let pipelineId: string;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: path.join(home, 'config'), ...env },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const dir = () => path.join(work, 'pipelines');
const sqlFile = () => path.join(dir(), pipelineId, 'labelled.sql');
const yamlFile = () => path.join(dir(), pipelineId, 'pipeline.yaml');

beforeAll(async () => {
  api = await startApi();
  home = await mkdtemp(path.join(os.tmpdir(), 'tributary-cli-home-'));
  work = await mkdtemp(path.join(os.tmpdir(), 'tributary-cli-work-'));
  project = uniq('cli');
  pipelineId = uniq('orders');
  expect((await api.call('POST', '/api/projects', { body: { id: project, name: 'CLI test' } })).status).toBe(
    201,
  );
  const created = await api.call('POST', '/api/pipelines', {
    body: {
      apiVersion: 'tributary/v1',
      id: pipelineId,
      name: 'Orders',
      project,
      nodes: [
        {
          id: 'numbers',
          type: 'source.generate',
          config: { rows: 5, columns: [{ name: 'n', generator: 'sequence' }] },
        },
        { id: 'labelled', type: 'transform.sql', config: { sql: 'select n from {{ inputs.numbers }}' } },
      ],
      edges: [{ from: 'numbers', to: 'labelled' }],
    },
  });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await api?.stop();
  await Promise.all([home, work].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

describe('tributary CLI', () => {
  it('exits 2 on a usage error and 4 on a token the server refuses', async () => {
    const usage = await cli(['pull']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("required option '-p, --project <project>'");
    const refused = await cli(['login', '--url', api.base, '--token', 'trb_not_a_real_token_at_all']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/refused the token \(401\)/);
  });

  it('logs in, checking the token, and keeps the config private (0600)', async () => {
    const result = await cli(['--json', 'login', '--url', `${api.base}/api`, '--token', api.admin]);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({
      url: api.base,
      configFile: path.join(home, 'config/tributary/config.json'),
    });
    expect(body.projects).toContain(project);
    expect((await stat(body.configFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(body.configFile, 'utf8'))).toEqual({ url: api.base, token: api.admin });
  });

  it('pull → edit a .sql file → validate → push: the server has a new version with exactly that change', async () => {
    const pulled = await cli(['pull', '--project', project, '--dir', dir()]);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain(`${pipelineId}`);
    expect(await readFile(sqlFile(), 'utf8')).toBe('select n from {{ inputs.numbers }}\n');
    const yaml = await readFile(yamlFile(), 'utf8');
    expect(yaml).toContain('sql:\n        file: labelled.sql');
    const state = JSON.parse(await readFile(path.join(dir(), '.tributary/state.json'), 'utf8'));
    expect(state).toMatchObject({ server: api.base, project, branch: null });
    expect(state.pipelines[pipelineId]).toMatchObject({
      version: 1,
      versionHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });

    const edited = "select n, 'web'::text as channel\nfrom {{ inputs.numbers }}\nwhere n > 1";
    await writeFile(sqlFile(), `${edited}\n`);

    const validated = await cli(['validate', '--dir', dir()]);
    expect(validated.code).toBe(0);
    expect(validated.stdout).toContain(`ok    ${pipelineId}`);

    const status = await cli(['--json', 'status', '--dir', dir()]);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).pipelines).toEqual([
      expect.objectContaining({ id: pipelineId, local: 'modified', remote: 'unchanged', pulledVersion: 1 }),
    ]);

    const diff = await cli(['diff', pipelineId, '--dir', dir()]);
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('~ node labelled (transform.sql): config.sql changed');
    expect(diff.stdout).toContain(`--- a/${pipelineId}/labelled.sql\tserver version 1`);
    expect(diff.stdout).toContain('-select n from {{ inputs.numbers }}');
    expect(diff.stdout).toContain("+select n, 'web'::text as channel");

    const pushed = await cli(['push', '--dir', dir()]);
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(`${pipelineId}: pushed version 2 on main (was 1)`);

    const change = await api.call('GET', `/api/pipelines/${pipelineId}/diff?from=1&to=2`);
    expect(change.body).toMatchObject({
      nodes: {
        added: [],
        removed: [],
        changed: [
          {
            id: 'labelled',
            changes: [
              { path: 'config.sql', kind: 'changed', from: 'select n from {{ inputs.numbers }}', to: edited },
            ],
          },
        ],
      },
      edges: { added: [], removed: [] },
      params: [],
      settings: [],
      metadata: [],
    });
    const after = JSON.parse(await readFile(path.join(dir(), '.tributary/state.json'), 'utf8'));
    expect(after.pipelines[pipelineId].version).toBe(2);
    const again = await cli(['push', '--dir', dir()]);
    expect(again.stdout).toContain('Nothing to push');
  });

  it('refuses a push over a save made on the server since the pull, naming it and who saved it; --force pushes', async () => {
    const alice = await api.call('POST', '/api/tokens', {
      body: { name: 'alice-laptop', scopes: ['write', 'read'] },
    });
    expect(alice.status).toBe(201);
    const current = await api.call('GET', `/api/pipelines/${pipelineId}`);
    const theirs = structuredClone(current.body.document);
    theirs.nodes[0].config.rows = 7;
    const saved = await api.call('PUT', `/api/pipelines/${pipelineId}`, {
      token: alice.body.token,
      body: theirs,
      headers: { 'if-match': `"${current.body.version}"` },
    });
    expect(saved.status).toBe(200);
    const serverVersion = saved.body.version;

    await writeFile(sqlFile(), 'select n * 2 as n from {{ inputs.numbers }}\n');
    const refused = await cli(['push', '--dir', dir()]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`pipeline "${pipelineId}" was changed on the server since your pull`);
    expect(refused.stderr).toContain(`version ${serverVersion} by token:${alice.body.id}/alice-laptop`);
    expect((await api.call('GET', `/api/pipelines/${pipelineId}`)).body.version).toBe(serverVersion);

    const refusedJson = await cli(['--json', 'push', '--dir', dir()]);
    expect(refusedJson.code).toBe(3);
    expect(JSON.parse(refusedJson.stdout).error).toMatchObject({
      exitCode: 3,
      refused: [{ id: pipelineId, serverVersion, savedBy: [`token:${alice.body.id}/alice-laptop`] }],
    });

    const forced = await cli(['push', '--force', '--dir', dir()]);
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(
      `--force: saved version ${serverVersion + 1} on main over version ${serverVersion}`,
    );
    const now = await api.call('GET', `/api/pipelines/${pipelineId}`);
    expect(now.body.version).toBe(serverVersion + 1);
    expect(now.body.document.nodes[1].config.sql).toBe('select n * 2 as n from {{ inputs.numbers }}');
    // --force keeps the local file as it is: alice's rows = 7 is only in the history now.
    expect(now.body.document.nodes[0].config.rows).toBe(5);
  });

  it('validate names the file, line, node and field of a broken local pipeline (exit 1), offline', async () => {
    const original = await readFile(yamlFile(), 'utf8');
    await writeFile(yamlFile(), original.replace('rows: 5', 'rows: many'));
    try {
      // No server: validate must not need one.
      const result = await cli(['validate', '--dir', dir()], {
        TRIBUTARY_URL: 'http://127.0.0.1:9',
        TRIBUTARY_TOKEN: 'x',
      });
      expect(result.code).toBe(1);
      const line = original.split('\n').findIndex((l) => l.includes('rows: 5')) + 1;
      expect(result.stdout).toContain(
        `${pipelineId}/pipeline.yaml:${line}: node "numbers", field config.rows: Node "numbers", field "rows":`,
      );
      const json = await cli(['--json', 'validate', '--dir', dir()]);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        valid: false,
        pipelines: [
          {
            id: pipelineId,
            valid: false,
            errors: [
              {
                file: `${pipelineId}/pipeline.yaml`,
                line,
                nodeId: 'numbers',
                field: 'config.rows',
                code: 'invalid_config',
              },
            ],
          },
        ],
      });
      await writeFile(sqlFile(), '   \n');
      const emptySql = await cli(['validate', '--dir', dir()]);
      expect(emptySql.stdout).toContain(`${pipelineId}/labelled.sql: node "labelled", field config.sql:`);
      // SQL goes through the Postgres parser: the error is at its line in the .sql file.
      await writeFile(sqlFile(), '-- doubled\nselec n * 2 as n from {{ inputs.numbers }}\n');
      const badSql = await cli(['validate', '--dir', dir()]);
      expect(badSql.code).toBe(1);
      expect(badSql.stdout).toContain(
        `${pipelineId}/labelled.sql:2: node "labelled", field config.sql: Node "labelled", line 2, column 1: Syntax error at or near "selec"`,
      );
    } finally {
      await writeFile(yamlFile(), original);
      await writeFile(sqlFile(), 'select n * 2 as n from {{ inputs.numbers }}\n');
    }
  });

  it('run --wait follows a run to its end with a line per step, and exits 0 when it succeeded', async () => {
    // The environment, as in CI, rather than the config file of `login`.
    const env = { TRIBUTARY_URL: api.base, TRIBUTARY_TOKEN: await api.token(['run', 'read'], [project]) };
    const result = await cli(['run', pipelineId, '--wait'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(`^Started run (run-${pipelineId}-\\S+) of ${pipelineId} version \\d+ on main$`, 'm'),
    );
    expect(result.stdout).toMatch(/^ {2}numbers +succeeded +0 rows in, 5 rows out/m);
    expect(result.stdout).toMatch(/^ {2}labelled +succeeded +5 rows in, 5 rows out/m);
    expect(result.stdout).toMatch(/^Run run-\S+ succeeded in \d+\.\d s on main$/m);

    const json = await cli(['--json', 'run', pipelineId, '--wait', '--param', 'unused=1'], env);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error.message).toMatch(/not started: .*unused/);
  });

  it('pull keeps local changes that were not pushed (exit 3) and drops folders of pipelines deleted on the server', async () => {
    const extra = uniq('extra');
    const created = await api.call('POST', '/api/pipelines', {
      body: {
        apiVersion: 'tributary/v1',
        id: extra,
        name: 'Extra',
        project,
        nodes: [
          {
            id: 'g',
            type: 'source.generate',
            config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
          },
        ],
      },
    });
    expect(created.status).toBe(201);
    const first = await cli(['pull', '--project', project, '--dir', dir()]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`${extra}`);

    const sql = await readFile(sqlFile(), 'utf8');
    await writeFile(sqlFile(), 'select 1 as kept\n');
    const refused = await cli(['pull', '--project', project, '--dir', dir()]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`Not pulling: ${pipelineId} has local changes that were not pushed`);
    expect(await readFile(sqlFile(), 'utf8')).toBe('select 1 as kept\n');
    await writeFile(sqlFile(), sql);

    expect((await api.call('DELETE', `/api/pipelines/${extra}`)).status).toBe(204);
    const second = await cli(['--json', 'pull', '--project', project, '--dir', dir()]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).removed).toEqual([extra]);
    await expect(stat(path.join(dir(), extra))).rejects.toThrow(/ENOENT/);
  });
});
