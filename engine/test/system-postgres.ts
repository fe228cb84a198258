// A PostgreSQL server from a directory of binaries the machine has (TRIBUTARY_TEST_POSTGRES_BIN,
// e.g. Debian's /usr/lib/postgresql/15/bin), in a throwaway data directory on a free port, so the
// integration suites run against that version as an external DATABASE_URL/WAREHOUSE_URL. Never a
// cluster the machine runs itself (Debian's on 5432).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { findFreePort } from '../src/infra/ports.js';

export interface SystemPostgres {
  /** The platform database. */
  url: string;
  /** The warehouse database on the same server (created by the platform's start). */
  warehouseUrl: string;
  version: string;
  /** Stops the server, keeping its data (an outage). */
  halt(): void;
  /** Starts it again on the same port with the same data. */
  resume(): void;
  stop(): Promise<void>;
}

const USER = 'postgres';

export async function startSystemPostgres(binDir: string): Promise<SystemPostgres> {
  for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(path.join(binDir, tool)))
      throw new Error(
        `TRIBUTARY_TEST_POSTGRES_BIN=${binDir} has no ${tool}: name a PostgreSQL bin directory`,
      );
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tributary-pg-'));
  chmodSync(dir, 0o700);
  const data = path.join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = path.join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  // Postgres refuses to run as root: as root, the server runs as the postgres user.
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : path.join(binDir, tool);
    const argv = asRoot ? ['-u', USER, '--', path.join(binDir, tool), ...args] : args;
    const result = spawnSync(command, argv, { encoding: 'utf8' });
    if (result.status !== 0)
      throw new Error(`${tool} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  run('initdb', ['-D', data, '-U', USER, '--pwfile', pwfile, '--auth=scram-sha-256', '--encoding=UTF8']);
  const port = await findFreePort();
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      path.join(dir, 'log'),
      '-w',
      '-o',
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=300`,
      'start',
    ]);
  start();
  const version = run('postgres', ['--version']).trim();
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const admin = new pg.Client({ connectionString: `${base}/postgres` });
  await admin.connect();
  await admin.query('create database tributary');
  await admin.end();
  return {
    url: `${base}/tributary`,
    warehouseUrl: `${base}/tributary_warehouse`,
    version,
    halt: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    resume: start,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
