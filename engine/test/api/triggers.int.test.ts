// Webhooks (token shown once, checked, rate limited, only declared params taken) and schedules
// (a real Temporal Schedule: created, described, triggered, refreshed on save, deleted).
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/store/tokens.store.js';
import type { InterpreterInput } from '../../src/model/plan.js';
import { generatePipeline, startApi, uniq, type ApiHarness, type Body } from './api-harness.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.stop());

const finished = (runId: string) =>
  api.h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});

const dayPipeline = (id: string) =>
  generatePipeline(id, {
    params: { day: { type: 'date', default: '2026-01-01' }, note: { type: 'string' } },
  });

async function pipelineWithHook(doc = dayPipeline(uniq('hook'))) {
  expect((await api.call('POST', '/api/pipelines', { body: doc })).status).toBe(201);
  const hook = await api.call('POST', `/api/pipelines/${doc.id}/webhooks`, { body: { name: 'crm' } });
  expect(hook.status).toBe(201);
  return { id: doc.id, hook: hook.body as { id: string; token: string; url: string } };
}

const runsOf = async (id: string) =>
  (await api.call('GET', `/api/runs?pipeline=${id}`)).body.items as unknown[];

describe('webhooks', () => {
  it('creates a webhook whose token is shown once and stored as a hash', async () => {
    const { id, hook } = await pipelineWithHook();
    expect(hook.url).toBe(`${api.base}/api/hooks/${hook.id}`);
    expect(hook.token).toMatch(/^whk_/);
    const list = await api.call('GET', `/api/pipelines/${id}/webhooks`);
    expect(list.body.items).toEqual([expect.objectContaining({ id: hook.id, name: 'crm', url: hook.url })]);
    expect(list.text).not.toContain(hook.token);
    const row = await api.h.platform.platformPool.query(
      'select token_hash from tributary.webhooks where id = $1',
      [hook.id],
    );
    expect(row.rows[0].token_hash).toBe(hashToken(hook.token));
  });

  it('starts a run with the body’s declared params only, as trigger webhook', async () => {
    const { id, hook } = await pipelineWithHook();
    const reply = await fetch(hook.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${hook.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ day: '2026-03-04', note: 'from crm', undeclared: 'ignored', nested: { a: 1 } }),
    });
    expect(reply.status).toBe(202);
    const started = (await reply.json()) as Body;
    await finished(started.runId);
    const run = await api.call('GET', `/api/runs/${started.runId}`);
    expect(run.body).toMatchObject({
      pipelineId: id,
      status: 'succeeded',
      params: { day: '2026-03-04', note: 'from crm' },
      trigger: { type: 'webhook', actor: `webhook:${hook.id}` },
    });
    expect(run.body.params).not.toHaveProperty('undeclared');
  });

  it('accepts the token as ?token= and an empty body (defaults apply)', async () => {
    const { hook } = await pipelineWithHook();
    const reply = await fetch(`${hook.url}?token=${encodeURIComponent(hook.token)}`, { method: 'POST' });
    expect(reply.status).toBe(202);
    const started = (await reply.json()) as Body;
    await finished(started.runId);
    expect((await api.call('GET', `/api/runs/${started.runId}`)).body.params).toEqual({
      day: '2026-01-01',
      note: null,
    });
  });

  it.each([
    ['a wrong token', { authorization: 'Bearer whk_wrong' }],
    ['no token', {}],
    ['an API token', 'api'],
  ])('answers %s with 401 and starts nothing', async (_label, headers) => {
    const { id, hook } = await pipelineWithHook();
    const auth = headers === 'api' ? { authorization: `Bearer ${api.admin}` } : headers;
    const reply = await fetch(hook.url, { method: 'POST', headers: auth as Record<string, string> });
    expect(reply.status).toBe(401);
    expect(((await reply.json()) as Body).detail).toContain(`webhook "${hook.id}"`);
    expect(await runsOf(id)).toEqual([]);
  });

  it('answers 400 for a body that is not an object or a param of the wrong type', async () => {
    const { id, hook } = await pipelineWithHook();
    const call = (body: string) =>
      fetch(hook.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${hook.token}`, 'content-type': 'application/json' },
        body,
      });
    expect((await call('[1, 2]')).status).toBe(400);
    const wrongType = await call(JSON.stringify({ day: 'tuesday' }));
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as Body).errors).toContainEqual(
      expect.objectContaining({ path: 'params.day' }),
    );
    expect(await runsOf(id)).toEqual([]);
  });

  it('takes 60 wrong tokens a minute per webhook by default, each a 401', async () => {
    const { hook } = await pipelineWithHook();
    const wrong = { method: 'POST', headers: { authorization: 'Bearer whk_guess' } };
    const statuses = await Promise.all(
      Array.from({ length: 60 }, () => fetch(hook.url, wrong).then((r) => r.status)),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
  });

  it('answers calls beyond the limit with 429 and Retry-After, starting nothing', async () => {
    // A slow refill (1 a minute) makes "beyond the limit" exact; the default refills 1 a second.
    const limited = await startApi({ hookRateLimit: { capacity: 2, perMinute: 1 } }, api.h);
    try {
      const { id, hook } = await pipelineWithHook();
      const url = `${limited.base}/api/hooks/${hook.id}`;
      const call = () => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${hook.token}` } });
      for (let i = 0; i < 2; i++) {
        const ok = await call();
        expect(ok.status).toBe(202);
        await finished(((await ok.json()) as Body).runId);
      }
      const refused = await call();
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(((await refused.json()) as Body).detail).toContain('called too often');
      expect(await runsOf(id)).toHaveLength(2);
      // Another webhook has its own bucket.
      const other = await pipelineWithHook();
      const ok = await fetch(`${limited.base}/api/hooks/${other.hook.id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${other.hook.token}` },
      });
      expect(ok.status).toBe(202);
      await finished(((await ok.json()) as Body).runId);
    } finally {
      await limited.stop();
    }
  });

  it('counts wrong tokens apart, so they cannot lock the caller with the right token out', async () => {
    const limited = await startApi(
      { hookRateLimit: { capacity: 1, perMinute: 1 }, hookAuthFailureLimit: { capacity: 3, perMinute: 1 } },
      api.h,
    );
    try {
      const { id, hook } = await pipelineWithHook();
      const url = `${limited.base}/api/hooks/${hook.id}`;
      const guess = () => fetch(url, { method: 'POST', headers: { authorization: 'Bearer whk_guess' } });
      for (let i = 0; i < 3; i++) expect((await guess()).status).toBe(401);
      const throttled = await guess();
      expect(throttled.status).toBe(429);
      expect(((await throttled.json()) as Body).detail).toContain('wrong tokens');
      expect(await runsOf(id)).toEqual([]);
      // The guesses used none of the right caller's calls.
      const ok = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${hook.token}` } });
      expect(ok.status).toBe(202);
      await finished(((await ok.json()) as Body).runId);
    } finally {
      await limited.stop();
    }
  });

  it('stops answering for a deleted webhook or a deleted pipeline (404)', async () => {
    const { id, hook } = await pipelineWithHook();
    expect((await api.call('DELETE', `/api/pipelines/${id}/webhooks/${hook.id}`)).status).toBe(204);
    expect(
      (await fetch(hook.url, { method: 'POST', headers: { authorization: `Bearer ${hook.token}` } })).status,
    ).toBe(404);
    expect((await api.call('DELETE', `/api/pipelines/${id}/webhooks/${hook.id}`)).status).toBe(404);
    const second = await pipelineWithHook();
    await api.call('DELETE', `/api/pipelines/${second.id}`);
    const gone = await fetch(second.hook.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${second.hook.token}` },
    });
    expect(gone.status).toBe(404);
    expect((await api.call('POST', '/api/hooks/hk_nosuchhook', { token: null, body: {} })).status).toBe(404);
  });
});

