// Params marked `sensitive` are redacted in every API answer, not only in audit output: run detail
// (params and step errors that quote them), the run list, the event stream, schedules and 400s.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED } from '../../src/model/redact.js';
import { generatePipeline, startApi, uniq, type ApiHarness } from './api-harness.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.stop());

const SECRET = 'hunter2-very-secret';

/** A pipeline whose SQL step fails quoting the sensitive param (it is not an integer). */
const leakyPipeline = (id: string) =>
  generatePipeline(id, {
    params: { apiKey: { type: 'string', sensitive: true }, region: { type: 'string', default: 'eu' } },
    nodes: [
      {
        id: 'g',
        type: 'source.generate',
        config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
      },
      {
        id: 'cast',
        type: 'transform.sql',
        config: { sql: 'select {{ params.apiKey }}::integer as k from {{ inputs.g }}' },
      },
    ],
    edges: [{ from: 'g', to: 'cast' }],
  });

describe('sensitive params', () => {
  it('are redacted in the run detail, its step errors, the run list and the event stream', async () => {
    const id = uniq('sensitive');
    expect((await api.call('POST', '/api/pipelines', { body: leakyPipeline(id) })).status).toBe(201);
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, {
      body: { params: { apiKey: SECRET } },
    });
    expect(started.status).toBe(202);
    await api.h.platform.temporal.workflow
      .getHandle(started.body.runId)
      .result()
      .catch(() => {});

    const run = await api.call('GET', `/api/runs/${started.body.runId}`);
    expect(run.body.status).toBe('failed');
    expect(run.body.params).toEqual({ apiKey: REDACTED, region: 'eu' });
    expect(run.body.steps.cast.error).toContain(REDACTED);
    expect(run.text).not.toContain(SECRET);

    const list = await api.call('GET', `/api/runs?pipeline=${id}`);
    expect(list.body.items).toHaveLength(1);
    expect(list.text).not.toContain(SECRET);

    const events = await api.call('GET', `/api/runs/${started.body.runId}/events`);
    expect(events.text).toContain('event: progress');
    expect(events.text).not.toContain(SECRET);

    const audit = await api.call('GET', `/api/runs/${started.body.runId}/audit`);
    expect(audit.status).toBe(200);
    expect(audit.text).not.toContain(SECRET);
  });

  it('are redacted in the schedule, as set and as read', async () => {
    const id = uniq('sensitive-s');
    expect((await api.call('POST', '/api/pipelines', { body: leakyPipeline(id) })).status).toBe(201);
    const put = await api.call('PUT', `/api/pipelines/${id}/schedule`, {
      body: { cron: '0 6 * * *', params: { apiKey: SECRET }, paused: true },
    });
    expect(put.status).toBe(200);
    expect(put.body.params).toEqual({ apiKey: REDACTED });
    const get = await api.call('GET', `/api/pipelines/${id}/schedule`);
    expect(get.body.params).toEqual({ apiKey: REDACTED });
    expect(put.text + get.text).not.toContain(SECRET);
    // The schedule itself keeps the value: its runs need it.
    const described = await api.h.platform.temporal.schedule.getHandle(get.body.scheduleId).describe();
    expect(JSON.stringify(described.action)).toContain(SECRET);
    expect((await api.call('DELETE', `/api/pipelines/${id}/schedule`)).status).toBe(204);
  });

  it('are not quoted in a 400 for a value of the wrong type', async () => {
    const id = uniq('sensitive-e');
    const doc = generatePipeline(id, { params: { pin: { type: 'integer', sensitive: true } } });
    expect((await api.call('POST', '/api/pipelines', { body: doc })).status).toBe(201);
    const refused = await api.call('POST', `/api/pipelines/${id}/runs`, {
      body: { params: { pin: SECRET } },
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.errors).toContainEqual(expect.objectContaining({ path: 'params.pin' }));
    expect(refused.text).not.toContain(SECRET);
    const schedule = await api.call('PUT', `/api/pipelines/${id}/schedule`, {
      body: { cron: '0 6 * * *', params: { pin: SECRET } },
    });
    expect(schedule.status).toBe(400);
    expect(schedule.text).not.toContain(SECRET);
  });
});
