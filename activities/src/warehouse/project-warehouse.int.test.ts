// The step's view of the warehouse on a real Postgres: statements under the project's role, one
// statement per query (the extended protocol), and nothing of a session left for the next step.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runnerUrl } from '../../../engine/src/warehouse/roles.js';
import { startHarness, TEST_MASTER_KEY, type Harness } from '../../../engine/test/harness.js';
import { projectWarehouse, type ProjectWarehouse } from './project-warehouse.js';
import { catalogSchemaOwners } from './schema-owners.js';

let h: Harness;
let runner: pg.Pool;
let warehouse: ProjectWarehouse;

beforeAll(async () => {
  h = await startHarness();
  // One connection, so the second checkout is surely the connection the first one used.
  runner = new pg.Pool({ connectionString: runnerUrl(inject('warehouseUrl'), TEST_MASTER_KEY), max: 1 });
  warehouse = projectWarehouse({
    pool: runner,
    project: 'default',
    role: 'trp_default',
    defaultSchema: 'public',
    statementTimeoutMs: 60_000,
    owners: catalogSchemaOwners(runner),
    ensureSchema: async () => {},
  });
});
afterAll(async () => {
  await runner?.end();
  await h?.stop();
});

describe('the warehouse a step sees', () => {
  it("runs each statement as the project's role, with the step's timeout", async () => {
    const { rows } = await warehouse.query<{ role: string; timeout: string }>(
      "select current_user::text as role, current_setting('statement_timeout') as timeout",
    );
    expect(rows).toEqual([{ role: 'trp_default', timeout: '1min' }]);
  });

  it('refuses two statements in one query, even without params', async () => {
    await expect(warehouse.query('select 1; select 2')).rejects.toThrow(
      /cannot insert multiple commands into a prepared statement/,
    );
  });

  it('resets the session before the connection serves the next step', async () => {
    const client = await warehouse.connect();
    await client.query("set application_name = 'left-behind'");
    client.release();
    const { rows } = await runner.query<{ name: string; role: string }>(
      "select current_setting('application_name') as name, current_user::text as role",
    );
    expect(rows).toEqual([{ name: '', role: 'tributary_runner' }]);
  });

  it('has no rights of its own outside a transaction under the role', async () => {
    await expect(runner.query('create table public.runner_made (n int)')).rejects.toThrow(
      /permission denied/,
    );
  });

  it('lends spare connections only when free, at most its part per project, under the role', async () => {
    const spare = new pg.Pool({
      connectionString: runnerUrl(inject('warehouseUrl'), TEST_MASTER_KEY),
      max: 2,
    });
    const held = new Map<string, number>();
    const lend = (project: string) =>
      projectWarehouse({
        pool: runner,
        project,
        role: 'trp_default',
        defaultSchema: 'public',
        statementTimeoutMs: 60_000,
        owners: catalogSchemaOwners(runner),
        ensureSchema: async () => {},
        spare: { pool: spare, held, perProject: 1 },
      });
    try {
      const first = await lend('a').trySpare();
      expect(first).toBeDefined();
      const { rows } = await first!.query<{ role: string }>('select current_user::text as role');
      expect(rows).toEqual([{ role: 'trp_default' }]);
      // Project a holds its part; project b gets the other one; then none is free.
      expect(await lend('a').trySpare()).toBeUndefined();
      const second = await lend('b').trySpare();
      expect(second).toBeDefined();
      expect(await lend('c').trySpare()).toBeUndefined();
      expect(Object.fromEntries(held)).toEqual({ a: 1, b: 1 });
      // Released twice, counted back once.
      first!.release();
      first!.release();
      second!.release(true);
      expect(Object.fromEntries(held)).toEqual({ a: 0, b: 0 });
      const again = await lend('c').trySpare();
      expect(again).toBeDefined();
      again!.release();
      // Without a spare pool there is nothing to lend.
      expect(await warehouse.trySpare()).toBeUndefined();
    } finally {
      await spare.end();
    }
  });
});
