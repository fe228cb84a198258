// PostgreSQL 15 to 18: the servers the suites run against are of a supported version (the embedded
// one, or TRIBUTARY_TEST_POSTGRES_BIN's: CI runs the warehouse suites on Debian's 15 too), the
// warehouse grants work there, and an older server is refused with the version found and needed.
import { inject, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import {
  checkServerVersion,
  MIN_POSTGRES_VERSION,
  serverVersionProblem,
} from '../../src/infra/postgres-server.js';
import { prepareWarehouse, provisionProject } from '../../src/warehouse/provision.js';
import { TEST_MASTER_KEY } from '../harness.js';
import { RUNNER_ROLE } from '../../src/warehouse/roles.js';

describe('PostgreSQL versions', () => {
  it('runs the suites on a supported server, the one TRIBUTARY_TEST_POSTGRES_BIN names when set', async () => {
    const client = new pg.Client({ connectionString: inject('warehouseUrl') });
    await client.connect();
    try {
      const major = await checkServerVersion(client, 'WAREHOUSE_URL');
      expect(major).toBeGreaterThanOrEqual(MIN_POSTGRES_VERSION);
      const bin = process.env.TRIBUTARY_TEST_POSTGRES_BIN;
      if (bin) {
        const version = execFileSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' });
        expect(version).toContain(`PostgreSQL) ${major}.`);
      }
    } finally {
      await client.end();
    }
  });

  it("grants a project's role to the runner so it may SET ROLE to it but inherits none of its rights", async () => {
    const owner = new pg.Pool({ connectionString: inject('warehouseUrl') });
    try {
      await prepareWarehouse(owner, TEST_MASTER_KEY);
      await provisionProject(owner, 'pgversion');
      const { rows } = await owner.query<{ member: boolean; inherits: boolean; usage: boolean }>(
        `select pg_has_role($1, 'trp_pgversion', 'member') as member,
                pg_has_role($1, 'trp_pgversion', 'usage') as inherits,
                has_schema_privilege($1, 'pgversion', 'usage') as usage`,
        [RUNNER_ROLE],
      );
      expect(rows[0]).toEqual({ member: true, inherits: false, usage: false });
    } finally {
      await owner.end();
    }
  });

  it('refuses a server older than 15, naming the version found, the version needed and the variable', () => {
    expect(serverVersionProblem(140011, '14.11', 'DATABASE_URL')).toBe(
      'DATABASE_URL is PostgreSQL 14.11; Tributary needs PostgreSQL 15 or newer (15, 16, 17 and 18 are supported). ' +
        'Point DATABASE_URL at a newer server.',
    );
    for (const num of [150000, 160004, 170002, 180000]) expect(serverVersionProblem(num, '', 'X')).toBeNull();
  });
});
