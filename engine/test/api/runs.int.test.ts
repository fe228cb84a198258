// Runs over HTTP on the real worker: start (202), Idempotency-Key, compile errors, a given
// version, manual trigger, listing, the SSE stream, previews of kept staging, cancel, and the
// "skip" concurrency refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePipeline, startApi, uniq, type ApiHarness, type Body } from './api-harness.js';
import { decodeHistory } from '../../src/temporal/payload-codec.js';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.stop());

const create = async (doc: Record<string, unknown>) => {
  const reply = await api.call('POST', '/api/pipelines', { body: doc });
  expect(reply.status).toBe(201);
  return doc.id as string;
};

const finished = (runId: string) =>
  api.h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});

/** A pipeline whose second step takes `seconds` (a real query sleeping in Postgres). */
const slowPipeline = (id: string, seconds: number, settings: Record<string, unknown> = {}) =>
  generatePipeline(id, {
    settings,
    nodes: [
      ...generatePipeline(id).nodes,
      {
        id: 'wait',
        type: 'transform.sql',
        config: { sql: `select n from {{ inputs.g }} where (select pg_sleep(${seconds})::text) is not null` },
      },
    ],
    edges: [{ from: 'g', to: 'wait' }],
  });

interface SseEvent {
  event: string;
  id?: string;
  data: Body;
}
function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((l) => l && !l.startsWith(':') && !l.startsWith('retry:')))
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
      return { event: field('event')!, id: field('id'), data: JSON.parse(field('data')!) };
    });
}

