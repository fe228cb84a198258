// Run records: a closed run is recorded in the platform database, and every reader (runs list, run
// detail, audit json and jsonl, usage, the usage report, telemetry tables, OpenLineage) answers the
// same, byte for byte, after Temporal has deleted the run's history. The records refuse change.
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordClosedRuns, startRunRecorder } from '../../src/runs/run-recorder.js';
import { RunRecordStore } from '../../src/runs/run-records.store.js';
import { syncTelemetry } from '../../src/telemetry/telemetry-sync.js';
import { DEFAULT_CREDIT_RATES } from '../../src/telemetry/credit-rates.js';
import { generatePipeline, startApi, uniq, type ApiHarness, type Body } from './api-harness.js';

let api: ApiHarness;
let records: RunRecordStore;
// A project of this file's own: the usage report covers a whole project, and other test files run
// pipelines in `default` at the same time.
const project = uniq('rec');
beforeAll(async () => {
  api = await startApi();
  records = new RunRecordStore(api.h.platform.platformPool);
  const created = await api.call('POST', '/api/projects', { body: { id: project, name: 'Run records' } });
  expect(created.status).toBe(201);
});
afterAll(async () => api?.stop());

const create = async (doc: Record<string, unknown>) => {
  const reply = await api.call('POST', '/api/pipelines', { body: { ...doc, project } });
  expect(reply.status).toBe(201);
  return doc.id as string;
};

