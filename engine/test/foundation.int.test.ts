// The foundation holds: a real pipeline run on the real Temporal dev server writes real rows into
// the real Postgres, and the API reports both servers healthy.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.js';
import { silentLogger } from '../src/infra/logger.js';
import { startHarness, type Harness } from './harness.js';
import { stagingSchemaFor } from '../src/model/run-ids.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.stop());

describe('foundation', () => {
  it('runs a workflow on the dev server whose activity writes rows into Postgres', async () => {
    const plan = h.plan({
      apiVersion: 'tributary/v1',
      id: 'foundation-smoke',
      name: 'Foundation smoke',
      settings: { keepStaging: true },
      nodes: [
        {
          id: 'numbers',
          type: 'source.generate',
          config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
        },
      ],
    });
    const { runId, status, progress } = await h.run(plan);
    expect(status).toBe('succeeded');
    expect(progress?.steps.numbers).toMatchObject({ status: 'succeeded', rowsOut: 3, attempt: 1 });
    const schema = stagingSchemaFor(runId, 'foundation-smoke');
    const rows = await h.platform.warehousePool.query(`select n from "${schema}".numbers order by n`);
    expect(rows.rows.map((r) => Number(r.n))).toEqual([1, 2, 3]);
  });

  it('answers /api/health with both servers ok, and where the Temporal UI and namespace are', async () => {
    const app = createApp({
      pool: h.platform.platformPool,
      temporal: h.platform.temporal,
      version: 'test',
      log: silentLogger,
      temporalUi: 'http://localhost:18233',
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        status: 'ok',
        temporal: 'ok',
        postgres: 'ok',
        version: 'test',
        temporalUi: 'http://localhost:18233',
        temporalNamespace: h.platform.temporal.options.namespace,
      });
    } finally {
      server.close();
    }
  });
});
