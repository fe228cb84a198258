// The run audit trail from Temporal history, on the real dev server: who requested a run, each
// attempt of a retried step, failures, who cancelled, how it ended; over HTTP as JSON and JSON Lines.
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runAuditTrail, type RunAuditEvent } from '../../src/audit/run-audit.js';
import { REDACTED } from '../../src/model/redact.js';
import { startHarness, type Harness } from '../harness.js';
import { createTestSteps, testCatalog, type StepProbe } from '../test-steps.js';
import { pipeline, rawHistory, startAuditApi, uniq, waitFor, type AuditApi } from './audit-test-kit.js';

let h: Harness;
let api: AuditApi;
let probe: StepProbe;
beforeAll(async () => {
  const steps = createTestSteps();
  probe = steps.probe;
  h = await startHarness({ catalog: testCatalog, extraActivities: steps.activities });
  api = await startAuditApi(h);
});
afterAll(async () => {
  await api?.stop();
  await h?.stop();
});
beforeEach(() => {
  Object.assign(probe, { running: 0, maxRunning: 0, started: [], attempts: {} });
});

const HISTORY_TYPE: Record<string, string> = {
  'run.requested': 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
  'step.scheduled': 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
  'step.started': 'EVENT_TYPE_ACTIVITY_TASK_STARTED',
  'step.attempt_failed': 'EVENT_TYPE_ACTIVITY_TASK_FAILED',
  'step.completed': 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED',
  'step.cancel_requested': 'EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED',
  'run.cancel_requested': 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED',
  'run.completed': 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
  'run.failed': 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED',
  'run.cancelled': 'EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED',
};

/** Each audit event points at a real history event of the matching type, with its time. */
async function expectBackedByHistory(runId: string, events: RunAuditEvent[]): Promise<void> {
  const history = new Map((await rawHistory(h, runId)).map((e) => [Number(e.eventId), e]));
  for (const event of events) {
    const source = history.get(event.eventId);
    expect(source?.eventType, `${event.type} at event ${event.eventId}`).toBe(HISTORY_TYPE[event.type]);
    const ms = Number(source!.eventTime.seconds) * 1000 + Math.floor((source!.eventTime.nanos ?? 0) / 1e6);
    expect(Date.parse(event.at)).toBe(ms);
  }
  const ids = events.map((e) => e.eventId);
  expect(ids).toEqual([...ids].sort((a, b) => a - b));
}

const brief = (events: RunAuditEvent[]) => events.map((e) => [e.type, e.nodeId, e.attempt]);

