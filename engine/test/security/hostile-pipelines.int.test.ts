// Hostile pipelines: one case per attack on the data plane, each saved and run through the API with
// a token limited to project A. Every case checks that the step fails with a message that says why
// and that nothing it aimed at changed (row counts before and after, files, requests received).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseEgressAllow, projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRole, RUNNER_ROLE } from '../../src/warehouse/roles.js';
import { startApi, uniq, type ApiHarness } from '../api/api-harness.js';
import { startHarness } from '../harness.js';

let api: ApiHarness;
let token: string;
const a = uniq('ha');
const b = uniq('hb');
const schemaA = projectSchemaName(a);
const schemaB = projectSchemaName(b);
let server: http.Server;
let port: number;
const requests: string[] = [];

/** SQL run as a project's role through the owner connection, as that project's pipelines would. */
async function asProject(project: string, sql: string): Promise<void> {
  const client = await api.h.platform.warehousePool.connect();
  try {
    await client.query('begin');
    await client.query(`set local role "${projectRole(project)}"`);
    await client.query(sql);
    await client.query('commit');
  } finally {
    client.release();
  }
}

const count = async (table: string) =>
  Number((await api.h.platform.warehousePool.query(`select count(*) as n from ${table}`)).rows[0].n);

let pipelines = 0;
/** Saves a pipeline of project A with A's token, runs it, and returns each step's status and error. */
async function runAsA(nodes: unknown[], edges: unknown[] = []) {
  const id = `hostile-${++pipelines}`;
  const saved = await api.call('POST', '/api/pipelines', {
    token,
    body: { apiVersion: 'tributary/v1', id: `${a}-${id}`, name: id, project: a, nodes, edges },
  });
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
  const started = await api.call('POST', `/api/pipelines/${a}-${id}/runs`, { token, body: {} });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  await api.h.platform.temporal.workflow
    .getHandle(started.body.runId)
    .result()
    .catch(() => {});
  const detail = await api.h.platform.runs.get(started.body.runId);
  return { status: detail.status, steps: detail.progress!.steps };
}

const seed = {
  id: 'seed',
  type: 'source.generate',
  config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
};
const sql = (id: string, text: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'transform.sql',
  config: { sql: text },
  retry: { maxAttempts: 1 },
  ...extra,
});
const fromSeed = (...ids: string[]) => ids.map((to) => ({ from: 'seed', to }));

