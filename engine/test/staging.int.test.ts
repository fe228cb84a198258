// Staging lifecycle: dropped when a run ends, kept for previews when asked, and swept after its TTL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpiredStaging } from '../src/warehouse/kept-staging.js';
import { startHarness, type Harness } from './harness.js';
import { stagingSchemaFor } from '../src/model/run-ids.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.stop());

const schemaExists = async (name: string) =>
  (await h.platform.warehousePool.query('select 1 from pg_namespace where nspname = $1', [name])).rowCount ===
  1;

const doc = (id: string, keepStaging: boolean) => ({
  apiVersion: 'tributary/v1',
  id,
  name: id,
  settings: { keepStaging },
  nodes: [
    {
      id: 'g',
      type: 'source.generate',
      config: { rows: 2, columns: [{ name: 'n', generator: 'sequence' }] },
    },
  ],
});

describe('staging', () => {
  it('drops the staging schema when the run ends', async () => {
    const { runId, status } = await h.run(h.plan(doc('staging-dropped', false)));
    expect(status).toBe('succeeded');
    expect(await schemaExists(stagingSchemaFor(runId, 'staging-dropped'))).toBe(false);
  });

  it('keeps staging when asked, and the sweeper drops it only once its time is up', async () => {
    const { runId } = await h.run(h.plan(doc('staging-kept', true)));
    const schema = stagingSchemaFor(runId, 'staging-kept');
    expect(await schemaExists(schema)).toBe(true);
    expect(await sweepExpiredStaging(h.platform.warehousePool)).not.toContain(schema);
    expect(await schemaExists(schema)).toBe(true);
    const dropped = await sweepExpiredStaging(h.platform.warehousePool, new Date(Date.now() + 25 * 3600_000));
    expect(dropped).toContain(schema);
    expect(await schemaExists(schema)).toBe(false);
  });
});
