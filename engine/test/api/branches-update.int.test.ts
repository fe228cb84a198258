// Bringing a branch up to date with main, over HTTP against the real API and Postgres: pipelines the
// branch did not change take main's latest version (new ones on main arrive, deleted ones leave); a
// pipeline changed on both sides is listed with both versions and needs a choice; without one (or
// with a stale one) nothing changes; a choice applies all of it at once, audited, and the merge then
// goes through. Tokens of another project, read-only tokens and no token change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, startApi, uniq, type ApiHarness, type Body } from './api-harness.js';

let api: ApiHarness;
const project = uniq('brup');
const other = uniq('brup-other');
// a: main moves on, the branch does not; b: both change; c: only the branch; d: deleted on main;
// e: made on main after the branch.
const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((p) => uniq(`up-${p}`)) as [
  string,
  string,
  string,
  string,
  string,
];

const doc = (id: string, rows: number) => ({
  ...generatePipeline(id),
  project,
  nodes: [
    {
      id: 'g',
      type: 'source.generate',
      config: { rows, columns: [{ name: 'n', generator: 'sequence' }] },
    },
  ],
});
const rowsOf = (body: Body): number => body.document.nodes[0].config.rows;
const update = (branch: string) => `/api/projects/${project}/branches/${branch}/update`;

async function ok(method: string, path: string, body?: unknown) {
  const reply = await api.call(method, path, body !== undefined ? { body } : {});
  expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBeLessThan(300);
  return reply.body;
}

/** The branch as it is: each pipeline's version, rows and relation to main (null: not in it). */
async function branchState(branch: string) {
  const state: Record<string, Body> = {};
  for (const id of [a, b, c, d, e]) {
    const got = await api.call('GET', `/api/pipelines/${id}?branch=${branch}`);
    state[id] =
      got.status === 200 ? { version: got.body.version, rows: rowsOf(got.body), ...got.body.branch } : null;
  }
  return state;
}

beforeAll(async () => {
  api = await startApi();
  for (const id of [project, other]) await ok('POST', '/api/projects', { id, name: id });
  for (const id of [a, b, c, d]) await ok('POST', '/api/pipelines', doc(id, 1));
  await ok('POST', `/api/projects/${project}/branches`, { name: 'dev' });
  await ok('POST', `/api/projects/${project}/branches`, { name: 'alt' });
  await ok('PUT', `/api/pipelines/${b}?branch=dev`, doc(b, 20));
  await ok('PUT', `/api/pipelines/${c}?branch=dev`, doc(c, 30));
  await ok('PUT', `/api/pipelines/${b}?branch=alt`, doc(b, 40));
  await ok('PUT', `/api/pipelines/${c}?branch=alt`, doc(c, 50));
  await ok('PUT', `/api/pipelines/${a}`, doc(a, 2));
  await ok('PUT', `/api/pipelines/${b}`, doc(b, 2));
  await ok('DELETE', `/api/pipelines/${d}`);
  await ok('POST', '/api/pipelines', doc(e, 5));
});
afterAll(async () => {
  await api?.stop();
});

