// Usage telemetry on the real dev server and Postgres: per-run figures against sums computed here
// from the raw history, aggregation over visibility queries, and the idempotent warehouse sync.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetrySync, syncTelemetry } from '../../src/telemetry/telemetry-sync.js';
import { parseCreditRates } from '../../src/telemetry/credit-rates.js';
import { startHarness, type Harness } from '../harness.js';
import { createTestSteps, testCatalog } from '../test-steps.js';
import {
  eventMs,
  payloadJson,
  pipeline,
  rawHistory,
  startAuditApi,
  uniq,
  waitFor,
  type AuditApi,
  type Body,
  type RawEvent,
} from './audit-test-kit.js';

const RATES = { source: 2, transform: 3, sink: 5 };

let h: Harness;
let api: AuditApi;
const testStart = new Date(Date.now() - 60_000);
beforeAll(async () => {
  h = await startHarness({ catalog: testCatalog, extraActivities: createTestSteps().activities });
  // As start.ts hands the API the TRIBUTARY_CREDIT_RATES it parsed.
  api = await startAuditApi(h, undefined, { creditRates: parseCreditRates(JSON.stringify(RATES)) });
});
afterAll(async () => {
  await api?.stop();
  await h?.stop();
});

/** Two branches: a real source into a real sink, and a flaky test source into a slow test step. */
function mixedPipeline(id: string, project: string) {
  return h.plan(
    pipeline(
      id,
      [
        {
          id: 'numbers',
          type: 'source.generate',
          config: {
            rows: 40,
            columns: [
              { name: 'n', generator: 'sequence' },
              { name: 't', generator: 'text' },
            ],
          },
        },
        { id: 'to-csv', type: 'sink.csv', config: { path: `${uniq('telemetry')}/out.csv` } },
        { id: 'flaky', type: 'test.source', config: { failAttempts: 1, sleepMs: 150, rows: 7 } },
        { id: 'slow', type: 'test.step', config: { sleepMs: 300, rows: 3 } },
      ],
      [
        ['numbers', 'to-csv'],
        ['flaky', 'slow'],
      ],
      { project },
    ),
  );
}

