// Run ids (sortable, idempotent, scheduled) and staging schema names: readable, unique per run,
// and always a valid Postgres identifier; and the pure SHA-256 they are made with.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runIdFor, scheduledRunId, stagingSchemaFor, stagingSchemaOfRun } from './run-ids.js';
import { sha256Hex } from './sha256.js';

describe('stagingSchemaFor', () => {
  it('names a run after the unique part of its id', () => {
    expect(stagingSchemaFor('run-orders-daily-01m89f03qnvg27zvsezj3d06f7', 'orders-daily')).toBe(
      'tr_run_01m89f03qnvg27zvsezj3d06f7',
    );
  });

  it('gives each scheduled run (the same id plus the scheduled time) its own schema', () => {
    const a = stagingSchemaFor('run-orders-sabc-2026-11-25T10:00:00Z', 'orders');
    const b = stagingSchemaFor('run-orders-sabc-2026-11-25T11:00:00Z', 'orders');
    expect(a).toBe('tr_run_sabc_2026_11_25t10_00_00z');
    expect(a).not.toBe(b);
  });

  it('stays within 63 characters and distinct when the id is long', () => {
    const long = (t: string) => stagingSchemaFor(`run-p-${'x'.repeat(80)}-${t}`, 'p');
    expect(long('a')).toHaveLength(63);
    expect(long('a')).toMatch(/^[a-z0-9_]+$/);
    expect(long('a')).not.toBe(long('b'));
  });
});

describe('run ids', () => {
  it('makes sortable ids, the same id for the same idempotency key, and one prefix per schedule', () => {
    const a = runIdFor('orders');
    expect(a).toMatch(/^run-orders-[0-9a-z]{26}$/);
    expect(runIdFor('orders', 'key-1')).toBe(runIdFor('orders', 'key-1'));
    expect(runIdFor('orders', 'key-1')).not.toBe(runIdFor('other', 'key-1'));
    // The hash is node's sha256: ids made before this module stay the same.
    const hash = createHash('sha256').update('orders\nkey-1').digest('hex').slice(0, 25);
    expect(runIdFor('orders', 'key-1')).toBe(`run-orders-k${hash}`);
    expect(scheduledRunId('orders')).toMatch(/^run-orders-s[0-9a-f]{25}$/);
  });

  it('finds the staging schema from the run id alone, as the workflow names it', () => {
    for (const [runId, pipelineId] of [
      [runIdFor('orders-daily'), 'orders-daily'],
      [runIdFor('a-b-c', 'key'), 'a-b-c'],
      [`${scheduledRunId('nightly')}-2026-11-25T10:00:00Z`, 'nightly'],
    ] as const) {
      expect(stagingSchemaOfRun(runId)).toBe(stagingSchemaFor(runId, pipelineId));
    }
    expect(stagingSchemaOfRun('not-a-run')).toBeUndefined();
  });

  it('hashes like node:crypto', () => {
    for (const text of ['', 'abc', 'x'.repeat(56), 'ünïcode ✓'.repeat(9)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });
});