describe('starting runs', () => {
  it('starts a run (202) and reports its status, version, params, trigger, actor, timings and steps', async () => {
    const id = await create(
      generatePipeline(uniq('run'), { params: { label: { type: 'string', default: 'x' } } }),
    );
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, {
      body: { params: { label: 'hello' } },
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      runId: expect.stringMatching(new RegExp(`^run-${id}-`)),
      status: 'running',
      created: true,
      pipelineVersion: 1,
      links: { self: `/api/runs/${started.body.runId}` },
    });
    expect(started.headers.get('location')).toBe(started.body.links.self);
    await finished(started.body.runId);
    const run = await api.call('GET', started.body.links.self);
    expect(run.body).toMatchObject({
      runId: started.body.runId,
      pipelineId: id,
      pipelineVersion: 1,
      status: 'succeeded',
      params: { label: 'hello' },
      trigger: { type: 'api', actor: expect.stringMatching(/^token:/) },
      steps: { g: { status: 'succeeded', rowsOut: 3 } },
    });
    expect(run.body.durationMs).toBeGreaterThan(0);
    expect(Date.parse(run.body.endedAt)).toBeGreaterThanOrEqual(Date.parse(run.body.startedAt));
  });

  it('records a run from the builder as a manual trigger', async () => {
    const id = await create(generatePipeline(uniq('run')));
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, {
      body: {},
      headers: { 'x-tributary-trigger': 'manual' },
    });
    await finished(started.body.runId);
    expect((await api.call('GET', started.body.links.self)).body.trigger.type).toBe('manual');
  });

  it('returns the same run for the same Idempotency-Key', async () => {
    const id = await create(generatePipeline(uniq('run')));
    const headers = { 'idempotency-key': `key-${uniq('k')}` };
    const first = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {}, headers });
    const second = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {}, headers });
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body.runId).toBe(first.body.runId);
    expect(second.body.created).toBe(false);
    await finished(first.body.runId);
    const later = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {}, headers });
    expect(later.body).toMatchObject({ runId: first.body.runId, status: 'succeeded', created: false });
    // Listing is eventually consistent: wait for the run to show, then check it is the only one.
    let list = await api.call('GET', `/api/runs?pipeline=${id}`);
    for (let i = 0; i < 50 && list.body.items.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      list = await api.call('GET', `/api/runs?pipeline=${id}`);
    }
    expect(list.body.items.map((r: { runId: string }) => r.runId)).toEqual([first.body.runId]);
  });

  it('runs an older version when asked', async () => {
    const id = uniq('run');
    await create(generatePipeline(id));
    const v2 = generatePipeline(id);
    v2.nodes[0]!.config.rows = 5;
    await api.call('PUT', `/api/pipelines/${id}`, { body: v2 });
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: { version: 1 } });
    expect(started.body.pipelineVersion).toBe(1);
    await finished(started.body.runId);
    const run = await api.call('GET', started.body.links.self);
    expect(run.body).toMatchObject({ pipelineVersion: 1, steps: { g: { rowsOut: 3 } } });
    expect((await api.call('POST', `/api/pipelines/${id}/runs`, { body: { version: 7 } })).status).toBe(404);
  });

  it('runs each saved version as it is now: a new version never gets the cached plan of the one before', async () => {
    const id = uniq('run');
    await create(generatePipeline(id));
    const rowsOf = async (body: Record<string, unknown>) => {
      const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body });
      expect(started.status).toBe(202);
      await finished(started.body.runId);
      const run = await api.call('GET', started.body.links.self);
      return [run.body.pipelineVersion, run.body.steps.g.rowsOut];
    };
    expect(await rowsOf({})).toEqual([1, 3]); // compiled, and cached
    expect(await rowsOf({})).toEqual([1, 3]); // from the cache
    const v2 = generatePipeline(id);
    v2.nodes[0]!.config.rows = 5;
    expect((await api.call('PUT', `/api/pipelines/${id}`, { body: v2 })).status).toBe(200);
    expect(await rowsOf({})).toEqual([2, 5]);
    expect(await rowsOf({ version: 1 })).toEqual([1, 3]);
    // A read shows the new version's validity, not the old one's.
    const broken = generatePipeline(id);
    broken.nodes[0]!.config.rows = -1;
    const saved = await api.call('PUT', `/api/pipelines/${id}`, { body: broken });
    expect(saved.body).toMatchObject({ version: 3, valid: false });
    expect((await api.call('GET', `/api/pipelines/${id}`)).body).toMatchObject({ version: 3, valid: false });
    expect((await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} })).status).toBe(400);
    expect(await rowsOf({ version: 2 })).toEqual([2, 5]);
  });

  it.each([
    [{}, 'params.day', 'missing_param'],
    [{ params: { day: 'monday' } }, 'params.day', 'invalid_param'],
    [{ params: { day: '2026-01-01', extra: 1 } }, 'params.extra', 'unknown_param'],
  ])('refuses to start with %j: 400 naming %s (%s)', async (body, path, code) => {
    const id = await create(
      generatePipeline(uniq('run'), { params: { day: { type: 'date', required: true } } }),
    );
    const reply = await api.call('POST', `/api/pipelines/${id}/runs`, { body });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toContainEqual(expect.objectContaining({ path, code }));
    expect((await api.call('GET', `/api/runs?pipeline=${id}`)).body.items).toEqual([]);
  });

  it('refuses to start a draft that does not compile, naming the node', async () => {
    const id = await create(
      generatePipeline(uniq('run'), { nodes: [{ id: 'g', type: 'source.generate', config: { rows: 1 } }] }),
    );
    const reply = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toContainEqual(
      expect.objectContaining({ nodeId: 'g', code: 'invalid_config' }),
    );
  });

  it.each([
    [{ params: [] }, 'params'],
    [{ version: 0 }, 'version'],
    [{ paramz: {} }, undefined],
  ])('refuses a malformed run request %j with 400', async (body, path) => {
    const id = await create(generatePipeline(uniq('run')));
    const reply = await api.call('POST', `/api/pipelines/${id}/runs`, { body });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({ in: 'body', ...(path ? { path } : {}) });
  });

  it('answers 404 for runs of a pipeline or a run that does not exist', async () => {
    expect((await api.call('POST', '/api/pipelines/no-such-pipeline/runs', { body: {} })).status).toBe(404);
    const missing = await api.call('GET', '/api/runs/run-nope-0000');
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toBe('Run "run-nope-0000" does not exist');
  });
});

