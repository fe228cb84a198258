// Routes on the real stack: flow.if by a row count, by a failed step and by a one-row SQL value,
// flow.switch, and failure outputs; the route not taken is skipped with why, in the progress and in
// the audit trail. Every step is a real node type on the real Temporal and Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTrailOf } from '../../src/audit/run-audit.js';
import { fetchRunHistory } from '../../src/audit/run-history.js';
import type { PipelineInput } from '../../src/model/pipeline.schema.js';
import { startHarness, type Harness } from '../harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.stop());

const once = { maxAttempts: 1 };
const gen = (rows: number) => ({ rows, columns: [{ name: 'n', generator: 'sequence' }] });

function pipeline(
  id: string,
  nodes: PipelineInput['nodes'],
  edges: PipelineInput['edges'],
  params = {},
): PipelineInput {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    params,
    nodes: nodes.map((n) => ({ retry: once, ...n })),
    edges,
  };
}

async function tableRows(table: string): Promise<number | null> {
  const { rows } = await h.platform.warehousePool.query<{ n: string | null }>(
    `select case when to_regclass($1) is null then null else (xpath('/row/c/text()', query_to_xml('select count(*) as c from ' || $1, false, true, '')))[1]::text end as n`,
    [`public.${table}`],
  );
  return rows[0]!.n === null ? null : Number(rows[0]!.n);
}

async function trail(runId: string) {
  return auditTrailOf(await fetchRunHistory(h.platform.temporal, runId));
}

