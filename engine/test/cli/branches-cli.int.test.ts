// `tributary --branch` as a person or CI uses it: the real CLI in a subprocess against a real API,
// Postgres and Temporal. pull --branch → edit SQL → push --branch saves the branch's copy (main
// untouched); run --branch --wait runs it there, writing the branch's schema and not main's, every
// line naming the branch; `branch update` brings the branch up to date with main, asking for a
// choice on a pipeline changed on both sides.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, uniq, type ApiHarness } from '../api/api-harness.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const CLI = path.join(ROOT, 'engine/src/cli/tributary.ts');

let api: ApiHarness;
let home: string;
let work: string;
const project = uniq('brcli');
const schema = projectSchemaName(project);
const pipelineId = uniq('tally');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: path.join(home, 'config') },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const dir = () => path.join(work, 'pipelines');
const sqlFile = () => path.join(dir(), pipelineId, 'kept.sql');

const rowsIn = async (table: string): Promise<number | null> => {
  const pool = api.h.platform.warehousePool;
  const { rows } = await pool.query<{ t: string | null }>('select to_regclass($1)::text as t', [table]);
  if (!rows[0]!.t) return null;
  return Number((await pool.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n);
};

beforeAll(async () => {
  api = await startApi();
  home = await mkdtemp(path.join(os.tmpdir(), 'tributary-brcli-home-'));
  work = await mkdtemp(path.join(os.tmpdir(), 'tributary-brcli-work-'));
  expect(
    (await api.call('POST', '/api/projects', { body: { id: project, name: 'Branch CLI' } })).status,
  ).toBe(201);
  const created = await api.call('POST', '/api/pipelines', {
    body: {
      apiVersion: 'tributary/v1',
      id: pipelineId,
      name: 'Tally',
      project,
      nodes: [
        {
          id: 'numbers',
          type: 'source.generate',
          config: { rows: 6, columns: [{ name: 'n', generator: 'sequence' }] },
        },
        { id: 'kept', type: 'transform.sql', config: { sql: 'select n from {{ inputs.numbers }}' } },
        { id: 'out', type: 'sink.postgres', config: { table: 'tally', mode: 'replace' } },
      ],
      edges: [
        { from: 'numbers', to: 'kept' },
        { from: 'kept', to: 'out' },
      ],
    },
  });
  expect(created.status).toBe(201);
  expect(
    (await api.call('POST', `/api/projects/${project}/branches`, { body: { name: 'try-odd' } })).status,
  ).toBe(201);
  const login = await cli([
    'login',
    '--url',
    api.base,
    '--token',
    await api.token(['read', 'write', 'run'], [project]),
  ]);
  expect(login.code).toBe(0);
});

afterAll(async () => {
  await api?.h.platform.warehousePool.query(`drop schema if exists ${schema}__try_odd cascade`);
  await api?.stop();
  await Promise.all([home, work].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

describe('tributary --branch', () => {
  it('push --branch saves the branch copy only; run --branch --wait runs it into the branch schema', async () => {
    const pulled = await cli(['pull', '--project', project, '--dir', dir(), '--branch', 'try-odd']);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    const state = JSON.parse(await readFile(path.join(dir(), '.tributary/state.json'), 'utf8'));
    expect(state).toMatchObject({ project, branch: 'try-odd' });

    await writeFile(sqlFile(), 'select n from {{ inputs.numbers }}\nwhere n % 2 = 1\n');
    const pushed = await cli(['push', '--dir', dir(), '--branch', 'try-odd']);
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain(`${pipelineId}: pushed version 2 in branch "try-odd" (was 1)`);

    const main = await api.call('GET', `/api/pipelines/${pipelineId}`);
    expect(main.body.version).toBe(1);
    expect(main.body.document.nodes[1].config.sql).toBe('select n from {{ inputs.numbers }}');
    const copy = await api.call('GET', `/api/pipelines/${pipelineId}?branch=try-odd`);
    expect(copy.body.document.nodes[1].config.sql).toBe(
      'select n from {{ inputs.numbers }}\nwhere n % 2 = 1',
    );

    const ran = await cli(['run', pipelineId, '--branch', 'try-odd', '--wait']);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(
      new RegExp(
        `^Started run (run-${pipelineId}-\\S+) of ${pipelineId} version 2 in branch "try-odd"$`,
        'm',
      ),
    );
    expect(ran.stdout).toMatch(/^ {2}kept +succeeded +6 rows in, 3 rows out.* {2}in branch "try-odd"$/m);
    expect(ran.stdout).toMatch(/^Run run-\S+ succeeded in \d+\.\d s in branch "try-odd"$/m);
    // Every line about the run names the branch: start, each step, the end.
    const lines = ran.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) expect(line).toMatch(/ in branch "try-odd"$/);
    // Only the branch's schema was written; main has no tally at all.
    expect(await rowsIn(`${schema}__try_odd.tally`)).toBe(3);
    expect(await rowsIn(`${schema}.tally`)).toBeNull();

    const status = await cli(['--json', 'status', '--dir', dir()]);
    expect(JSON.parse(status.stdout).pipelines).toEqual([
      expect.objectContaining({ id: pipelineId, local: 'unchanged', remote: 'unchanged', pulledVersion: 2 }),
    ]);
  });

  it("run in a folder pulled from a branch runs the branch's copy, and says so", async () => {
    // No --branch: the folder's state names the branch it was pulled from.
    const ran = await cli(['run', pipelineId, '--dir', dir(), '--wait']);
    expect(ran.stderr).toBe('');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toMatch(
      new RegExp(`^Started run \\S+ of ${pipelineId} version 2 in branch "try-odd"$`, 'm'),
    );
    const runId = /^Started run (\S+)/m.exec(ran.stdout)![1]!;
    expect((await api.call('GET', `/api/runs/${runId}`)).body.branch).toBe('try-odd');
    // Out of the folder it is main's, and the line says that too.
    const onMain = await cli(['run', pipelineId, '--wait']);
    expect(onMain.stdout).toMatch(new RegExp(`^Started run \\S+ of ${pipelineId} version 1 on main$`, 'm'));
    expect(onMain.stdout).toMatch(/^ {2}kept +succeeded +6 rows in, 6 rows out.* {2}on main$/m);
    for (const line of onMain.stdout.trimEnd().split('\n')) expect(line).toMatch(/ on main$/);
  });

  it('run --branch of a branch that does not exist says so (exit 1)', async () => {
    const ran = await cli(['run', pipelineId, '--branch', 'nope']);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('Branch "nope" of project');
  });

  it("branch update takes main's new pipelines and asks for a choice on one changed on both sides", async () => {
    // main moves on: the pipeline the branch changed gets a version 2, and a new pipeline appears.
    const changed = await api.call('PUT', `/api/pipelines/${pipelineId}`, {
      body: {
        ...(await api.call('GET', `/api/pipelines/${pipelineId}`)).body.document,
        name: 'Tally on main',
      },
    });
    expect(changed.status).toBe(200);
    const later = uniq('later');
    const made = await api.call('POST', '/api/pipelines', {
      body: {
        apiVersion: 'tributary/v1',
        id: later,
        name: 'Later',
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
    expect(made.status).toBe(201);

    // In the folder pulled from the branch, no name or project is needed.
    const refused = await cli(['branch', 'update', '--dir', dir()]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(
      new RegExp(
        `^ {2}${later} +made on main, comes into the branch \\(main version – → 1\\) in branch "try-odd"$`,
        'm',
      ),
    );
    expect(refused.stdout).toMatch(
      new RegExp(
        `^ {2}${pipelineId} +changed on both sides: main is at version 2, the branch's is version 2 \\(from main version 1\\) in branch "try-odd"$`,
        'm',
      ),
    );
    expect(refused.stderr).toContain(`Nothing updated in branch "try-odd"`);
    expect(refused.stderr).toContain(`--keep-branch ID or --take-main ID (${pipelineId})`);
    expect((await api.call('GET', `/api/pipelines/${later}?branch=try-odd`)).status).toBe(404);

    const updated = await cli([
      'branch',
      'update',
      'try-odd',
      '--project',
      project,
      '--keep-branch',
      pipelineId,
    ]);
    expect(updated.stderr).toBe('');
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain(
      `Updated branch "try-odd" of ${project} from main: 2 pipeline(s) in branch "try-odd"`,
    );
    expect(updated.stdout).toMatch(
      new RegExp(
        `^ {2}${pipelineId} +kept the branch's version, now over main's latest \\(main version 1 → 2\\) in branch "try-odd"$`,
        'm',
      ),
    );
    const copy = await api.call('GET', `/api/pipelines/${pipelineId}?branch=try-odd`);
    expect(copy.body.branch).toMatchObject({ baseVersion: 2, changed: true });
    expect(copy.body.document.nodes[1].config.sql).toContain('n % 2 = 1');
    expect((await api.call('GET', `/api/pipelines/${later}?branch=try-odd`)).status).toBe(200);

    const again = await cli(['branch', 'update', '--dir', dir()]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('is up to date with main; nothing to update in branch "try-odd"');
  });
});