describe('run audit trail', () => {
  it('records the requester, each attempt of a retried step with its last failure, and results, in history order', async () => {
    const plan = h.plan(
      pipeline(
        'audit-retried',
        [
          { id: 'flaky', type: 'test.source', config: { failAttempts: 2, rows: 5 } },
          { id: 'after', type: 'test.step', config: { rows: 2 } },
        ],
        [['flaky', 'after']],
        {
          params: {
            apiKey: { type: 'string', sensitive: true },
            region: { type: 'string', default: 'eu' },
          },
        },
      ),
      { apiKey: 'sk-live-7f3a9c2e' },
    );
    const { runId } = await h.platform.runs.start(plan, {
      trigger: { type: 'api', actor: 'token:t1/ci-bot' },
    });
    await h.platform.temporal.workflow.getHandle(runId).result();

    const trail = await runAuditTrail(h.platform.temporal, runId);
    expect(trail).toMatchObject({
      runId,
      project: 'default',
      pipelineId: 'audit-retried',
      status: 'succeeded',
      trigger: { type: 'api', actor: 'token:t1/ci-bot' },
    });
    expect(brief(trail.events)).toEqual([
      ['run.requested', null, null],
      ['step.scheduled', 'flaky', null],
      ['step.started', 'flaky', 3],
      ['step.completed', 'flaky', 3],
      ['step.scheduled', 'after', null],
      ['step.started', 'after', 1],
      ['step.completed', 'after', 1],
      ['run.completed', null, null],
    ]);
    const [requested, , flakyStarted, flakyDone] = trail.events;
    expect(requested!.actor).toBe('token:t1/ci-bot');
    expect(requested!.details).toMatchObject({
      trigger: 'api',
      pipelineId: 'audit-retried',
      params: { apiKey: REDACTED, region: 'eu' },
    });
    expect(flakyStarted!.details).toMatchObject({
      previousFailedAttempts: 2,
      lastFailure: { retryable: true },
    });
    expect(flakyStarted!.message).toBe(
      'Step "flaky" attempt 3 started after 2 failed attempts; last failure: Step "flaky" (test.step): connection reset (attempt 2)',
    );
    expect(flakyDone!.details).toMatchObject({ rowsIn: 0, rowsOut: 5, bytes: 0 });
    expect(trail.events.filter((e) => e.type !== 'run.requested').every((e) => e.actor === null)).toBe(true);
    expect(JSON.stringify(trail)).not.toContain('sk-live-7f3a9c2e');
    await expectBackedByHistory(runId, trail.events);
  });

  it('names who cancelled a run and why, then records the step cancellation and the cancelled run', async () => {
    const plan = h.plan(
      pipeline(
        'audit-cancelled',
        [
          { id: 'slow', type: 'test.source', config: { sleepMs: 30_000 } },
          { id: 'never', type: 'test.step', config: {} },
        ],
        [['slow', 'never']],
      ),
    );
    const { runId } = await h.platform.runs.start(plan, { trigger: { type: 'manual', actor: 'carol' } });
    await waitFor(() => probe.running === 1);
    await h.platform.runs.cancel(runId, 'alice', 'wrong parameters');
    await h.platform.temporal.workflow
      .getHandle(runId)
      .result()
      .catch(() => {});

    const trail = await runAuditTrail(h.platform.temporal, runId);
    expect(trail.status).toBe('cancelled');
    expect(brief(trail.events)).toEqual([
      ['run.requested', null, null],
      ['step.scheduled', 'slow', null],
      ['run.cancel_requested', null, null],
      ['step.cancel_requested', 'slow', null],
      ['run.cancelled', null, null],
    ]);
    expect(trail.events[0]!.actor).toBe('carol');
    expect(trail.events[2]).toMatchObject({
      actor: 'alice',
      message: 'Cancel requested by alice: wrong parameters',
      details: { reason: 'wrong parameters' },
    });
    await expectBackedByHistory(runId, trail.events);
  });

  it('says a step failed for good without retrying, and why the run failed', async () => {
    const plan = h.plan(
      pipeline('audit-broken', [{ id: 'bad', type: 'test.source', config: { failForGood: true } }], []),
    );
    const { runId } = await h.run(plan);
    const trail = await runAuditTrail(h.platform.temporal, runId);
    expect(trail.status).toBe('failed');
    expect(brief(trail.events)).toEqual([
      ['run.requested', null, null],
      ['step.scheduled', 'bad', null],
      ['step.started', 'bad', 1],
      ['step.attempt_failed', 'bad', 1],
      ['run.failed', null, null],
    ]);
    expect(trail.events[3]).toMatchObject({
      message: 'Step "bad" attempt 1 failed: Step "bad" (test.step): bad data in row 7 (not retryable)',
      details: { retryable: false, retryState: 'non_retryable_failure' },
    });
    expect(trail.events[4]!.message).toBe(
      'Run failed: step "bad" failed: Step "bad" (test.step): bad data in row 7',
    );
    await expectBackedByHistory(runId, trail.events);
  });

  it('says when a retryable step used all its attempts', async () => {
    const plan = h.plan(
      pipeline('audit-exhausted', [{ id: 'x', type: 'test.source', config: { failAttempts: 9 } }], []),
    );
    const { runId } = await h.run(plan);
    const trail = await runAuditTrail(h.platform.temporal, runId);
    const failed = trail.events.find((e) => e.type === 'step.attempt_failed')!;
    expect(failed).toMatchObject({
      attempt: 3,
      message:
        'Step "x" attempt 3 failed: Step "x" (test.step): connection reset (attempt 3) (retryable, but all 3 attempts are used)',
      details: { retryable: true, retryState: 'maximum_attempts_reached' },
    });
    expect(trail.events.find((e) => e.type === 'step.started')!.details).toMatchObject({
      previousFailedAttempts: 2,
    });
  });

  it('reads the same trail of a closed run through a new connection, as after a restart', async () => {
    const plan = h.plan(pipeline('audit-restart', [{ id: 'one', type: 'test.source', config: {} }], []));
    const { runId } = await h.run(plan);
    const before = await runAuditTrail(h.platform.temporal, runId);
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      // A restarted process has the same payload key, so the same codec.
      const fresh = new Client({
        connection,
        namespace: 'default',
        dataConverter: { payloadCodecs: h.platform.temporal.options.loadedDataConverter.payloadCodecs },
      });
      expect(await runAuditTrail(fresh, runId)).toEqual(before);
    } finally {
      await connection.close();
    }
  });
});

describe('GET /api/runs/:runId/audit', () => {
  let runId: string;
  beforeAll(async () => {
    const plan = h.plan(
      pipeline('audit-http', [{ id: 'flaky', type: 'test.source', config: { failAttempts: 1 } }], []),
    );
    runId = (await h.run(plan)).runId;
  });

  it('answers the trail as JSON', async () => {
    const reply = await api.call('GET', `/api/runs/${runId}/audit`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(JSON.parse(JSON.stringify(await runAuditTrail(h.platform.temporal, runId))));
    expect(reply.body.events.map((e: RunAuditEvent) => e.type)).toEqual([
      'run.requested',
      'step.scheduled',
      'step.started',
      'step.completed',
      'run.completed',
    ]);
  });

  it('exports one event per line with format=jsonl', async () => {
    const reply = await api.call('GET', `/api/runs/${runId}/audit?format=jsonl`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(reply.headers.get('content-disposition')).toBe(`attachment; filename="${runId}-audit.jsonl"`);
    const lines = reply.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    const trail = await runAuditTrail(h.platform.temporal, runId);
    expect(lines).toEqual(trail.events.map((e) => JSON.parse(JSON.stringify({ runId, ...e }))));
  });

  it('answers 404 for a run that does not exist and 403 to a token of another project', async () => {
    const missing = await api.call('GET', `/api/runs/run-nope-${uniq('x')}/audit`);
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/does not exist/);
    const other = await api.token(['read'], ['elsewhere']);
    const forbidden = await api.call('GET', `/api/runs/${runId}/audit`, { token: other });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.detail).toContain('"default"');
  });

  it('rejects an unknown format and names the query field', async () => {
    const reply = await api.call('GET', `/api/runs/${runId}/audit?format=xml`);
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({ in: 'query', path: 'format' });
  });
});