/** The figures, computed straight from the history JSON: no code under test involved. */
function expectedUsage(events: RawEvent[]) {
  const input = payloadJson((events[0]!.workflowExecutionStartedEventAttributes as Body).input) as Body;
  const kinds = new Map<string, string>(input.plan.steps.map((s: Body) => [s.id, s.kind]));
  const scheduled = new Map<string, string>();
  const started = new Map<string, { ms: number; attempt: number }>();
  const sums = { activitySeconds: 0, credits: 0, attempts: 0, retries: 0, rowsIn: 0, rowsOut: 0, bytes: 0 };
  const perStep: Record<string, { activitySeconds: number; attempts: number; rowsOut: number }> = {};
  for (const e of events) {
    const attrs = Object.entries(e).find(([k]) => k.endsWith('EventAttributes'))?.[1] as Body;
    if (e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED') scheduled.set(e.eventId, attrs.activityId);
    if (e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_STARTED')
      started.set(attrs.scheduledEventId, { ms: eventMs(e), attempt: attrs.attempt });
    if (
      e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED' ||
      e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_FAILED'
    ) {
      const nodeId = scheduled.get(attrs.scheduledEventId)!;
      const kind = kinds.get(nodeId);
      if (!kind) continue; // a lifecycle activity, not a step
      const start = started.get(attrs.scheduledEventId)!;
      const seconds = (eventMs(e) - start.ms) / 1000;
      const stats =
        e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED' ? (payloadJson(attrs.result) as Body).stats : {};
      sums.activitySeconds += seconds;
      sums.credits += seconds * RATES[kind as keyof typeof RATES];
      sums.attempts += start.attempt;
      sums.retries += start.attempt - 1;
      sums.rowsIn += stats.rowsIn ?? 0;
      sums.rowsOut += stats.rowsOut ?? 0;
      sums.bytes += stats.bytes ?? 0;
      perStep[nodeId] = { activitySeconds: seconds, attempts: start.attempt, rowsOut: stats.rowsOut ?? 0 };
    }
  }
  const wallSeconds = (eventMs(events.at(-1)!) - eventMs(events[0]!)) / 1000;
  return { ...sums, wallSeconds, perStep };
}

describe('usage of a run', () => {
  it('equals the sums computed independently from the raw history', async () => {
    const { runId, status } = await h.run(mixedPipeline('usage-mixed', 'default'));
    expect(status).toBe('succeeded');
    const expected = expectedUsage(await rawHistory(h, runId));
    const reply = await api.call('GET', `/api/runs/${runId}/usage`);
    expect(reply.status).toBe(200);
    const usage = reply.body;

    expect(usage).toMatchObject({
      runId,
      status: 'succeeded',
      attempts: expected.attempts,
      retries: expected.retries,
      rowsIn: expected.rowsIn,
      rowsOut: expected.rowsOut,
      bytes: expected.bytes,
    });
    expect(usage.retries).toBe(1); // the flaky step's second attempt
    expect(usage.bytes).toBeGreaterThan(0);
    expect(usage.activitySeconds).toBeCloseTo(expected.activitySeconds, 5);
    expect(usage.credits).toBeCloseTo(expected.credits, 4);
    expect(usage.wallSeconds).toBeCloseTo(expected.wallSeconds, 5);
    for (const step of usage.steps as Body[]) {
      expect(step.activitySeconds).toBeCloseTo(expected.perStep[step.nodeId]!.activitySeconds, 5);
      expect(step.attempts).toBe(expected.perStep[step.nodeId]!.attempts);
      expect(step.rowsOut).toBe(expected.perStep[step.nodeId]!.rowsOut);
      expect(step.credits).toBeCloseTo(step.activitySeconds * RATES[step.kind as keyof typeof RATES], 5);
    }
    // The slow step slept 300 ms in its only attempt; the flaky one's recorded attempt slept 150 ms.
    const byId = Object.fromEntries((usage.steps as Body[]).map((s) => [s.nodeId, s]));
    expect(byId.slow.activitySeconds).toBeGreaterThanOrEqual(0.3);
    expect(byId.flaky).toMatchObject({ kind: 'source', attempts: 2, retries: 1, rowsOut: 7 });
    expect(byId.flaky.scheduledSeconds).toBeGreaterThan(byId.flaky.activitySeconds);
    expect(byId.numbers).toMatchObject({ nodeType: 'source.generate', rowsOut: 40 });
    expect(byId['to-csv']).toMatchObject({ kind: 'sink', rowsIn: 40 });
  });

  it('counts a step cancelled in flight as cancelled, and never-started steps as not run', async () => {
    const plan = h.plan(
      pipeline(
        'usage-cancelled',
        [
          { id: 'slow', type: 'test.source', config: { sleepMs: 30_000 } },
          { id: 'next', type: 'test.step', config: {} },
        ],
        [['slow', 'next']],
      ),
    );
    const { runId } = await h.platform.runs.start(plan, { trigger: { type: 'manual', actor: 'dave' } });
    await waitFor(async () => (await h.platform.runs.get(runId)).progress?.steps.slow?.attempt === 1);
    await new Promise((r) => setTimeout(r, 300));
    await h.platform.runs.cancel(runId, 'dave');
    await h.platform.temporal.workflow
      .getHandle(runId)
      .result()
      .catch(() => {});
    const usage = (await api.call('GET', `/api/runs/${runId}/usage`)).body;
    expect(usage.status).toBe('cancelled');
    expect(usage.steps.map((s: Body) => [s.nodeId, s.status])).toEqual([
      ['slow', 'cancelled'],
      ['next', 'cancelled'],
    ]);
    // History has no started event for an attempt cut short by the cancel: only its time in flight.
    expect(usage.steps[0].attempts).toBe(0);
    expect(usage.steps[0].scheduledSeconds).toBeGreaterThanOrEqual(0.3);
  });
});

describe('GET /api/telemetry/usage', () => {
  const projectA = uniq('usage-a');
  const projectB = uniq('usage-b');
  const runIds: string[] = [];
  const usages: Body[] = [];

  beforeAll(async () => {
    const starts = [
      { project: projectA, pipelineId: 'usage-one', trigger: { type: 'manual' as const, actor: 'alice' } },
      { project: projectA, pipelineId: 'usage-two', trigger: { type: 'api' as const, actor: 'bob' } },
      { project: projectA, pipelineId: 'usage-one', trigger: { type: 'api' as const, actor: 'alice' } },
      {
        project: projectB,
        pipelineId: 'usage-three',
        trigger: { type: 'schedule' as const, actor: 'sch_1' },
      },
    ];
    for (const start of starts) {
      const { runId } = await h.platform.runs.start(mixedPipeline(start.pipelineId, start.project), {
        trigger: start.trigger,
      });
      runIds.push(runId);
    }
    await Promise.all(runIds.map((id) => h.platform.temporal.workflow.getHandle(id).result()));
    for (const id of runIds) usages.push((await api.call('GET', `/api/runs/${id}/usage`)).body);
  });

  const range = () => `from=${testStart.toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`;
  const sumOf = (runs: Body[], field: string) => runs.reduce((total, r) => total + r[field], 0);

  async function report(query: string, expectedRuns: number): Promise<Body> {
    let body: Body;
    // Visibility is eventually consistent: wait until every run is listed.
    await waitFor(async () => {
      const reply = await api.call('GET', `/api/telemetry/usage?${query}&${range()}`);
      expect(reply.status).toBe(200);
      body = reply.body;
      return body.runs === expectedRuns;
    });
    return body;
  }

  function expectGroup(group: Body, runs: Body[]): void {
    expect(group).toMatchObject({
      runs: runs.length,
      attempts: sumOf(runs, 'attempts'),
      retries: sumOf(runs, 'retries'),
      rowsIn: sumOf(runs, 'rowsIn'),
      rowsOut: sumOf(runs, 'rowsOut'),
      bytes: sumOf(runs, 'bytes'),
    });
    expect(group.activitySeconds).toBeCloseTo(sumOf(runs, 'activitySeconds'), 5);
    expect(group.wallSeconds).toBeCloseTo(sumOf(runs, 'wallSeconds'), 5);
    expect(group.credits).toBeCloseTo(sumOf(runs, 'credits'), 5);
  }

  it('groups by actor, trigger, pipeline and day within a project, with the credit rates used', async () => {
    const a = usages.slice(0, 3);
    const byActor = await report(`groupBy=actor&project=${projectA}`, 3);
    expect(byActor.creditRates).toEqual({ ...RATES, types: {} });
    expect(byActor.groups.map((g: Body) => g.key)).toEqual(['alice', 'bob']);
    expectGroup(byActor.groups[0], [a[0], a[2]]);
    expectGroup(byActor.groups[1], [a[1]]);
    expectGroup(byActor.totals, a);

    const byTrigger = await report(`groupBy=trigger&project=${projectA}`, 3);
    expect(byTrigger.groups.map((g: Body) => g.key)).toEqual(['api', 'manual']);
    expectGroup(byTrigger.groups[0], [a[1], a[2]]);

    const byPipeline = await report(`groupBy=pipeline&project=${projectA}`, 3);
    expect(byPipeline.groups.map((g: Body) => [g.key, g.runs])).toEqual([
      ['usage-one', 2],
      ['usage-two', 1],
    ]);

    const byDay = await report(`groupBy=day&project=${projectA}`, 3);
    const days = [...new Set(a.map((u) => u.startedAt.slice(0, 10)))].sort();
    expect(byDay.groups.map((g: Body) => g.key)).toEqual(days);
  });

  it('groups by node type over the steps of every run', async () => {
    const a = usages.slice(0, 3);
    const byType = await report(`groupBy=nodeType&project=${projectA}`, 3);
    expect(byType.groups.map((g: Body) => g.key)).toEqual([
      'sink.csv',
      'source.generate',
      'test.source',
      'test.step',
    ]);
    for (const group of byType.groups) {
      const steps = a.flatMap((u) => u.steps.filter((s: Body) => s.nodeType === group.key));
      expect(group).toMatchObject({
        runs: 3,
        steps: 3,
        wallSeconds: null,
        attempts: sumOf(steps, 'attempts'),
      });
      expect(group.credits).toBeCloseTo(sumOf(steps, 'credits'), 5);
    }
  });

  it('groups by project, and counts only the projects a limited token may read', async () => {
    const everything = await api.call('GET', `/api/telemetry/usage?groupBy=project&${range()}`);
    const groups = Object.fromEntries(everything.body.groups.map((g: Body) => [g.key, g]));
    expectGroup(groups[projectA], usages.slice(0, 3));
    expectGroup(groups[projectB], usages.slice(3));

    const limited = await api.token(['read'], [projectB]);
    const reply = await api.call('GET', `/api/telemetry/usage?groupBy=project&${range()}`, {
      token: limited,
    });
    expect(reply.body.groups.map((g: Body) => g.key)).toEqual([projectB]);
    const refused = await api.call('GET', `/api/telemetry/usage?project=${projectA}`, { token: limited });
    expect(refused.status).toBe(403);
  });

  it('splits each day by project for a stacked chart, and a limited token sees only its own project', async () => {
    await report(`groupBy=day&project=${projectA}`, 3);
    const everything = (await api.call('GET', `/api/telemetry/usage?groupBy=day&split=project&${range()}`))
      .body;
    expect(everything.split).toBe('project');
    const splits = everything.groups.flatMap((g: Body) => g.splits.map((s: Body) => ({ day: g.key, ...s })));
    const ofA = splits.filter((s: Body) => s.key === projectA);
    expect(ofA.reduce((n: number, s: Body) => n + s.runs, 0)).toBe(3);
    expect(ofA.reduce((n: number, s: Body) => n + s.credits, 0)).toBeCloseTo(
      sumOf(usages.slice(0, 3), 'credits'),
      5,
    );
    for (const g of everything.groups) {
      expect(g.splits.reduce((n: number, s: Body) => n + s.credits, 0)).toBeCloseTo(g.credits, 5);
    }

    const limited = await api.token(['read'], [projectB]);
    const reply = await api.call('GET', `/api/telemetry/usage?groupBy=day&split=project&${range()}`, {
      token: limited,
    });
    expect(reply.status).toBe(200);
    const seen = new Set(reply.body.groups.flatMap((g: Body) => g.splits.map((s: Body) => s.key)));
    expect([...seen]).toEqual([projectB]);
    expect(reply.body.totals.credits).toBeCloseTo(usages[3].credits, 5);
    const byType = await api.call('GET', `/api/telemetry/usage?groupBy=nodeType&${range()}`, {
      token: limited,
    });
    expect(byType.body.groups.map((g: Body) => g.key)).toEqual(
      [...new Set(usages[3].steps.map((st: Body) => st.nodeType as string))].sort(),
    );
    const unsplittable = await api.call('GET', `/api/telemetry/usage?groupBy=nodeType&split=pipeline`);
    expect(unsplittable.status).toBe(400);
    expect(unsplittable.body.errors[0]).toMatchObject({ in: 'query', path: 'split' });
  });

  it('rejects a range that ends before it starts, and an unknown grouping, naming the field', async () => {
    const backwards = await api.call('GET', '/api/telemetry/usage?from=2025-02-01&to=2025-01-01');
    expect(backwards.status).toBe(400);
    expect(backwards.body.errors[0]).toMatchObject({ in: 'query', path: 'from' });
    const unknown = await api.call('GET', '/api/telemetry/usage?groupBy=colour');
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]).toMatchObject({ in: 'query', path: 'groupBy' });
  });
});