describe('bringing a branch up to date with main', () => {
  it('lists what would follow main, and each pipeline changed on both sides with both versions', async () => {
    const preview = await api.call('GET', update('dev'));
    expect(preview.status).toBe(200);
    expect(preview.body.upToDate).toBe(false);
    expect(preview.body.changes).toEqual(
      expect.arrayContaining([
        { pipelineId: a, change: 'updated', baseVersion: 1, mainVersion: 2 },
        { pipelineId: d, change: 'removed', baseVersion: 1, mainVersion: null },
        { pipelineId: e, change: 'added', baseVersion: null, mainVersion: 1 },
      ]),
    );
    expect(preview.body.changes).toHaveLength(3);
    expect(preview.body.conflicts).toHaveLength(1);
    const [conflict] = preview.body.conflicts;
    expect(conflict).toMatchObject({ pipelineId: b, baseVersion: 1, mainVersion: 2, branchVersion: 2 });
    expect(rowsOf({ document: conflict.main })).toBe(2);
    expect(rowsOf({ document: conflict.branch })).toBe(20);
    expect(conflict.diff.nodes.changed).toEqual([
      expect.objectContaining({
        id: 'g',
        changes: [expect.objectContaining({ path: 'config.rows', from: 2, to: 20 })],
      }),
    ]);
  });

  it('without a choice for each conflict it answers 409 listing them, and changes nothing', async () => {
    const before = await branchState('dev');
    expect(before).toMatchObject({ [a]: { version: 1, rows: 1 }, [e]: null, [d]: { rows: 1 } });
    const refused = await api.call('POST', update('dev'), { body: {} });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.errors).toEqual([
      expect.objectContaining({
        path: `choices.${b}`,
        code: 'update_conflict',
        message: expect.stringContaining('main is at version 2, the branch started from version 1'),
      }),
    ]);
    // A choice made over a main version that is no longer main's is refused the same way.
    const stale = await api.call('POST', update('dev'), {
      body: { choices: { [b]: { take: 'branch', mainVersion: 1 } } },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.errors[0]).toMatchObject({ path: `choices.${b}`, code: 'stale_choice' });
    // A choice for a pipeline that is not in conflict is a 400 naming it.
    const needless = await api.call('POST', update('dev'), {
      body: { choices: { [b]: { take: 'branch', mainVersion: 2 }, [c]: { take: 'main', mainVersion: 1 } } },
    });
    expect(needless.status).toBe(400);
    expect(needless.body.errors).toEqual([expect.objectContaining({ path: `choices.${c}` })]);
    expect(await branchState('dev')).toEqual(before);
  });

  it('a token of another project, a read-only token and no token change nothing', async () => {
    const before = await branchState('dev');
    const body = { choices: { [b]: { take: 'main', mainVersion: 2 } } };
    const foreign = await api.token(['read', 'write', 'run'], [other]);
    for (const method of ['GET', 'POST']) {
      const reply = await api.call(method, update('dev'), { token: foreign, body });
      expect(reply.status, method).toBe(403);
      expect(reply.body.detail).toContain(`project "${project}"`);
      expect((await api.call(method, update('dev'), { token: null, body })).status, method).toBe(401);
    }
    const readOnly = await api.token(['read'], [project]);
    expect((await api.call('GET', update('dev'), { token: readOnly })).status).toBe(200);
    expect((await api.call('POST', update('dev'), { token: readOnly, body })).status).toBe(403);
    expect(await branchState('dev')).toEqual(before);
    const audit = await api.call('GET', `/api/audit?project=${project}&action=branch.updated`);
    expect(audit.body.items).toEqual([]);
  });

  it("with a choice applies everything at once: untouched pipelines take main's, the branch's change stays", async () => {
    const updated = await api.call('POST', update('dev'), {
      body: { choices: { [b]: { take: 'branch', mainVersion: 2 } } },
    });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.applied).toEqual(
      expect.arrayContaining([
        { pipelineId: a, change: 'updated', baseVersion: 1, mainVersion: 2 },
        { pipelineId: d, change: 'removed', baseVersion: 1, mainVersion: null },
        { pipelineId: e, change: 'added', baseVersion: null, mainVersion: 1 },
        { pipelineId: b, change: 'kept-branch', baseVersion: 1, mainVersion: 2 },
      ]),
    );
    expect(await branchState('dev')).toEqual({
      [a]: { version: 2, rows: 2, name: 'dev', baseVersion: 2, mainVersion: 2, changed: false },
      [b]: { version: 3, rows: 20, name: 'dev', baseVersion: 2, mainVersion: 2, changed: true },
      [c]: { version: 2, rows: 30, name: 'dev', baseVersion: 1, mainVersion: 1, changed: true },
      [d]: null,
      [e]: { version: 1, rows: 5, name: 'dev', baseVersion: 1, mainVersion: 1, changed: false },
    });
    const listed = await api.call('GET', `/api/pipelines?branch=dev&project=${project}`);
    expect(listed.body.items.map((p: Body) => p.id).sort()).toEqual([a, b, c, e].sort());
    expect((await api.call('GET', update('dev'))).body).toEqual({
      upToDate: true,
      changes: [],
      conflicts: [],
    });

    const audit = await api.call('GET', `/api/audit?project=${project}&action=branch.updated`);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        target: `branch:${project}/dev`,
        summary: {
          pipelines: {
            [a]: { change: 'updated', from: 1, to: 2 },
            [b]: { change: 'kept-branch', from: 1, to: 2 },
            [d]: { change: 'removed', from: 1, to: null },
            [e]: { change: 'added', from: null, to: 1 },
          },
        },
      }),
    ]);

    // The merge that was refused before the update now goes through with the branch's version.
    const merged = await api.call('POST', `/api/projects/${project}/branches/dev/merge`, { body: {} });
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    expect(merged.body.merged).toEqual(
      expect.arrayContaining([
        { pipelineId: b, version: 3, created: false },
        { pipelineId: c, version: 2, created: false },
      ]),
    );
    expect(rowsOf((await api.call('GET', `/api/pipelines/${b}`)).body)).toBe(20);
  });

  it("taking main's version drops the branch's change to that pipeline", async () => {
    // main is at b v3 and c v2 now (the merge of dev); alt changed both over v1 otherwise.
    const preview = (await api.call('GET', update('alt'))).body;
    expect(preview.conflicts.map((x: Body) => [x.pipelineId, x.mainVersion])).toEqual(
      expect.arrayContaining([
        [b, 3],
        [c, 2],
      ]),
    );
    const choices = Object.fromEntries(
      preview.conflicts.map((x: Body) => [x.pipelineId, { take: 'main', mainVersion: x.mainVersion }]),
    );
    const updated = await api.call('POST', update('alt'), { body: { choices } });
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    const state = await branchState('alt');
    expect(state[b]).toMatchObject({ rows: 20, baseVersion: 3, changed: false });
    expect(state[c]).toMatchObject({ rows: 30, baseVersion: 2, changed: false });
    expect(state[a]).toMatchObject({ rows: 2, baseVersion: 2, changed: false });
    const diff = await api.call('GET', `/api/projects/${project}/branches/alt/diff`);
    expect(diff.body.pipelines).toEqual([]);
  });

  it('refuses malformed choices with a 400 naming the field, and changes nothing', async () => {
    const before = await branchState('alt');
    const bad: [unknown, string][] = [
      [{ choices: { [b]: { take: 'sideways', mainVersion: 2 } } }, `choices.${b}.take`],
      [{ choices: { [b]: { take: 'main' } } }, `choices.${b}.mainVersion`],
      [{ choices: [] }, 'choices'],
      [{ choices: {}, force: true }, ''],
    ];
    for (const [body, path] of bad) {
      const reply = await api.call('POST', update('alt'), { body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.headers.get('content-type')).toContain('application/problem+json');
      if (path) expect(reply.body.errors.map((e: Body) => e.path)).toContain(path);
    }
    expect(
      (await api.call('POST', `/api/projects/${project}/branches/Not_A_Branch/update`, { body: {} })).status,
    ).toBe(400);
    expect(await branchState('alt')).toEqual(before);
  });

  it('answers 404 for a branch that does not exist', async () => {
    expect((await api.call('GET', update('nope'))).status).toBe(404);
    expect((await api.call('POST', update('nope'), { body: {} })).status).toBe(404);
  });
});
