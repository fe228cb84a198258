// Staging schema names: readable, unique per run, and always a valid Postgres identifier.
import { describe, expect, it } from 'vitest';
import { stagingSchemaFor } from './staging.js';

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
