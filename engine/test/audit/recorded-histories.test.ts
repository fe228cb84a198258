// The audit trail and usage of the recorded histories (engine/test/histories), read from their JSON
// without any server: a run with a warning, a queued run, and a failure that skips descendants.
import { readFileSync } from 'node:fs';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { auditTrailOf } from '../../src/audit/run-audit.js';
import { parseRunHistory } from '../../src/audit/run-history.js';
import { DEFAULT_CREDIT_RATES } from '../../src/telemetry/credit-rates.js';
import { runUsageOf } from '../../src/telemetry/run-usage.js';

function recorded(name: string) {
  const json = JSON.parse(readFileSync(new URL(`../histories/${name}.json`, import.meta.url), 'utf8'));
  const history = proto.temporal.api.history.v1.History.fromObject(json);
  return parseRunHistory(`run-${name}`, history.events, defaultPayloadConverter);
}

const brief = (name: string) =>
  auditTrailOf(recorded(name)).events.map((e) =>
    [e.type, e.nodeId, e.attempt].filter((x) => x !== null).join(' '),
  );

describe('recorded histories', () => {
  it('shows a retried step, a failed optional step and a run that ended with warnings', () => {
    const trail = auditTrailOf(recorded('diamond-with-warning'));
    expect(trail.status).toBe('succeeded_with_warnings');
    expect(brief('diamond-with-warning')).toEqual([
      'run.requested',
      'step.scheduled numbers',
      'step.started numbers 1',
      'step.completed numbers 1',
      'step.scheduled flaky',
      'step.scheduled optional',
      'step.started optional 1',
      'step.attempt_failed optional 1',
      'step.started flaky 2',
      'step.completed flaky 2',
      'step.scheduled join',
      'step.started join 1',
      'step.completed join 1',
      'run.completed',
    ]);
    expect(trail.events.at(-1)!.message).toBe('Run ended: succeeded_with_warnings');
    const usage = runUsageOf(recorded('diamond-with-warning'), DEFAULT_CREDIT_RATES);
    expect(usage.steps.map((s) => [s.nodeId, s.status, s.attempts, s.retries])).toEqual([
      ['numbers', 'succeeded', 1, 0],
      ['flaky', 'succeeded', 2, 1],
      ['optional', 'failed', 1, 0],
      ['join', 'succeeded', 1, 0],
    ]);
    expect(usage).toMatchObject({ attempts: 5, retries: 1, rowsOut: 3 + 1 + 1 });
  });

  it('reads a run whose lifecycle work and slot requests were local activities as the same trail', () => {
    // fair-share-lanes.json: patched('lifecycle-local') and patched('fair-share-lanes'), so prepareRun,
    // finishRun and requestProjectSlot are markers in its history, not activity tasks.
    const history = recorded('fair-share-lanes');
    const types = [...history.activities.values()].map((t) => t.activityType);
    expect(types).toEqual(expect.arrayContaining(['prepareRun', 'finishRun', 'requestProjectSlot']));
    expect(
      history.events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'prepareRun'),
    ).toBe(false);
    const trail = auditTrailOf(history);
    expect(trail.status).toBe('succeeded_with_warnings');
    expect(brief('fair-share-lanes').filter((e) => !e.startsWith('step.'))).toEqual([
      'run.requested',
      'run.completed',
    ]);
    expect(new Set(brief('fair-share-lanes'))).toEqual(new Set(brief('diamond-with-warning')));
    const usage = runUsageOf(history, DEFAULT_CREDIT_RATES);
    expect(usage.steps.map((s) => [s.nodeId, s.status, s.attempts, s.retries])).toEqual([
      ['numbers', 'succeeded', 1, 0],
      ['flaky', 'succeeded', 2, 1],
      ['optional', 'failed', 1, 0],
      ['join', 'succeeded', 1, 0],
    ]);
    // The local activities' time is the run's platform overhead, as their activity tasks' was.
    const lifecycle = [...history.activities.values()].filter((t) => t.step === null);
    expect(lifecycle.map((t) => t.closed?.outcome)).toEqual(lifecycle.map(() => 'completed'));
    const seconds = lifecycle.reduce((sum, t) => sum + (t.closed!.at - t.started!.at) / 1000, 0);
    expect(usage.lifecycleSeconds).toBeCloseTo(seconds, 2);
  });

  it('shows a queued run waiting for the pipeline lock, then starting', () => {
    expect(brief('queued-run')).toEqual([
      'run.requested',
      'run.queued',
      'run.lock_granted',
      'step.scheduled only',
      'step.started only 1',
      'step.completed only 1',
      'run.completed',
    ]);
  });

  it('counts a step never reached after a failure as skipped', () => {
    const usage = runUsageOf(recorded('failure-skips-descendants'), DEFAULT_CREDIT_RATES);
    expect(usage.status).toBe('failed');
    expect(usage.steps.map((s) => [s.nodeId, s.status, s.attempts])).toEqual([
      ['src', 'succeeded', 1],
      ['bad', 'failed', 1],
      ['after', 'skipped', 0],
    ]);
    expect(usage.lifecycleSeconds).toBeGreaterThan(0);
  });
});
