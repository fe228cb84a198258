// Drafts and publishing over HTTP on the real stack: the editor's draft is saved, read, discarded
// and published (409 on a stale version, 400 when it does not compile); a draft run is marked so in
// the run and its audit trail; triggers keep running the published version; another project's
// token can neither see nor write a draft.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, startApi, uniq, type ApiHarness } from './api-harness.js';

let api: ApiHarness;
const projectA = uniq('drafts-a');
const projectB = uniq('drafts-b');
beforeAll(async () => {
  api = await startApi();
  for (const id of [projectA, projectB])
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
});
afterAll(async () => api?.stop());

/** A one-node pipeline of project A that generates `rows` rows. */
const rowsPipeline = (id: string, rows: number) =>
  generatePipeline(id, {
    project: projectA,
    nodes: [
      { id: 'g', type: 'source.generate', config: { rows, columns: [{ name: 'n', generator: 'sequence' }] } },
    ],
  });

const create = async (id: string, rows = 3) => {
  expect((await api.call('POST', '/api/pipelines', { body: rowsPipeline(id, rows) })).status).toBe(201);
  return id;
};

const finished = (runId: string) =>
  api.h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});

describe('drafts', () => {
  it('saves, reads and discards a draft without making a version', async () => {
    const id = await create(uniq('draft'));
    expect((await api.call('GET', `/api/pipelines/${id}`)).body.draft).toBeNull();
    const none = await api.call('GET', `/api/pipelines/${id}/draft`);
    expect(none.status).toBe(404);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.body.detail).toContain(`PUT /api/pipelines/${id}/draft`);

    const put = await api.call('PUT', `/api/pipelines/${id}/draft`, { body: rowsPipeline(id, 5) });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      pipelineId: id,
      baseVersion: 1,
      updatedBy: expect.any(String),
      valid: true,
    });
    expect(put.body.document.nodes[0].config.rows).toBe(5);

    const pipeline = await api.call('GET', `/api/pipelines/${id}`);
    expect(pipeline.body.version).toBe(1);
    expect(pipeline.body.document.nodes[0].config.rows).toBe(3);
    expect(pipeline.body.draft).toEqual({
      baseVersion: 1,
      updatedBy: put.body.updatedBy,
      updatedAt: put.body.updatedAt,
    });
    expect((await api.call('GET', `/api/pipelines/${id}/versions`)).body.items).toHaveLength(1);
    expect((await api.call('GET', `/api/pipelines/${id}/draft`)).body.document).toEqual(put.body.document);

    // An autosave of a graph that does not compile yet is kept, and says what is wrong.
    const broken = rowsPipeline(id, 5);
    broken.nodes.push({ id: 'q', type: 'transform.sql', config: { sql: 'select 1' } } as never);
    const saved = await api.call('PUT', `/api/pipelines/${id}/draft`, { body: broken });
    expect(saved.status).toBe(200);
    expect(saved.body.valid).toBe(false);
    expect(saved.body.errors[0]).toMatchObject({ nodeId: 'q' });

    expect((await api.call('DELETE', `/api/pipelines/${id}/draft`)).status).toBe(204);
    expect((await api.call('GET', `/api/pipelines/${id}/draft`)).status).toBe(404);
    expect((await api.call('DELETE', `/api/pipelines/${id}/draft`)).status).toBe(404);
    expect((await api.call('GET', `/api/pipelines/${id}`)).body.draft).toBeNull();
    const audit = await api.call('GET', `/api/audit?project=${projectA}&action=pipeline.draft_discarded`);
    expect(audit.body.items).toEqual([expect.objectContaining({ target: `pipeline:${id}` })]);
  });

  it('changes the ETag of GET /pipelines/{id} when a draft is saved or discarded, so a revalidation sees it', async () => {
    const id = await create(uniq('draft-etag'));
    const first = await api.call('GET', `/api/pipelines/${id}`);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    const etag = first.headers.get('etag')!;
    // As a browser revalidates (fetch() itself would add "no-cache" to a conditional request).
    const revalidate = (tag: string) => ({ 'if-none-match': tag, 'cache-control': 'max-age=0' });
    expect(etag).toMatch(/^"1-[\w-]+"$/);
    // Nothing changed: the browser's revalidation may keep what it has.
    expect((await api.call('GET', `/api/pipelines/${id}`, { headers: revalidate(etag) })).status).toBe(304);

    expect((await api.call('PUT', `/api/pipelines/${id}/draft`, { body: rowsPipeline(id, 5) })).status).toBe(
      200,
    );
    const withDraft = await api.call('GET', `/api/pipelines/${id}`, { headers: revalidate(etag) });
    expect(withDraft.status).toBe(200);
    expect(withDraft.body.draft).toMatchObject({ baseVersion: 1 });
    const draftEtag = withDraft.headers.get('etag')!;
    expect(draftEtag).not.toBe(etag);
    expect(draftEtag.startsWith('"1-')).toBe(true);

    expect((await api.call('DELETE', `/api/pipelines/${id}/draft`)).status).toBe(204);
    const discarded = await api.call('GET', `/api/pipelines/${id}`, {
      headers: { 'if-none-match': draftEtag },
    });
    expect(discarded.status).toBe(200);
    expect(discarded.body.draft).toBeNull();
    expect(discarded.headers.get('etag')).toBe(etag);

    // The ETag is also what a save may send as If-Match (its version leads).
    const saved = await api.call('PUT', `/api/pipelines/${id}`, {
      body: rowsPipeline(id, 7),
      headers: { 'if-match': draftEtag },
    });
    expect(saved.status).toBe(200);
    const stale = await api.call('PUT', `/api/pipelines/${id}`, {
      body: rowsPipeline(id, 8),
      headers: { 'if-match': draftEtag },
    });
    expect(stale.status).toBe(409);
  });

  it('refuses a draft naming another pipeline or project, naming the field', async () => {
    const id = await create(uniq('draft-shape'));
    const otherId = await api.call('PUT', `/api/pipelines/${id}/draft`, {
      body: rowsPipeline('elsewhere', 1),
    });
    expect(otherId.status).toBe(400);
    expect(otherId.body.errors).toEqual([expect.objectContaining({ path: 'id' })]);
    const moved = await api.call('PUT', `/api/pipelines/${id}/draft`, {
      body: { ...rowsPipeline(id, 1), project: projectB },
    });
    expect(moved.status).toBe(400);
    expect(moved.body.errors).toEqual([expect.objectContaining({ path: 'project' })]);
    const malformed = await api.call('PUT', `/api/pipelines/${id}/draft`, { body: { id, nodes: 'no' } });
    expect(malformed.status).toBe(400);
    expect((await api.call('GET', `/api/pipelines/${id}/draft`)).status).toBe(404);
  });

  it('publishes the draft as the next version: 404 without one, 400 when it does not compile, 409 when stale', async () => {
    const id = await create(uniq('publish'));
    const without = await api.call('POST', `/api/pipelines/${id}/publish`, { body: {} });
    expect(without.status).toBe(404);

    const broken = rowsPipeline(id, 5);
    const brokenDoc = { ...broken, edges: [{ from: 'g', to: 'nowhere' }] };
    expect((await api.call('PUT', `/api/pipelines/${id}/draft`, { body: brokenDoc })).status).toBe(200);
    const refused = await api.call('POST', `/api/pipelines/${id}/publish`, { body: {} });
    expect(refused.status).toBe(400);
    expect(refused.body.detail).toContain('does not compile');
    expect(refused.body.errors.length).toBeGreaterThan(0);

    expect((await api.call('PUT', `/api/pipelines/${id}/draft`, { body: rowsPipeline(id, 5) })).status).toBe(
      200,
    );
    const stale = await api.call('POST', `/api/pipelines/${id}/publish`, { body: { expectedVersion: 7 } });
    expect(stale.status).toBe(409);
    expect(stale.body.detail).toContain('is at version 1, not 7: someone published');
    expect((await api.call('GET', `/api/pipelines/${id}/draft`)).status).toBe(200);

    const published = await api.call('POST', `/api/pipelines/${id}/publish`, {
      body: { expectedVersion: 1, message: 'five rows' },
    });
    expect(published.status).toBe(200);
    expect(published.headers.get('etag')).toMatch(/^"2-[\w-]+"$/);
    expect(published.body).toMatchObject({ version: 2, created: true, valid: true });
    expect(published.body.document.nodes[0].config.rows).toBe(5);
    expect((await api.call('GET', `/api/pipelines/${id}/draft`)).status).toBe(404);
    expect((await api.call('GET', `/api/pipelines/${id}`)).body).toMatchObject({ version: 2, draft: null });
    // The note is kept with the version, for History.
    const versions = await api.call('GET', `/api/pipelines/${id}/versions`);
    expect(versions.body.items.map((v: { message: string | null }) => v.message)).toEqual([
      'five rows',
      null,
    ]);
    expect((await api.call('GET', `/api/pipelines/${id}/versions/2`)).body.message).toBe('five rows');
    const audit = await api.call('GET', `/api/audit?project=${projectA}&action=pipeline.published`);
    expect(audit.body.items).toEqual([
      expect.objectContaining({
        target: `pipeline:${id}`,
        summary: { baseVersion: 1, message: 'five rows', version: 2, fromVersion: 1 },
      }),
    ]);
  });

  it('removes the draft when the pipeline is deleted', async () => {
    const id = await create(uniq('draft-del'));
    expect((await api.call('PUT', `/api/pipelines/${id}/draft`, { body: rowsPipeline(id, 5) })).status).toBe(
      200,
    );
    expect((await api.call('DELETE', `/api/pipelines/${id}`)).status).toBe(204);
    const rows = await api.h.platform.platformPool.query(
      'select 1 from tributary.pipeline_drafts where pipeline_id = $1',
      [id],
    );
    expect(rows.rowCount).toBe(0);
    expect((await api.call('GET', `/api/pipelines/${id}/draft`)).status).toBe(404);
  });

  it("keeps a project's draft invisible and unwritable to a token limited to another project", async () => {
    const id = await create(uniq('draft-fence'));
    expect((await api.call('PUT', `/api/pipelines/${id}/draft`, { body: rowsPipeline(id, 5) })).status).toBe(
      200,
    );
    const before = (await api.call('GET', `/api/pipelines/${id}/draft`)).body;
    const token = await api.token(['read', 'write', 'run'], [projectB]);
    const attempts = [
      api.call('GET', `/api/pipelines/${id}/draft`, { token }),
      api.call('PUT', `/api/pipelines/${id}/draft`, { token, body: rowsPipeline(id, 9) }),
      api.call('DELETE', `/api/pipelines/${id}/draft`, { token }),
      api.call('POST', `/api/pipelines/${id}/publish`, { token, body: {} }),
      api.call('POST', `/api/pipelines/${id}/runs`, { token, body: { draft: true } }),
      api.call('GET', `/api/pipelines/${id}`, { token }),
    ];
    for (const reply of await Promise.all(attempts)) {
      expect(reply.status).toBe(403);
      expect(reply.body.detail).toContain(`for project "${projectA}"`);
      expect(JSON.stringify(reply.body)).not.toContain('"rows"');
    }
    // Nothing changed: the same draft, no new version, no run.
    expect((await api.call('GET', `/api/pipelines/${id}/draft`)).body).toEqual(before);
    expect((await api.call('GET', `/api/pipelines/${id}`)).body.version).toBe(1);
    expect((await api.call('GET', `/api/runs?pipeline=${id}`)).body.items).toEqual([]);
  });
});