describe('listing runs', () => {
  it('lists a pipeline’s runs newest first, by status, one page at a time', async () => {
    const id = await create(generatePipeline(uniq('list')));
    const runIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
      runIds.push(started.body.runId);
      await finished(started.body.runId);
    }
    // Visibility is eventually consistent: wait until all three are listed as closed.
    let closed: Body;
    for (let i = 0; i < 50; i++) {
      closed = await api.call('GET', `/api/runs?pipeline=${id}&status=closed`);
      if (closed.body.items.length === 3 && closed.body.items.every((r: Body) => r.status === 'succeeded'))
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(closed.body.items.map((r: { runId: string }) => r.runId)).toEqual([...runIds].reverse());
    const page = await api.call('GET', `/api/runs?pipeline=${id}&limit=2`);
    expect(page.body.items).toHaveLength(2);
    const rest = await api.call(
      'GET',
      `/api/runs?pipeline=${id}&limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`,
    );
    expect(rest.body.items.map((r: { runId: string }) => r.runId)).toEqual([runIds[0]]);
    expect((await api.call('GET', `/api/runs?pipeline=${id}&status=running`)).body.items).toEqual([]);
    expect((await api.call('GET', '/api/runs?status=exploded')).status).toBe(400);
    // An offset no place has (Postgres refuses it) is the caller's fault, named, never a 500.
    const farOffset = await api.call(
      'GET',
      `/api/runs?cursor=${encodeURIComponent('2684-11-07T01:11:22-21:58')}`,
    );
    expect(farOffset.status).toBe(400);
    expect(JSON.stringify(farOffset.body)).toContain('cursor');
  });

  it("lists a failed run with its pipeline's name, the failed step and the start of its error, secrets redacted", async () => {
    const id = await create(
      generatePipeline(uniq('failing'), {
        params: { token: { type: 'string', sensitive: true, default: 'hush-42' } },
        nodes: [
          ...generatePipeline('x').nodes,
          {
            id: 'boom',
            type: 'transform.sql',
            // Fails at run time (not at compile time), quoting the sensitive param in Postgres' error.
            config: {
              sql: "select ({{ params.token }}::text || repeat('x', 400))::int as n from {{ inputs.g }}",
            },
          },
        ],
        edges: [{ from: 'g', to: 'boom' }],
      }),
    );
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    await finished(started.body.runId);
    let item: Body;
    for (let i = 0; i < 50; i++) {
      item = (await api.call('GET', `/api/runs?pipeline=${id}&status=closed`)).body.items[0];
      if (item?.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(item).toMatchObject({
      runId: started.body.runId,
      pipelineName: `Pipeline ${id}`,
      status: 'failed',
      failedSteps: ['boom'],
      errorExcerpt: expect.stringContaining('invalid input syntax for type integer'),
    });
    expect(item.errorExcerpt.length).toBeLessThanOrEqual(240);
    expect(item.errorExcerpt).not.toContain('hush-42');
    // A run that succeeded has nothing failed.
    const ok = await create(generatePipeline(uniq('fine')));
    const run = await api.call('POST', `/api/pipelines/${ok}/runs`, { body: {} });
    await finished(run.body.runId);
    const listed = (await api.call('GET', `/api/runs?pipeline=${ok}`)).body.items[0];
    expect(listed).toMatchObject({ pipelineName: `Pipeline ${ok}`, failedSteps: [], errorExcerpt: null });
  });
});

describe('following a run', () => {
  it('streams progress as Server-Sent Events and ends the stream when the run ends', async () => {
    const id = await create(slowPipeline(uniq('sse'), 1.5));
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    const response = await fetch(`${api.base}${started.body.links.events}`, {
      headers: { authorization: `Bearer ${api.admin}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = parseSse(await response.text()); // resolves only because the server ends the stream
    const progress = events.filter((e) => e.event === 'progress');
    expect(events.at(-1)).toMatchObject({
      event: 'end',
      data: { runId: started.body.runId, status: 'succeeded' },
    });
    expect(progress.at(-1)!.data).toMatchObject({
      status: 'succeeded',
      steps: { wait: { status: 'succeeded' } },
    });
    const waitStates = progress.map((e) => e.data.steps.wait.status);
    expect(waitStates).toContain('running');
    // Only changes are sent: no two consecutive progress events are equal.
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.data).not.toEqual(progress[i - 1]!.data);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
  });

  it('ends the stream of a finished run after one progress event', async () => {
    const id = await create(generatePipeline(uniq('sse')));
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    await finished(started.body.runId);
    const events = parseSse((await api.call('GET', started.body.links.events)).text);
    expect(events.map((e) => e.event)).toEqual(['progress', 'end']);
  });

  it('answers 404 before streaming for a run that does not exist', async () => {
    const reply = await api.call('GET', '/api/runs/run-nope-1111/events');
    expect(reply.status).toBe(404);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
  });
});

describe('previews', () => {
  it('pages through the rows and column types of a step in kept staging', async () => {
    const id = await create(generatePipeline(uniq('pv'), { settings: { keepStaging: true } }));
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    await finished(started.body.runId);
    const preview = `/api/runs/${started.body.runId}/steps/g/preview`;
    const first = await api.call('GET', `${preview}?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      columns: [{ name: 'n', type: 'bigint' }],
      rows: [{ n: 1 }, { n: 2 }],
      limit: 2,
      offset: 0,
      hasMore: true,
    });
    const last = await api.call('GET', `${preview}?limit=2&offset=2`);
    expect(last.body).toMatchObject({ rows: [{ n: 3 }], hasMore: false });
  });

  it('says staging was not kept when the pipeline did not keep it (404)', async () => {
    const id = await create(generatePipeline(uniq('pv')));
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    await finished(started.body.runId);
    const reply = await api.call('GET', `/api/runs/${started.body.runId}/steps/g/preview`);
    expect(reply.status).toBe(404);
    expect(reply.body.detail).toContain('was not kept');
    expect(reply.body.detail).toContain('keepStaging');
  });

  it('answers 404 for a step without a table, and 400 for a limit over 1000', async () => {
    const id = await create(generatePipeline(uniq('pv'), { settings: { keepStaging: true } }));
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    await finished(started.body.runId);
    const missing = await api.call('GET', `/api/runs/${started.body.runId}/steps/nothing/preview`);
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toContain('Step "nothing" has no output table');
    const tooMany = await api.call('GET', `/api/runs/${started.body.runId}/steps/g/preview?limit=1001`);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0]).toMatchObject({ in: 'query', path: 'limit' });
  });
});

describe('cancelling and concurrency', () => {
  it('cancels a running run (202) as the token, and refuses to cancel it again (409)', async () => {
    const id = await create(slowPipeline(uniq('cx'), 60));
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    const cancel = await api.call('POST', `/api/runs/${started.body.runId}/cancel`, {
      body: { reason: 'test' },
    });
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ runId: started.body.runId, status: 'cancelling' });
    await finished(started.body.runId);
    const run = await api.call('GET', started.body.links.self);
    expect(run.body.status).toBe('cancelled');
    const history = await decodeHistory(
      await api.h.platform.temporal.workflow.getHandle(started.body.runId).fetchHistory(),
      api.h.platform.temporal.options.loadedDataConverter.payloadCodecs,
    );
    // The run also gets the fair share's grant signals, before or after the cancel: pick the cancel.
    const signals = (history.events ?? []).flatMap((e) =>
      e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes] : [],
    );
    const cancels = signals.filter((s) => s.signalName === 'cancelRequested');
    expect(cancels).toHaveLength(1);
    const signal = cancels[0];
    const payload = api.h.platform.temporal.options.loadedDataConverter.payloadConverter.fromPayload(
      signal!.input!.payloads![0]!,
    );
    expect(payload).toEqual({ actor: expect.stringMatching(/^token:[a-z0-9]+\/test-/), reason: 'test' });
    const again = await api.call('POST', `/api/runs/${started.body.runId}/cancel`, { body: {} });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('has already ended (cancelled)');
  });

  it('refuses a second run under concurrency "skip" with 409 and the reason', async () => {
    const id = await create(slowPipeline(uniq('skip'), 60, { concurrency: 'skip' }));
    const first = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    expect(first.status).toBe(202);
    let second: Body;
    // The first run must be visible as running before the policy can see it.
    for (let i = 0; i < 50; i++) {
      second = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
      if (second.status === 409) break;
      await api.call('POST', `/api/runs/${second.body.runId}/cancel`, { body: {} });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain('concurrency policy is "skip"');
    await api.call('POST', `/api/runs/${first.body.runId}/cancel`, { body: {} });
    await finished(first.body.runId);
  });
});