async function runToEnd(pipelineId: string): Promise<string> {
  const started = await api.call('POST', `/api/pipelines/${pipelineId}/runs`, { body: {} });
  expect(started.status).toBe(202);
  const runId = started.body.runId as string;
  await api.h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});
  // Visibility is eventually consistent: wait until the list shows the run closed.
  for (let i = 0; i < 100; i++) {
    const listed = await api.call('GET', `/api/runs?pipeline=${pipelineId}&status=closed`);
    if (listed.body.items.some((r: Body) => r.runId === runId)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return runId;
}

/** Deletes a closed run's history through Temporal, as the namespace's retention would, and waits until it is gone. */
async function deleteHistory(runId: string): Promise<void> {
  const client = api.h.platform.temporal;
  await client.workflowService.deleteWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId: runId },
  });
  const started = Date.now();
  while (Date.now() - started < 90_000) {
    try {
      await client.workflow.getHandle(runId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return;
      throw error;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the history of ${runId} was not deleted`);
}

/** Every endpoint that answers about a run, as text. */
async function answers(pipelineId: string, runId: string): Promise<Record<string, string>> {
  const day = new Date().toISOString().slice(0, 10);
  const range = `from=${day}&to=${new Date(Date.parse(day) + 2 * 86_400_000).toISOString().slice(0, 10)}`;
  const paths = {
    list: `/api/runs?pipeline=${pipelineId}`,
    listClosed: `/api/runs?pipeline=${pipelineId}&status=closed`,
    detail: `/api/runs/${runId}`,
    audit: `/api/runs/${runId}/audit`,
    auditJsonl: `/api/runs/${runId}/audit?format=jsonl`,
    usage: `/api/runs/${runId}/usage`,
    report: `/api/telemetry/usage?groupBy=pipeline&project=${project}&${range}`,
    reportByNode: `/api/telemetry/usage?groupBy=nodeType&project=${project}&${range}`,
    openlineage: `/api/runs/${runId}/openlineage`,
  };
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(paths)) {
    // Raw text: the harness would parse JSON Lines as one JSON document.
    const reply = await fetch(`${api.base}${path}`, { headers: { authorization: `Bearer ${api.admin}` } });
    const text = await reply.text();
    expect(reply.status, `${name}: ${text}`).toBe(200);
    out[name] = text;
  }
  return out;
}

describe('run records', () => {
  it('answer every run endpoint byte for byte as the history did, once the history is deleted', async () => {
    const ok = await create(generatePipeline(uniq('rec-ok')));
    const failing = await create(
      generatePipeline(uniq('rec-fail'), {
        params: { token: { type: 'string', sensitive: true, default: 'hush-77' } },
        nodes: [
          ...generatePipeline('x').nodes,
          {
            id: 'boom',
            type: 'transform.sql',
            config: { sql: "select ({{ params.token }}::text || 'x')::int as n from {{ inputs.g }}" },
          },
        ],
        edges: [{ from: 'g', to: 'boom' }],
      }),
    );
    const okRun = await runToEnd(ok);
    const failedRun = await runToEnd(failing);

    // Read live: no recorder has run yet, so every answer comes from Temporal's history.
    expect(await records.get(okRun)).toBeUndefined();
    const before = { ok: await answers(ok, okRun), failed: await answers(failing, failedRun) };
    expect(JSON.parse(before.failed.detail!)).toMatchObject({ status: 'failed' });
    expect(before.failed.detail).not.toContain('hush-77');

    const pass = await recordClosedRuns({
      temporal: api.h.platform.temporal,
      runs: api.h.platform.runs,
      records,
    });
    expect(pass.recorded).toBeGreaterThanOrEqual(2);
    const record = await records.get(failedRun);
    expect(record).toMatchObject({ runId: failedRun, taskQueue: api.h.taskQueue });
    expect(JSON.stringify(record)).not.toContain('hush-77');
    // A second pass finds nothing new.
    expect(
      (await recordClosedRuns({ temporal: api.h.platform.temporal, runs: api.h.platform.runs, records }))
        .recorded,
    ).toBe(0);

    await deleteHistory(okRun);
    await deleteHistory(failedRun);
    await expect(api.h.platform.temporal.workflow.getHandle(okRun).fetchHistory()).rejects.toThrow();

    const after = { ok: await answers(ok, okRun), failed: await answers(failing, failedRun) };
    for (const which of ['ok', 'failed'] as const) {
      for (const name of Object.keys(before[which])) {
        expect(after[which][name], `${which} ${name}`).toBe(before[which][name]);
      }
    }

    // The telemetry tables are written from the records: the run's usage is there after its history is gone.
    await syncTelemetry(
      {
        temporal: api.h.platform.temporal,
        runs: api.h.platform.runs,
        warehouse: api.h.platform.warehousePool,
        rates: DEFAULT_CREDIT_RATES,
      },
      { full: true },
    );
    const usage = JSON.parse(after.failed.usage!);
    const { rows } = await api.h.platform.warehousePool.query(
      'select status, credits, steps from tributary_telemetry.runs where run_id = $1',
      [failedRun],
    );
    expect(rows).toEqual([{ status: 'failed', credits: usage.credits, steps: usage.steps.length }]);
  });

  it('records at start a run that closed while nothing was recording', async () => {
    const id = await create(generatePipeline(uniq('rec-down')));
    const runId = await runToEnd(id);
    expect(await records.get(runId)).toBeUndefined();
    // "The API starts": its recorder's first pass is the catch-up.
    const recorder = startRunRecorder(
      { temporal: api.h.platform.temporal, runs: api.h.platform.runs, records },
      { intervalMs: 60_000, retentionDays: null },
    );
    await recorder.caughtUp;
    await recorder.stop();
    expect(await records.get(runId)).toMatchObject({ runId, summary: { status: 'succeeded' } });
    await deleteHistory(runId);
    const detail = await api.call('GET', `/api/runs/${runId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ runId, pipelineId: id, status: 'succeeded' });
  });

  it('refuses UPDATE, DELETE and TRUNCATE; only TRIBUTARY_RUN_RETENTION_DAYS deletes, and only older records', async () => {
    const pool = api.h.platform.platformPool;
    const [recent] = (
      await pool.query<{ run_id: string }>('select run_id from tributary.run_records limit 1')
    ).rows;
    expect(recent).toBeDefined();
    await expect(
      pool.query(`update tributary.run_records set status = 'succeeded' where run_id = $1`, [recent!.run_id]),
    ).rejects.toThrow(/append-only: UPDATE is not allowed/);
    await expect(
      pool.query('delete from tributary.run_records where run_id = $1', [recent!.run_id]),
    ).rejects.toThrow(/append-only: DELETE is not allowed/);
    await expect(pool.query('truncate tributary.run_records')).rejects.toThrow(/append-only: TRUNCATE/);

    // A record of a run that ended 40 days ago, as it would stand after a long time.
    const old = uniq('rec-old');
    const record = (await records.get(recent!.run_id))!;
    await records.insert({
      ...record,
      runId: old,
      summary: {
        ...record.summary,
        runId: old,
        startedAt: new Date(Date.now() - 40 * 86_400_000).toISOString(),
        endedAt: new Date(Date.now() - 40 * 86_400_000 + 1000).toISOString(),
      },
    });
    try {
      expect(await records.applyRetention(30)).toBeGreaterThanOrEqual(1);
      expect(await records.get(old)).toBeUndefined();
      expect(await records.get(recent!.run_id)).toBeDefined();
      // Within the retention, a record still cannot be deleted.
      await expect(
        pool.query('delete from tributary.run_records where run_id = $1', [recent!.run_id]),
      ).rejects.toThrow(/append-only/);
    } finally {
      await records.applyRetention(null);
    }
  });
});