describe('telemetry sync into the warehouse', () => {
  const project = uniq('sync');
  const runIds: string[] = [];
  const counts = async () => {
    const runs = await h.platform.warehousePool.query(
      'select count(*)::int as n from tributary_telemetry.runs where run_id = any($1)',
      [runIds],
    );
    const steps = await h.platform.warehousePool.query(
      'select count(*)::int as n from tributary_telemetry.steps where run_id = any($1)',
      [runIds],
    );
    return { runs: runs.rows[0].n, steps: steps.rows[0].n };
  };
  /** Our runs' rows as the warehouse holds them, without the sync time. */
  const rows = async () =>
    (
      await h.platform.warehousePool.query(
        `select to_jsonb(r) - 'synced_at' as run,
                (select jsonb_agg(to_jsonb(s) order by s.node_id) from tributary_telemetry.steps s where s.run_id = r.run_id) as steps
           from tributary_telemetry.runs r where r.run_id = any($1) order by r.run_id`,
        [runIds],
      )
    ).rows;

  beforeAll(async () => {
    for (const id of ['sync-one', 'sync-two']) runIds.push((await h.run(mixedPipeline(id, project))).runId);
  });

  it('writes each closed run and its steps once, however often it syncs', async () => {
    await waitFor(async () => {
      const first = await api.call('POST', '/api/telemetry/sync', { body: { full: true } });
      expect(first.status).toBe(200);
      return (await counts()).runs === 2;
    });
    const once = await counts();
    expect(once).toEqual({ runs: 2, steps: 8 });
    const contentOnce = await rows();
    const again = await api.call('POST', '/api/telemetry/sync', { body: { full: true } });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ since: null });
    expect(again.body.runs).toBeGreaterThanOrEqual(2);
    expect(await counts()).toEqual(once);
    expect(await rows()).toEqual(contentOnce);
  });

  it('holds the same figures as the usage of each run', async () => {
    for (const runId of runIds) {
      const usage = (await api.call('GET', `/api/runs/${runId}/usage`)).body;
      const run = (
        await h.platform.warehousePool.query('select * from tributary_telemetry.runs where run_id = $1', [
          runId,
        ])
      ).rows[0];
      expect(run).toMatchObject({
        project,
        actor: 'test',
        trigger: 'manual',
        status: 'succeeded',
        attempts: usage.attempts,
        retries: usage.retries,
        rows_out: String(usage.rowsOut),
        bytes: String(usage.bytes),
        steps: 4,
      });
      expect(run.credits).toBeCloseTo(usage.credits, 5);
      expect(run.activity_seconds).toBeCloseTo(usage.activitySeconds, 5);
      const steps = (
        await h.platform.warehousePool.query(
          'select node_id, node_kind, attempts, credits from tributary_telemetry.steps where run_id = $1 order by node_id',
          [runId],
        )
      ).rows;
      expect(steps.map((s) => s.node_id)).toEqual(['flaky', 'numbers', 'slow', 'to-csv']);
      expect(steps.find((s) => s.node_id === 'flaky')).toMatchObject({ node_kind: 'source', attempts: 2 });
    }
  });

  it('picks up a run closed since the last sync incrementally, through the function too', async () => {
    const { runId } = await h.run(mixedPipeline('sync-three', project));
    runIds.push(runId);
    await waitFor(async () => {
      const result = await syncTelemetry({
        temporal: h.platform.temporal,
        runs: h.platform.runs,
        warehouse: h.platform.warehousePool,
        rates: parseCreditRates(JSON.stringify(RATES)),
      });
      expect(result.since).not.toBeNull();
      return (await counts()).runs === 3;
    });
    expect(await counts()).toEqual({ runs: 3, steps: 12 });
  });

  it('runs periodically for the worker until stopped', async () => {
    const { runId } = await h.run(mixedPipeline('sync-periodic', project));
    runIds.push(runId);
    const sync = startTelemetrySync(
      {
        temporal: h.platform.temporal,
        runs: h.platform.runs,
        warehouse: h.platform.warehousePool,
        rates: parseCreditRates(undefined),
      },
      200,
    );
    try {
      await waitFor(async () => (await counts()).runs === 4);
    } finally {
      await sync.stop();
    }
    expect(await counts()).toEqual({ runs: 4, steps: 16 });
  });
});