describe('flow.if', () => {
  const byRowCount = (suffix: string) =>
    pipeline(
      `if-rows-${suffix}`,
      [
        { id: 'load', type: 'source.generate', config: gen(3) },
        {
          id: 'recent',
          type: 'transform.sql',
          config: { sql: 'select * from {{ inputs.load }} where n > {{ params.min }}' },
        },
        { id: 'check', type: 'flow.if', config: { condition: 'steps.recent.rowsOut > 0' } },
        {
          id: 'publish',
          type: 'sink.postgres',
          config: { table: `routes_published_${suffix}`, mode: 'replace' },
        },
        { id: 'nothing', type: 'transform.sql', config: { sql: "select 'nothing new' as note" } },
      ],
      [
        { from: 'load', to: 'recent' },
        { from: 'recent', to: 'check' },
        { from: 'check', to: 'publish', output: 'true' },
        { from: 'check', to: 'nothing', output: 'false' },
      ],
      { min: { type: 'integer', default: 0 } },
    );

  it('takes "true" when the upstream step has rows: the sink publishes what passed through, "false" is skipped', async () => {
    const { runId, status, progress } = await h.run(h.plan(byRowCount('a'), { min: 1 }));
    expect(status).toBe('succeeded');
    const steps = progress!.steps;
    expect(steps.check).toMatchObject({
      status: 'succeeded',
      decision: {
        taken: 'true',
        condition: 'steps.recent.rowsOut > 0',
        value: true,
        inputs: { 'steps.recent.rowsOut': 2 },
      },
    });
    expect(steps.publish).toMatchObject({ status: 'succeeded', rowsOut: 2 });
    expect(steps.nothing).toMatchObject({
      status: 'skipped',
      skippedBecause:
        'output "false" of "check" not taken: condition steps.recent.rowsOut > 0 is true (steps.recent.rowsOut = 2), so "true" was taken',
    });
    expect(await tableRows('routes_published_a')).toBe(2);

    const events = (await trail(runId)).events;
    const decided = events.find((e) => e.type === 'step.completed' && e.nodeId === 'check')!;
    expect(decided.message).toContain(
      'condition steps.recent.rowsOut > 0 is true (steps.recent.rowsOut = 2): output "true" taken',
    );
    expect(decided.details.decision).toMatchObject({ taken: 'true', value: true });
    expect(events.filter((e) => e.type === 'step.skipped').map((e) => [e.nodeId, e.message])).toEqual([
      [
        'nothing',
        expect.stringContaining('Step "nothing" skipped: output "false" of "check" not taken') as string,
      ],
    ]);
    expect(events.some((e) => e.type === 'step.scheduled' && e.nodeId === 'nothing')).toBe(false);
  });

  it('takes "false" when the upstream step has no rows: nothing is published', async () => {
    const { status, progress } = await h.run(h.plan(byRowCount('b'), { min: 10 }));
    expect(status).toBe('succeeded');
    expect(progress!.steps.check!.decision).toMatchObject({
      taken: 'false',
      inputs: { 'steps.recent.rowsOut': 0 },
    });
    expect(progress!.steps.nothing).toMatchObject({ status: 'succeeded', rowsOut: 1 });
    expect(progress!.steps.publish).toMatchObject({ status: 'skipped' });
    expect(progress!.steps.publish!.skippedBecause).toContain('output "true" of "check" not taken');
    expect(await tableRows('routes_published_b')).toBeNull();
  });

  const byFailure = (sql: string, id: string) =>
    pipeline(
      id,
      [
        { id: 'load', type: 'source.generate', config: gen(3) },
        { id: 'risky', type: 'transform.sql', config: { sql } },
        { id: 'check', type: 'flow.if', config: { condition: "steps.risky.status == 'failed'" } },
        { id: 'alert', type: 'transform.sql', config: { sql: "select 'risky failed' as alert" } },
        { id: 'carry_on', type: 'transform.sql', config: { sql: "select 'all good' as note" } },
      ],
      [
        { from: 'load', to: 'risky' },
        { from: 'risky', to: 'check' },
        { from: 'check', to: 'alert', output: 'true' },
        { from: 'check', to: 'carry_on', output: 'false' },
      ],
    );

  it('decides on a failed upstream step: it runs after the failure and takes "true"; the run still fails', async () => {
    const { runId, status, progress } = await h.run(
      h.plan(byFailure('select n / (n - n) as boom from {{ inputs.load }}', 'if-failed')),
    );
    expect(status).toBe('failed');
    const steps = progress!.steps;
    expect(steps.risky).toMatchObject({ status: 'failed' });
    expect(steps.risky!.error).toContain('division by zero');
    expect(steps.check!.decision).toMatchObject({
      taken: 'true',
      inputs: { 'steps.risky.status': 'failed' },
    });
    expect(steps.alert).toMatchObject({ status: 'succeeded', rowsOut: 1 });
    expect(steps.carry_on).toMatchObject({ status: 'skipped' });
    const skipped = (await trail(runId)).events.filter((e) => e.type === 'step.skipped');
    expect(skipped.map((e) => e.nodeId)).toEqual(['carry_on']);
  });

  it('takes "false" when the upstream step succeeded', async () => {
    const { status, progress } = await h.run(h.plan(byFailure('select n from {{ inputs.load }}', 'if-ok')));
    expect(status).toBe('succeeded');
    expect(progress!.steps.check!.decision).toMatchObject({ taken: 'false' });
    expect(progress!.steps.carry_on!.status).toBe('succeeded');
    expect(progress!.steps.alert!.status).toBe('skipped');
  });

  const bySql = (threshold: number, id: string) =>
    pipeline(
      id,
      [
        { id: 'load', type: 'source.generate', config: gen(5) },
        {
          id: 'check',
          type: 'flow.if',
          config: {
            condition: `query >= ${threshold}`,
            query: { sql: 'select sum(n) from {{ inputs.load }}', type: 'number' },
          },
        },
        { id: 'big', type: 'transform.sql', config: { sql: 'select count(*) as c from {{ inputs.check }}' } },
        { id: 'small', type: 'transform.sql', config: { sql: "select 'small' as size" } },
      ],
      [
        { from: 'load', to: 'check' },
        { from: 'check', to: 'big', output: 'true' },
        { from: 'check', to: 'small', output: 'false' },
      ],
    );

  it('decides on the value of a one-row SQL query over its input, run under the project role', async () => {
    const high = await h.run(h.plan(bySql(15, 'if-sql-true')));
    expect(high.status).toBe('succeeded');
    expect(high.progress!.steps.check!.decision).toMatchObject({
      taken: 'true',
      value: true,
      inputs: { query: 15 },
    });
    expect(high.progress!.steps.big).toMatchObject({ status: 'succeeded', rowsOut: 1 });
    expect(high.progress!.steps.small!.status).toBe('skipped');

    const low = await h.run(h.plan(bySql(16, 'if-sql-false')));
    expect(low.progress!.steps.check!.decision).toMatchObject({ taken: 'false', inputs: { query: 15 } });
    expect(low.progress!.steps.small!.status).toBe('succeeded');
    expect(low.progress!.steps.big!.status).toBe('skipped');
  });

  it('fails the decision, naming the field, when the query returns more than one row; its routes are skipped', async () => {
    const doc = bySql(1, 'if-sql-rows');
    (doc.nodes[1]!.config as { query: { sql: string } }).query.sql = 'select n from {{ inputs.load }}';
    const { status, progress } = await h.run(h.plan(doc));
    expect(status).toBe('failed');
    expect(progress!.steps.check!.error).toContain('query.sql: must return exactly one row with one column');
    expect(progress!.steps.big!.skippedBecause).toContain('"check" failed without deciding');
  });

  it('cannot read what the project role may not read: the query is refused like any SQL step', async () => {
    const doc = bySql(1, 'if-sql-denied');
    (doc.nodes[1]!.config as { query: { sql: string } }).query.sql = 'select count(*) from tributary.secrets';
    const { status, progress } = await h.run(h.plan(doc));
    expect(status).toBe('failed');
    expect(progress!.steps.check!.error).toMatch(/query\.sql: .*tributary/);
  });

  it("branches on an assertion gate's verdict", async () => {
    const doc = pipeline(
      'if-assert',
      [
        { id: 'load', type: 'source.generate', config: gen(3) },
        {
          id: 'gate',
          type: 'transform.assert',
          config: {
            assertions: [
              { name: 'small', sql: 'select * from {{ inputs.load }} where n > 2', severity: 'warn' },
            ],
          },
        },
        { id: 'check', type: 'flow.if', config: { condition: "steps.gate.assert == 'warned'" } },
        { id: 'review', type: 'transform.sql', config: { sql: 'select * from {{ inputs.check }}' } },
      ],
      [
        { from: 'load', to: 'gate' },
        { from: 'gate', to: 'check' },
        { from: 'check', to: 'review', output: 'true' },
      ],
    );
    const { progress } = await h.run(h.plan(doc));
    expect(progress!.steps.gate!.facts).toEqual({ assert: 'warned' });
    expect(progress!.steps.check!.decision).toMatchObject({ taken: 'true' });
    expect(progress!.steps.review).toMatchObject({ status: 'succeeded', rowsOut: 3 });
  });
});

