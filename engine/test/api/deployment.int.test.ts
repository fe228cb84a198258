// A deployment owns its Temporal namespace + task queue, and never attaches to a server it did not
// start. A second deployment (its own platform database) on a claimed task queue is refused with a
// message naming both and the variables; on a task queue of its own it shares the cluster. Starting
// on occupied ports exits non-zero naming the port and the variable, and the servers there go on.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { claimScheduleId, deploymentIdentity } from '../../src/deployment/deployment.js';
import { connectPlatform, type Platform } from '../../src/platform.js';
import { TEST_MASTER_KEY, TEST_PAYLOAD_KEY } from '../harness.js';

const opened: Platform[] = [];
let otherDatabase: string;
let otherUrl: string;

beforeAll(async () => {
  // A second deployment: a platform database of its own on the same server.
  otherDatabase = `tributary_other_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('databaseUrl') });
  await admin.connect();
  await admin.query(`create database ${otherDatabase}`);
  await admin.end();
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${otherDatabase}`;
  otherUrl = url.toString();
});

afterAll(async () => {
  for (const p of opened) await p.close();
});

const platformOf = async (databaseUrl: string, taskQueue: string) => {
  const platform = await connectPlatform({
    databaseUrl,
    warehouseUrl: inject('warehouseUrl'),
    temporalAddress: inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    masterKey: TEST_MASTER_KEY,
    payloadKey: TEST_PAYLOAD_KEY,
  });
  opened.push(platform);
  return platform;
};

describe('deployments', () => {
  it('have one identity, created once and kept in the platform database', async () => {
    const first = await platformOf(inject('databaseUrl'), `dep-${randomBytes(4).toString('hex')}`);
    const a = await deploymentIdentity(first.platformPool);
    expect(a.id).toMatch(/^dep-[0-9a-f]{16}$/);
    expect(await deploymentIdentity(first.platformPool)).toEqual(a);
  });

  it('refuse a task queue another deployment has claimed, naming both and the variables; share the cluster on their own', async () => {
    const queue = `dep-${randomBytes(4).toString('hex')}`;
    const first = await platformOf(inject('databaseUrl'), queue);
    // The same deployment again (a second API or worker process) is welcome.
    await platformOf(inject('databaseUrl'), queue);
    const mine = await deploymentIdentity(first.platformPool);

    const refused = await platformOf(otherUrl, queue).then(
      () => null,
      (error: Error) => error,
    );
    expect(refused?.message).toContain(
      `Temporal namespace "default", task queue "${queue}" is claimed by another Tributary deployment`,
    );
    expect(refused?.message).toContain(mine.id);
    expect(refused?.message).toContain(otherDatabase);
    expect(refused?.message).toMatch(/TEMPORAL_TASK_QUEUE.*TEMPORAL_NAMESPACE.*DATABASE_URL/);
    expect(refused?.message).toContain(`--schedule-id ${claimScheduleId(queue)}`);

    // On a task queue of its own, the second deployment starts on the same cluster.
    const other = await platformOf(otherUrl, `${queue}-other`);
    expect((await deploymentIdentity(other.platformPool)).id).not.toBe(mine.id);
  });

  it('start refuses occupied Temporal, Temporal UI and Postgres ports: exits non-zero naming port and variable, never attaching', async () => {
    const temporalPort = new URL(`http://${inject('temporalAddress')}`).port;
    const postgresPort = new URL(inject('databaseUrl')).port;
    const home = mkdtempSync(path.join(os.tmpdir(), 'tributary-second-'));
    chmodSync(home, 0o755);
    const cli = path.resolve('.tributary', 'bin', 'temporal');
    try {
      for (const [variable, env] of [
        ['TEMPORAL_PORT', { TEMPORAL_PORT: temporalPort, POSTGRES_PORT: '0', TEMPORAL_UI_PORT: '0' }],
        ['TEMPORAL_UI_PORT', { TEMPORAL_PORT: '0', TEMPORAL_UI_PORT: postgresPort, POSTGRES_PORT: '0' }],
        ['POSTGRES_PORT', { TEMPORAL_PORT: '0', TEMPORAL_UI_PORT: '0', POSTGRES_PORT: postgresPort }],
      ] as const) {
        const { code, output } = await runStart({
          ...env,
          TRIBUTARY_HOME: home,
          TEMPORAL_CLI_PATH: cli,
          PORT: '0',
        });
        const port = variable === 'TEMPORAL_PORT' ? temporalPort : postgresPort;
        expect(code, output).not.toBe(0);
        expect(output).toContain(`Port ${port} is already in use`);
        expect(output).toContain(`Set ${variable} to a free port`);
        expect(output).not.toContain('Tributary 0.1.0 is running');
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    // The servers on those ports, which the refused starts did not start, are unharmed.
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
    const client = new pg.Client({ connectionString: inject('databaseUrl') });
    await client.connect();
    await client.query('select 1');
    await client.end();
  });
});

function runStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['tsx', 'engine/src/cli/start.ts'], {
      env: { ...process.env, ...env, TRIBUTARY_ROLE: 'all', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