describe('schedules', () => {
  const describeSchedule = (id: string) =>
    api.h.platform.temporal.schedule.getHandle(`schedule-${id}`).describe();
  const inputOf = (d: Awaited<ReturnType<typeof describeSchedule>>) => d.action.args![0] as InterpreterInput;

  it('round-trips a schedule: created in Temporal, shown, triggered, refreshed on save, deleted', async () => {
    const id = uniq('sch');
    await api.call('POST', '/api/pipelines', { body: dayPipeline(id) });
    const put = await api.call('PUT', `/api/pipelines/${id}/schedule`, {
      body: { cron: '30 6 * * 1-5', timezone: 'Europe/Berlin', params: { note: 'nightly' } },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      scheduleId: `schedule-${id}`,
      cron: '30 6 * * 1-5',
      timezone: 'Europe/Berlin',
      params: { note: 'nightly' },
      paused: false,
      overlap: 'ALLOW_ALL',
      pipelineVersion: 1,
    });
    expect(put.body.nextRunTimes).toHaveLength(5);
    for (const t of put.body.nextRunTimes) expect(Date.parse(t)).toBeGreaterThan(Date.now());

    // In Temporal: the interpreter workflow on the worker's queue, with the compiled plan.
    const described = await describeSchedule(id);
    expect(described.action).toMatchObject({ workflowType: 'pipelineRun', taskQueue: api.h.taskQueue });
    expect(described.spec.timezone).toBe('Europe/Berlin');
    expect(inputOf(described)).toMatchObject({
      plan: { pipelineId: id, pipelineVersion: 1, params: { day: '2026-01-01', note: 'nightly' } },
      trigger: { type: 'schedule', actor: `schedule:${id}` },
    });
    expect((await api.call('GET', `/api/pipelines/${id}/schedule`)).body).toMatchObject({
      cron: '30 6 * * 1-5',
    });

    // Triggered now: a real run, listed with the pipeline's runs.
    const triggered = await api.call('POST', `/api/pipelines/${id}/schedule/trigger`);
    expect(triggered.status).toBe(202);
    expect(triggered.body.runId).toMatch(new RegExp(`^run-${id}-s[0-9a-f]{25}-`));
    await finished(triggered.body.runId);
    const run = await api.call('GET', `/api/runs/${encodeURIComponent(triggered.body.runId)}`);
    expect(run.body).toMatchObject({
      status: 'succeeded',
      params: { note: 'nightly' },
      trigger: { type: 'schedule', actor: `schedule:${id}` },
    });
    expect((await api.call('GET', `/api/pipelines/${id}/schedule`)).body.recentRuns).toEqual([
      expect.objectContaining({ runId: triggered.body.runId }),
    ]);

    // A new version moves the schedule onto it, with the overlap of its concurrency policy.
    const v2 = dayPipeline(id);
    v2.nodes[0]!.config.rows = 4;
    const saved = await api.call('PUT', `/api/pipelines/${id}`, {
      body: { ...v2, settings: { concurrency: 'queue' } },
    });
    expect(saved.body.schedule).toEqual({ refreshed: true, pipelineVersion: 2 });
    const refreshed = await describeSchedule(id);
    expect(inputOf(refreshed).plan).toMatchObject({ pipelineVersion: 2, steps: [{ config: { rows: 4 } }] });
    expect(refreshed.policies.overlap).toBe('BUFFER_ALL');

    // A draft that does not compile leaves the schedule on the last runnable version, and says so.
    const draft = await api.call('PUT', `/api/pipelines/${id}`, {
      body: { ...v2, nodes: [{ id: 'g', type: 'source.generate', config: {} }] },
    });
    expect(draft.body.schedule).toMatchObject({ refreshed: false, pipelineVersion: 2 });
    expect(draft.body.schedule.errors[0]).toMatchObject({ nodeId: 'g' });
    expect(inputOf(await describeSchedule(id)).plan.pipelineVersion).toBe(2);

    // Deleted: gone from Temporal and from the API.
    expect((await api.call('DELETE', `/api/pipelines/${id}/schedule`)).status).toBe(204);
    await expect(describeSchedule(id)).rejects.toBeInstanceOf(ScheduleNotFoundError);
    expect((await api.call('GET', `/api/pipelines/${id}/schedule`)).status).toBe(404);
    expect((await api.call('DELETE', `/api/pipelines/${id}/schedule`)).status).toBe(404);
    expect((await api.call('POST', `/api/pipelines/${id}/schedule/trigger`)).status).toBe(404);
  });

  it('pauses a schedule and maps "skip" to overlap SKIP', async () => {
    const id = uniq('sch');
    await api.call('POST', '/api/pipelines', {
      body: generatePipeline(id, { settings: { concurrency: 'skip' } }),
    });
    const put = await api.call('PUT', `/api/pipelines/${id}/schedule`, {
      body: { cron: '@hourly', paused: true },
    });
    expect(put.body).toMatchObject({ paused: true, overlap: 'SKIP', timezone: 'UTC' });
    const described = await describeSchedule(id);
    expect(described.state.paused).toBe(true);
    const resumed = await api.call('PUT', `/api/pipelines/${id}/schedule`, { body: { cron: '@hourly' } });
    expect(resumed.body.paused).toBe(false);
    expect((await describeSchedule(id)).state.paused).toBe(false);
    // Deleting the pipeline removes its schedule.
    await api.call('DELETE', `/api/pipelines/${id}`);
    await expect(describeSchedule(id)).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it.each([
    [{ cron: 'every day' }, 'cron'],
    [{ cron: '99 6 * * *' }, 'cron'],
    [{ cron: '0 6 * * *', timezone: 'Mars/Olympus' }, 'timezone'],
    [{ cron: '0 6 * * *', params: { note: 5 } }, 'params.note'],
    [{ cron: '0 6 * * *', params: { other: 'x' } }, 'params.other'],
    [{}, 'cron'],
  ])('refuses schedule %j with 400 naming %s', async (body, path) => {
    const id = uniq('sch');
    await api.call('POST', '/api/pipelines', { body: dayPipeline(id) });
    const reply = await api.call('PUT', `/api/pipelines/${id}/schedule`, { body });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toContainEqual(expect.objectContaining({ path }));
    await expect(describeSchedule(id)).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });
});
