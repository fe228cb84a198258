// Platform and warehouse apart, with an external Postgres (DATABASE_URL + WAREHOUSE_URL): a missing
// warehouse database is created, one database for both is refused unless allowed, and the runner
// role cannot connect to the platform database.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../../src/infra/logger.js';
import { providePostgres } from '../../src/infra/postgres-server.js';
import { connectPlatform, type Platform } from '../../src/platform.js';
import { runnerUrl } from '../../src/warehouse/roles.js';
import { TEST_MASTER_KEY } from '../harness.js';

const withDatabase = (url: string, database: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};
const base = { home: '/nonexistent', port: 0, persistent: false, log: silentLogger };
const created: string[] = [];
let platform: Platform | undefined;

afterAll(async () => {
  await platform?.close();
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  for (const name of created) await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.end();
});

describe('an external Postgres', () => {
  it('creates a missing warehouse database on the platform server, and connects to both', async () => {
    const name = `wh_${randomBytes(4).toString('hex')}`;
    created.push(name);
    const server = await providePostgres({
      ...base,
      databaseUrl: inject('databaseUrl'),
      warehouseUrl: withDatabase(inject('databaseUrl'), name),
    });
    expect(new URL(server.warehouseUrl).pathname).toBe(`/${name}`);
    platform = await connectPlatform({
      databaseUrl: server.url,
      warehouseUrl: server.warehouseUrl,
      temporalAddress: inject('temporalAddress'),
      namespace: 'default',
      taskQueue: 'external-postgres',
      masterKey: TEST_MASTER_KEY,
    });
    const runner = new pg.Client({ connectionString: runnerUrl(server.warehouseUrl, TEST_MASTER_KEY) });
    await runner.connect();
    expect((await runner.query('select current_user::text as u')).rows).toEqual([{ u: 'tributary_runner' }]);
    await runner.end();
    // The same role, pointed at the platform database, is turned away at the door.
    const intruder = new pg.Client({ connectionString: runnerUrl(server.url, TEST_MASTER_KEY) });
    await expect(intruder.connect()).rejects.toThrow(/permission denied for database/);
    await intruder.end().catch(() => {});
  });

  it('refuses one database for platform and warehouse unless TRIBUTARY_ALLOW_SHARED_DATABASE is set', async () => {
    const url = inject('databaseUrl');
    await expect(providePostgres({ ...base, databaseUrl: url, warehouseUrl: url })).rejects.toThrow(
      /DATABASE_URL and WAREHOUSE_URL name the same database .* TRIBUTARY_ALLOW_SHARED_DATABASE=true/,
    );
    await expect(providePostgres({ ...base, databaseUrl: url })).rejects.toThrow(
      /DATABASE_URL is set but WAREHOUSE_URL is not/,
    );
    const shared = await providePostgres({ ...base, databaseUrl: url, allowShared: true });
    expect(shared.warehouseUrl).toBe(url);
  });
});