beforeAll(async () => {
  // Outbound HTTP may reach the host name "localhost" only: 127.0.0.1 itself stays fenced.
  const h = await startHarness({ egress: parseEgressAllow('localhost') });
  api = await startApi({}, h);
  for (const project of [a, b]) {
    const created = await api.call('POST', '/api/projects', { body: { id: project, name: project } });
    expect(created.status).toBe(201);
  }
  token = await api.token([`write:${a}`, `run:${a}`, `read:${a}`]);
  await asProject(
    b,
    `create table ${schemaB}.orders (id int, total numeric); insert into ${schemaB}.orders values (1, 10), (2, 20)`,
  );
  await asProject(a, `create table ${schemaA}.victim (id int); insert into ${schemaA}.victim values (1)`);
  server = http.createServer((req, res) => {
    requests.push(req.url!);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/data` }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('[{"id":1}]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server?.close();
  for (const schema of [schemaA, schemaB]) {
    await api?.h.platform.warehousePool.query(`drop schema if exists ${schema} cascade`);
  }
  await api?.stop();
  await api?.h.stop();
});

describe('the roles the platform creates', () => {
  it('are neither superusers nor able to create roles or databases, and hold no server-file or program rights', async () => {
    const { rows } = await api.h.platform.warehousePool.query<Record<string, unknown>>(
      `select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolinherit, rolcanlogin,
              pg_has_role(oid, 'pg_read_server_files', 'member') as read_files,
              pg_has_role(oid, 'pg_write_server_files', 'member') as write_files,
              pg_has_role(oid, 'pg_execute_server_program', 'member') as programs
         from pg_roles where rolname = any($1) order by rolname`,
      [[RUNNER_ROLE, projectRole(a), projectRole(b)]],
    );
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row).toMatchObject({
        rolsuper: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolbypassrls: false,
        rolinherit: false,
        read_files: false,
        write_files: false,
        programs: false,
      });
      expect(row.rolcanlogin).toBe(row.rolname === RUNNER_ROLE);
    }
    const fns = await api.h.platform.warehousePool.query<{ fn: string; allowed: boolean }>(
      `select fn, has_function_privilege($1, fn, 'execute') as allowed
         from unnest(array['pg_catalog.set_config(text,text,boolean)', 'pg_catalog.lo_from_bytea(oid,bytea)',
                           'pg_catalog.pg_read_file(text)', 'pg_catalog.lo_export(oid,text)']) as fn`,
      [projectRole(a)],
    );
    expect(fns.rows.filter((f) => f.allowed)).toEqual([]);
  });

  it("run a step's SQL as the project's role, never as the runner or a superuser", async () => {
    const who = `select 1 as ok from {{ inputs.seed }}
                  where current_user = '${projectRole(a)}' and session_user = '${RUNNER_ROLE}'`;
    const { steps } = await runAsA([seed, sql('who', who)], fromSeed('who'));
    expect(steps.who).toMatchObject({ status: 'succeeded', rowsOut: 1 });
  });
});

describe('a pipeline of project A', () => {
  it('cannot read the platform schema: there is no such schema in the warehouse', async () => {
    // Other test files add and revoke their own tokens meanwhile: this file's must be as they were.
    const hashes = [token, api.admin].map((t) => createHash('sha256').update(t).digest('hex'));
    const existing = async () =>
      (
        await api.h.platform.platformPool.query(
          'select id, name, scopes, projects, expires_at from tributary.api_tokens where token_hash = any($1) order by id',
          [hashes],
        )
      ).rows;
    const tokens = await existing();
    expect(tokens).toHaveLength(2);
    const { status, steps } = await runAsA(
      [seed, sql('steal', 'select * from tributary.api_tokens, {{ inputs.seed }}')],
      fromSeed('steal'),
    );
    expect(status).toBe('failed');
    expect(steps.steal!.error).toMatch(/schema tributary does not exist/);
    expect(await existing()).toEqual(tokens);
  });

  it("cannot read another project's table, and is told whose it is", async () => {
    const { steps } = await runAsA(
      [
        seed,
        sql('direct', `select * from ${schemaB}.orders, {{ inputs.seed }}`, { continueOnFailure: true }),
        // Past the parser: the query hides in a string that query_to_xml runs. The role still says no.
        sql(
          'hidden',
          `select query_to_xml('select * from ${schemaB}.orders', true, false, '')::text as x from {{ inputs.seed }}`,
          {
            continueOnFailure: true,
          },
        ),
      ],
      fromSeed('direct', 'hidden'),
    );
    expect(steps.direct!.error).toContain(
      `table ${schemaB}.orders belongs to project ${b}; ask its owners to share it`,
    );
    expect(steps.hidden!.error).toContain(
      `schema ${schemaB} belongs to project ${b}; ask its owners to share it`,
    );
    expect(await count(`${schemaB}.orders`)).toBe(2);
  });

  it('cannot read files on the server with pg_read_file, not even hidden from the parser', async () => {
    const { steps } = await runAsA(
      [
        seed,
        sql('direct', "select pg_read_file('/etc/passwd') as f from {{ inputs.seed }}", {
          continueOnFailure: true,
        }),
        sql(
          'hidden',
          "select query_to_xml('select pg_read_file(''/etc/passwd'')', true, false, '')::text as x from {{ inputs.seed }}",
          {
            continueOnFailure: true,
          },
        ),
      ],
      fromSeed('direct', 'hidden'),
    );
    expect(steps.direct!.error).toMatch(/pg_read_file\(\) is not allowed in pipeline SQL/);
    expect(steps.hidden!.error).toMatch(/permission denied for function pg_read_file/);
  });

  it('cannot run a program with COPY … TO PROGRAM', async () => {
    const marker = path.join(os.tmpdir(), `tributary-pwned-${a}`);
    const { steps } = await runAsA(
      [seed, sql('copy', `copy (select 1) to program 'touch ${marker}'`)],
      fromSeed('copy'),
    );
    expect(steps.copy!.error).toMatch(/this is a COPY statement; only SELECT/);
    expect(existsSync(marker)).toBe(false);
  });

  it('cannot write a file through large objects (lo_export)', async () => {
    const marker = path.join(os.tmpdir(), `tributary-lo-${a}`);
    const { steps } = await runAsA(
      [
        seed,
        sql('direct', `select lo_export(lo_from_bytea(0, 'x'), '${marker}') as o from {{ inputs.seed }}`, {
          continueOnFailure: true,
        }),
        sql(
          'hidden',
          `select query_to_xml('select lo_from_bytea(0, ''x'')', true, false, '')::text as x from {{ inputs.seed }}`,
          {
            continueOnFailure: true,
          },
        ),
      ],
      fromSeed('direct', 'hidden'),
    );
    expect(steps.direct!.error).toMatch(/lo_export\(\) is not allowed/);
    expect(steps.hidden!.error).toMatch(/permission denied for function lo_from_bytea/);
    expect(existsSync(marker)).toBe(false);
  });

  it('cannot reach another database with dblink', async () => {
    const { steps } = await runAsA(
      [
        seed,
        sql(
          'link',
          "select * from dblink('dbname=tributary', 'select token_hash from tributary.api_tokens') as t(h text), {{ inputs.seed }}",
        ),
      ],
      fromSeed('link'),
    );
    expect(steps.link!.error).toMatch(/dblink\(\) is not allowed/);
  });

  it("cannot switch to another project's role with SET ROLE or set_config", async () => {
    const { steps } = await runAsA(
      [
        seed,
        sql('set', `set role "${projectRole(b)}"`, { continueOnFailure: true }),
        sql('config', `select set_config('role', '${projectRole(b)}', false) as r from {{ inputs.seed }}`, {
          continueOnFailure: true,
        }),
        sql(
          'hidden',
          `select query_to_xml('select set_config(''role'', ''${projectRole(b)}'', true)', true, false, '')::text as x from {{ inputs.seed }}`,
          {
            continueOnFailure: true,
          },
        ),
      ],
      fromSeed('set', 'config', 'hidden'),
    );
    expect(steps.set!.error).toMatch(/this is a SET statement/);
    expect(steps.config!.error).toMatch(/set_config\(\) is not allowed/);
    expect(steps.hidden!.error).toMatch(/permission denied for function set_config/);
  });

  it('cannot change how strings parse to smuggle a second statement past the parser', async () => {
    // Read with standard_conforming_strings on (as the parser and the server do), `'x\'';…--'` is one
    // string; with it off, a `drop table` would follow. Step one tries to turn it off (hidden from the
    // parser); step two carries the payload. The setting never changes, and the victim stays.
    const payload = `select 'x\\''; drop table ${schemaA}.victim; --' as s from {{ inputs.seed }}`;
    const { steps } = await runAsA(
      [
        seed,
        sql(
          'flip',
          "select query_to_xml('select set_config(''standard_conforming_strings'', ''off'', false)', true, false, '')::text as x from {{ inputs.seed }}",
          {
            continueOnFailure: true,
          },
        ),
        sql('smuggle', payload),
      ],
      [
        { from: 'seed', to: 'flip' },
        { from: 'seed', to: 'smuggle' },
      ],
    );
    expect(steps.flip!.error).toMatch(/permission denied for function set_config/);
    expect(steps.smuggle!.status).toBe('succeeded');
    expect(await count(`${schemaA}.victim`)).toBe(1);
  });

  it("cannot replace another project's table with sink.postgres", async () => {
    const { steps } = await runAsA(
      [
        seed,
        {
          id: 'out',
          type: 'sink.postgres',
          config: { table: `${schemaB}.orders`, mode: 'replace' },
          retry: { maxAttempts: 1 },
        },
      ],
      [{ from: 'seed', to: 'out' }],
    );
    expect(steps.out!.error).toContain(
      `schema ${schemaB} belongs to project ${b}; ask its owners to share it`,
    );
    expect(await count(`${schemaB}.orders`)).toBe(2);
  });

  it("cannot replace the platform's telemetry tables", async () => {
    await api.h.platform.warehousePool.query(
      'create schema if not exists tributary_telemetry; create table if not exists tributary_telemetry.hostile_probe (n int)',
    );
    const before = await count('tributary_telemetry.hostile_probe');
    const saved = await api.call('POST', '/api/pipelines', {
      token,
      body: {
        apiVersion: 'tributary/v1',
        id: `${a}-telemetry`,
        name: 'telemetry',
        project: a,
        nodes: [
          seed,
          {
            id: 'out',
            type: 'sink.postgres',
            config: { table: 'tributary_telemetry.hostile_probe', mode: 'replace' },
          },
        ],
        edges: [{ from: 'seed', to: 'out' }],
      },
    });
    expect(saved.body.valid).toBe(false);
    expect(JSON.stringify(saved.body.errors)).toMatch(
      /schema \\"tributary_telemetry\\" belongs to the platform/,
    );
    const started = await api.call('POST', `/api/pipelines/${a}-telemetry/runs`, { token, body: {} });
    expect(started.status).toBe(400);
    // Past the compiler (a differently cased name is another schema): the naming rule refuses it.
    const { steps } = await runAsA(
      [
        seed,
        {
          id: 'out',
          type: 'sink.postgres',
          config: { table: 'Tributary_Telemetry.hostile_probe', mode: 'replace' },
          retry: { maxAttempts: 1 },
        },
      ],
      [{ from: 'seed', to: 'out' }],
    );
    expect(steps.out!.error).toMatch(/schema Tributary_Telemetry is not one project .* may create/);
    expect(await count('tributary_telemetry.hostile_probe')).toBe(before);
  });

  it("cannot read another project's files", async () => {
    const dir = path.join(api.h.dataDir, b);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'secret.csv'), 'id\n1\n');
    const { steps } = await runAsA([
      { id: 'steal', type: 'source.csv', config: { path: `../${b}/secret.csv` }, retry: { maxAttempts: 1 } },
    ]);
    expect(steps.steal!.error).toMatch(/is outside the data directory/);
    // The default project keeps the data dir's root, but not the project folders in it.
    const id = `${a}-default-steal`;
    const saved = await api.call('POST', '/api/pipelines', {
      body: {
        apiVersion: 'tributary/v1',
        id,
        name: id,
        nodes: [
          { id: 'steal', type: 'source.csv', config: { path: `${b}/secret.csv` }, retry: { maxAttempts: 1 } },
        ],
      },
    });
    expect(saved.status).toBe(201);
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    await api.h.platform.temporal.workflow
      .getHandle(started.body.runId)
      .result()
      .catch(() => {});
    const detail = await api.h.platform.runs.get(started.body.runId);
    expect(detail.progress!.steps.steal!.error).toContain(`is in the files of project ${b}`);
  });

  it('cannot reach a cloud metadata address', async () => {
    const { steps } = await runAsA([
      {
        id: 'meta',
        type: 'source.http',
        config: { url: 'http://169.254.169.254/latest/meta-data/' },
        retry: { maxAttempts: 1 },
      },
    ]);
    expect(steps.meta!.error).toMatch(/http:\/\/169\.254\.169\.254.* refused: .*link-local/);
  });

  it('cannot reach loopback unless TRIBUTARY_EGRESS_ALLOW lets it through', async () => {
    const seen = requests.length;
    const { steps } = await runAsA([
      {
        id: 'loop',
        type: 'source.http',
        config: { url: `http://127.0.0.1:${port}/data` },
        retry: { maxAttempts: 1 },
      },
    ]);
    expect(steps.loop!.error).toMatch(/127\.0\.0\.1 is a loopback address; set TRIBUTARY_EGRESS_ALLOW/);
    expect(requests.length).toBe(seen);
  });

  it('cannot reach loopback through a redirect from an allowed host', async () => {
    const seen = requests.length;
    const { steps } = await runAsA([
      {
        id: 'hop',
        type: 'source.http',
        config: { url: `http://localhost:${port}/redirect` },
        retry: { maxAttempts: 1 },
      },
    ]);
    expect(steps.hop!.error).toMatch(/outbound request to http:\/\/127\.0\.0\.1:\d+\/data refused/);
    expect(requests.slice(seen)).toEqual(['/redirect']);
  });

  it('cannot send a secret to a host outside its allowedHosts', async () => {
    const put = await api.call('PUT', `/api/projects/${a}/secrets/api_token`, {
      token,
      body: { value: 'tok-bound-to-example', allowedHosts: ['api.example.com'] },
    });
    expect(put.status).toBe(200);
    expect(put.body.allowedHosts).toEqual(['api.example.com']);
    const seen = requests.length;
    const { steps } = await runAsA([
      {
        id: 'leak',
        type: 'source.http',
        config: { url: `http://localhost:${port}/data`, auth: { type: 'bearer', secret: 'api_token' } },
        retry: { maxAttempts: 1 },
      },
    ]);
    expect(steps.leak!.error).toMatch(
      /secret "api_token" may only be sent to api\.example\.com, not to localhost/,
    );
    expect(requests.length).toBe(seen);
  });
});