describe('flow.switch', () => {
  const doc = () =>
    pipeline(
      'switch-mode',
      [
        { id: 'load', type: 'source.generate', config: gen(4) },
        {
          id: 'route',
          type: 'flow.switch',
          config: {
            cases: [
              { name: 'full', when: "params.mode == 'full'" },
              { name: 'large', when: 'steps.load.rowsOut > 100' },
            ],
          },
        },
        { id: 'full_load', type: 'transform.sql', config: { sql: 'select * from {{ inputs.route }}' } },
        { id: 'large_load', type: 'transform.sql', config: { sql: 'select * from {{ inputs.route }}' } },
        {
          id: 'delta',
          type: 'transform.sql',
          config: { sql: 'select * from {{ inputs.route }} where n > 2' },
        },
      ],
      [
        { from: 'load', to: 'route' },
        { from: 'route', to: 'full_load', output: 'full' },
        { from: 'route', to: 'large_load', output: 'large' },
        { from: 'route', to: 'delta', output: 'default' },
      ],
      { mode: { type: 'string', default: 'delta' } },
    );

  it('takes the first case that holds, and "default" when none does', async () => {
    const full = await h.run(h.plan(doc(), { mode: 'full' }));
    expect(full.status).toBe('succeeded');
    expect(full.progress!.steps.route!.decision).toMatchObject({
      taken: 'full',
      condition: "params.mode == 'full'",
    });
    expect(full.progress!.steps.full_load).toMatchObject({ status: 'succeeded', rowsOut: 4 });
    expect(full.progress!.steps.large_load!.status).toBe('skipped');
    expect(full.progress!.steps.delta!.status).toBe('skipped');

    const delta = await h.run(h.plan(doc()));
    expect(delta.progress!.steps.route!.decision).toMatchObject({ taken: 'default', condition: null });
    expect(delta.progress!.steps.delta).toMatchObject({ status: 'succeeded', rowsOut: 2 });
    expect(delta.progress!.steps.full_load!.skippedBecause).toBe(
      'output "full" of "route" not taken: no case held (params.mode = "delta", steps.load.rowsOut = 4), so "default" was taken',
    );
  });
});

describe('failure outputs', () => {
  const doc = (sql: string, id: string) =>
    pipeline(
      id,
      [
        { id: 'load', type: 'source.generate', config: gen(3) },
        {
          id: 'publish',
          type: 'sink.postgres',
          config: { table: `routes_${id.replace(/-/g, '_')}`, mode: 'replace' },
        },
        { id: 'shape', type: 'transform.sql', config: { sql } },
        { id: 'cleanup', type: 'transform.sql', config: { sql: "select 'cleaned up' as what" } },
      ],
      [
        { from: 'load', to: 'shape' },
        { from: 'shape', to: 'publish' },
        { from: 'shape', to: 'cleanup', output: 'failure' },
      ],
    );

  it('runs the failure output only when its step failed (after its retries), and skips its usual output', async () => {
    const failing = doc('select n / 0 as boom from {{ inputs.load }}', 'fail-edge');
    failing.nodes[2]!.retry = { maxAttempts: 2, initialIntervalSeconds: 0.1 };
    const { runId, status, progress } = await h.run(h.plan(failing));
    expect(status).toBe('failed');
    expect(progress!.steps.shape).toMatchObject({ status: 'failed' });
    expect(progress!.steps.cleanup).toMatchObject({ status: 'succeeded', rowsOut: 1 });
    expect(progress!.steps.publish).toMatchObject({ status: 'skipped', skippedBecause: '"shape" failed' });
    const events = (await trail(runId)).events;
    const cleanupStarted = events.find((e) => e.type === 'step.started' && e.nodeId === 'cleanup')!;
    const shapeFailed = events.find((e) => e.type === 'step.attempt_failed' && e.nodeId === 'shape')!;
    expect(cleanupStarted.eventId).toBeGreaterThan(shapeFailed.eventId);
  });

  it('skips the failure output when the step succeeds', async () => {
    const { status, progress } = await h.run(h.plan(doc('select n from {{ inputs.load }}', 'fail-edge-ok')));
    expect(status).toBe('succeeded');
    expect(progress!.steps.publish).toMatchObject({ status: 'succeeded', rowsOut: 3 });
    expect(progress!.steps.cleanup).toMatchObject({
      status: 'skipped',
      skippedBecause: 'output "failure" of "shape" not taken: "shape" succeeded',
    });
  });
});
