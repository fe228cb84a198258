// Starts the real servers every integration test talks to: a Temporal dev server (in memory, no
// UI) and an embedded Postgres, both on free ports under a throwaway TRIBUTARY_HOME.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { parseEnv } from '../src/config/env.js';
import { createLogger } from '../src/infra/logger.js';
import { startInfrastructure } from '../src/platform.js';
import { migrate } from '../src/store/migrate.js';
import pg from 'pg';
import { startSystemPostgres, type SystemPostgres } from './system-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    warehouseUrl: string;
    tributaryHome: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'tributary-test-'));
  chmodSync(home, 0o755); // the embedded Postgres runs as the postgres user and must reach it
  // Tests never use the developer's servers: DATABASE_URL and TEMPORAL_ADDRESS are ignored here,
  // but the binary lookup (TEMPORAL_CLI_PATH, PATH, cache) is the same as for `npm start`.
  // TRIBUTARY_TEST_POSTGRES_BIN: the suites run against that PostgreSQL (e.g. Debian's 15) as an
  // external server of their own, instead of the embedded one.
  let system: SystemPostgres | undefined;
  if (process.env.TRIBUTARY_TEST_POSTGRES_BIN) {
    system = await startSystemPostgres(process.env.TRIBUTARY_TEST_POSTGRES_BIN);
    process.stderr.write(`integration tests use ${system.version} (TRIBUTARY_TEST_POSTGRES_BIN)\n`);
  }
  const env = parseEnv({
    ...(system ? { DATABASE_URL: system.url, WAREHOUSE_URL: system.warehouseUrl } : {}),
    TRIBUTARY_HOME: home,
    TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH,
    PATH: process.env.PATH,
    LOG_LEVEL: 'warn',
  });
  // The CLI cache is the repository's own, so it is fetched at most once per checkout.
  const infra = await startInfrastructure(env, createLogger('warn', 'test'), {
    ephemeral: true,
    binCacheDir: path.resolve('.tributary', 'bin'),
  }).catch(async (error: Error) => {
    await system?.stop();
    throw new Error(
      `Integration tests need a real Temporal dev server and Postgres, and they could not start:\n${error.message}`,
    );
  });
  const pool = new pg.Pool({ connectionString: infra.postgres.url });
  await migrate(pool);
  await pool.end();
  project.provide('temporalAddress', infra.temporal.address);
  project.provide('databaseUrl', infra.postgres.url);
  project.provide('warehouseUrl', infra.postgres.warehouseUrl);
  project.provide('tributaryHome', home);
  return async () => {
    await infra.stop();
    await system?.stop();
    rmSync(home, { recursive: true, force: true });
  };
}