describe('draft runs', () => {
  it('runs the draft and says so in the run, the run list and the audit trail', async () => {
    const id = await create(uniq('draft-run'));
    expect((await api.call('POST', `/api/pipelines/${id}/runs`, { body: { draft: true } })).status).toBe(404);
    expect((await api.call('PUT', `/api/pipelines/${id}/draft`, { body: rowsPipeline(id, 5) })).status).toBe(
      200,
    );
    const both = await api.call('POST', `/api/pipelines/${id}/runs`, { body: { draft: true, version: 1 } });
    expect(both.status).toBe(400);
    expect(both.body.errors[0]).toMatchObject({ path: 'draft' });

    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: { draft: true } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ pipelineVersion: 1, draft: true });
    await finished(started.body.runId);
    const run = await api.call('GET', `/api/runs/${started.body.runId}`);
    expect(run.body).toMatchObject({ status: 'succeeded', draft: true, rerunOf: null, pipelineVersion: 1 });
    expect(run.body.steps.g.rowsOut).toBe(5);

    const published = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    expect(published.body.draft).toBe(false);
    await finished(published.body.runId);
    expect((await api.call('GET', `/api/runs/${published.body.runId}`)).body).toMatchObject({
      draft: false,
      steps: { g: { rowsOut: 3 } },
    });

    const list = await api.call('GET', `/api/runs?pipeline=${id}`);
    const drafts = Object.fromEntries(
      list.body.items.map((r: { runId: string; draft: boolean }) => [r.runId, r.draft]),
    );
    expect(drafts).toEqual({ [started.body.runId]: true, [published.body.runId]: false });

    const trail = await api.call('GET', `/api/runs/${started.body.runId}/audit`);
    expect(trail.body.draft).toBe(true);
    const requested = trail.body.events.find((e: { type: string }) => e.type === 'run.requested');
    expect(requested.details.draft).toBe(true);
    expect(requested.message).toContain(`Run of the draft of pipeline "${id}" (based on version 1)`);
    const plain = await api.call('GET', `/api/runs/${published.body.runId}/audit`);
    expect(plain.body.draft).toBe(false);
  });

  it('keeps schedules and webhooks on the published version while a draft exists', async () => {
    const id = await create(uniq('draft-sched'));
    expect(
      (await api.call('PUT', `/api/pipelines/${id}/schedule`, { body: { cron: '0 6 * * *' } })).status,
    ).toBe(200);
    expect((await api.call('PUT', `/api/pipelines/${id}/draft`, { body: rowsPipeline(id, 7) })).status).toBe(
      200,
    );

    const triggered = await api.call('POST', `/api/pipelines/${id}/schedule/trigger`);
    expect(triggered.status).toBe(202);
    await finished(triggered.body.runId);
    const scheduled = await api.call('GET', `/api/runs/${encodeURIComponent(triggered.body.runId)}`);
    expect(scheduled.body).toMatchObject({
      status: 'succeeded',
      draft: false,
      pipelineVersion: 1,
      trigger: { type: 'schedule' },
      steps: { g: { rowsOut: 3 } },
    });

    const hook = await api.call('POST', `/api/pipelines/${id}/webhooks`, { body: {} });
    expect(hook.status).toBe(201);
    const called = await fetch(hook.body.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${hook.body.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(called.status).toBe(202);
    const hookRun = (await called.json()) as { runId: string };
    await finished(hookRun.runId);
    expect((await api.call('GET', `/api/runs/${hookRun.runId}`)).body).toMatchObject({
      draft: false,
      steps: { g: { rowsOut: 3 } },
    });

    // Publishing moves the schedule onto the new version.
    const published = await api.call('POST', `/api/pipelines/${id}/publish`, { body: {} });
    expect(published.body.schedule).toEqual({ refreshed: true, pipelineVersion: 2 });
  });
});
