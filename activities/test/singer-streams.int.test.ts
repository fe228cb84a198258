// source.singer reading several streams in one node, with a real Singer tap from PyPI over the
// project's files (tap-spreadsheets: one stream per file pattern; tap-jsonl 0.3.1 discovers one
// stream only, and does not skip what its bookmarks cover), in the sandbox, through real runs: one
// table per stream typed from its SCHEMA message, a SQL step joining `{{ inputs.src.users }}` and
// `{{ inputs.src.orders }}`, the tap's STATE document stored only by a successful run (a second run
// reads only the new file of the incremental stream, the full-refresh one in full), a read killed
// mid-stream that is retried without duplicating a row (checked in SQL on the published table),
// one lineage dataset per stream, and the compiler naming a stream the node does not read.
import { randomBytes } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';
import { compile } from '../../engine/src/compiler/compile.js';
import { activityCatalog } from '../../engine/src/pipelines/node-catalog.js';
import { singerSource } from '../src/source/singer/singer.source.js';
import { killSandboxWhenFound } from './source-test-utils.js';

export const TAP_SPREADSHEETS = 'tap-spreadsheets==1.1.2';

let h: Harness;
const suffix = randomBytes(4).toString('hex');
const targets: string[] = [];
beforeAll(async () => {
  h = await startHarness();
}, 600_000);
afterAll(async () => {
  for (const target of targets) await h?.platform.warehousePool.query(`drop table if exists ${target}`);
  await h?.stop();
});

/** A CSV file of the project's folder, last modified `secondsAgo` (the tap's bookmark is the mtime). */
function csv(dir: string, name: string, lines: string[], secondsAgo: number) {
  mkdirSync(path.join(h.dataDir, dir), { recursive: true });
  const file = path.join(h.dataDir, dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(file, at, at);
}

const int = { type: ['integer', 'null'] };
const tapConfig = {
  files: [
    {
      path: '/data/users.csv',
      format: 'csv',
      table_name: 'users',
      schema_overrides: { id: int, joined: { type: ['string', 'null'], format: 'date' } },
    },
    {
      path: '/data/orders-*.csv',
      format: 'csv',
      table_name: 'orders',
      schema_overrides: { id: int, user_id: int, total: { type: ['number', 'null'] } },
    },
  ],
};

function pipeline(id: string, dir: string, target: string, retry = { maxAttempts: 1 }) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { keepStaging: true },
    nodes: [
      {
        id: 'src',
        type: 'source.singer',
        retry: { ...retry, initialIntervalSeconds: 1 },
        config: {
          package: TAP_SPREADSHEETS,
          config: tapConfig,
          files: dir,
          streams: [{ name: 'users' }, { name: 'orders', syncMode: 'incremental' }],
        },
      },
      {
        id: 'spend',
        type: 'transform.sql',
        config: {
          sql: `select u.id, u.name, count(o.id)::int as orders, coalesce(sum(o.total), 0) as total
                  from {{ inputs.src.users }} u left join {{ inputs.src.orders }} o on o.user_id = u.id
                 group by u.id, u.name`,
        },
      },
      {
        id: 'new_orders',
        type: 'transform.sql',
        config: { sql: 'select id, user_id, total from {{ inputs.src.orders }}' },
      },
      { id: 'out', type: 'sink.postgres', config: { table: target, mode: 'append' } },
    ],
    edges: [
      { from: 'src', to: 'spend' },
      { from: 'src', to: 'new_orders' },
      { from: 'new_orders', to: 'out' },
    ],
  };
}

const q = async (sql: string) => (await h.platform.warehousePool.query(sql)).rows;
const storedState = async (id: string) =>
  (
    await h.platform.platformPool.query(
      `select state from tributary.node_state where pipeline_id = $1 and node_id = 'src' and branch = ''`,
      [id],
    )
  ).rows[0]?.state;

describe('source.singer with several streams (tap-spreadsheets)', () => {
  it('reads each stream into a typed table; a second run reads only the new file of the incremental one', async () => {
    const dir = `singer-streams-${suffix}`;
    const target = `public.singer_orders_${suffix}`;
    targets.push(target);
    csv(
      dir,
      'users.csv',
      ['id,name,joined', '1,Ada,2024-01-02', '2,Grace,2024-02-03', '3,Linus,2024-03-04'],
      120,
    );
    csv(dir, 'orders-1.csv', ['id,user_id,total', '10,1,9.5', '11,2,3', '12,1,1.25'], 120);
    const id = `singer-streams-${suffix}`;
    const first = await h.run(h.plan(pipeline(id, dir, target)));
    expect(first.progress?.steps.src?.error ?? null).toBeNull();
    expect(first.status).toBe('succeeded');
    const schema = stagingSchemaFor(first.runId, id);

    // The node's table lists its streams; each stream's table is typed from its SCHEMA message.
    expect(
      await q(`select stream, table_name, rows::int, sync_mode from "${schema}".src order by stream`),
    ).toEqual([
      { stream: 'orders', table_name: 'src__orders', rows: 3, sync_mode: 'incremental' },
      { stream: 'users', table_name: 'src__users', rows: 3, sync_mode: 'full_refresh' },
    ]);
    const types = async (table: string) =>
      Object.fromEntries(
        (
          await q(
            `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
              where a.attrelid = to_regclass('"${schema}".${table}') and a.attnum > 0 and not a.attisdropped`,
          )
        ).map((r) => [r.name, r.type]),
      );
    expect(await types('src__users')).toMatchObject({
      id: 'bigint',
      name: 'text',
      joined: 'date',
      _sdc_last_modified: 'timestamp with time zone',
    });
    expect(await types('src__orders')).toMatchObject({
      id: 'bigint',
      user_id: 'bigint',
      total: 'double precision',
    });
    // The SQL step joined both streams.
    expect(await q(`select id::int, name, orders, total from "${schema}".spend order by id`)).toEqual([
      { id: 1, name: 'Ada', orders: 2, total: 10.75 },
      { id: 2, name: 'Grace', orders: 1, total: 3 },
      { id: 3, name: 'Linus', orders: 0, total: 0 },
    ]);
    expect(first.progress?.steps.src?.notes).toEqual([
      '3 records of stream users (full_refresh)',
      '3 records of stream orders (incremental)',
    ]);

    // The tap's STATE document, stored by the successful run: the incremental stream's bookmark;
    // the full-refresh stream's is left out, so it is read in full every time.
    const state = await storedState(id);
    expect(state).toMatchObject({
      state: { bookmarks: { orders: { replication_key: '_sdc_last_modified' } } },
    });
    expect(state.state.bookmarks.users).toBeUndefined();

    // A new file of orders: the next run reads only it, and users in full again.
    csv(dir, 'orders-2.csv', ['id,user_id,total', '13,3,7'], 5);
    const second = await h.run(h.plan(pipeline(id, dir, target)));
    expect(second.status).toBe('succeeded');
    const again = stagingSchemaFor(second.runId, id);
    expect(await q(`select id::int, _sdc_filename from "${again}".src__orders`)).toEqual([
      { id: 13, _sdc_filename: '/data/orders-2.csv' },
    ]);
    expect(await q(`select count(*)::int as n from "${again}".src__users`)).toEqual([{ n: 3 }]);
    expect(second.progress?.steps.src?.notes).toEqual([
      '3 records of stream users (full_refresh)',
      '1 records of stream orders (incremental, from the stored state)',
    ]);
    // Each order published once.
    expect(await q(`select count(*)::int as n, count(distinct id)::int as ids from ${target}`)).toEqual([
      { n: 4, ids: 4 },
    ]);
  }, 900_000);

  it('retries a read killed mid-stream from the committed state and duplicates nothing', async () => {
    const dir = `singer-kill-${suffix}`;
    const target = `public.singer_kill_${suffix}`;
    targets.push(target);
    const orders = 150_000;
    csv(dir, 'users.csv', ['id,name,joined', '1,Ada,2024-01-02'], 120);
    const lines = ['id,user_id,total'];
    for (let i = 1; i <= orders; i++) lines.push(`${i},1,${i % 100}`);
    csv(dir, 'orders-1.csv', lines, 120);
    const id = `singer-kill-${suffix}`;
    const document = pipeline(id, dir, target, { maxAttempts: 3 });
    const running = h.run(h.plan(document));
    // Attempt 1 is killed (SIGKILL to its sandbox) while it reads: the tap's read (`--catalog`) of
    // this folder.
    const folder = path.join(h.dataDir, dir);
    const reading = (argv: string[]) => argv.includes('--catalog') && argv.includes(folder);
    expect(await killSandboxWhenFound(reading, 1500)).toBeDefined();
    const first = await running;
    expect(first.progress?.steps.src?.error ?? null).toBeNull();
    expect(first.status).toBe('succeeded');
    expect(first.progress?.steps.src?.attempt).toBe(2);
    const count = async () =>
      (await q(`select count(*)::int as n, count(distinct id)::int as ids from ${target}`))[0];
    expect(await count()).toEqual({ n: orders, ids: orders });
    expect(await storedState(id)).toMatchObject({ state: { bookmarks: { orders: {} } } });

    // The next run starts from the stored state: nothing new, nothing read twice.
    const second = await h.run(h.plan(document));
    expect(second.status).toBe('succeeded');
    expect(second.progress?.steps.src?.notes).toContain(
      '0 records of stream orders (incremental, from the stored state)',
    );
    expect(await count()).toEqual({ n: orders, ids: orders });
  }, 900_000);

  it('keeps the state of a node saved with the one `stream` when it is switched to `streams`', async () => {
    const dir = `singer-switch-${suffix}`;
    csv(dir, 'users.csv', ['id,name,joined', '1,Ada,2024-01-02'], 120);
    csv(dir, 'orders-1.csv', ['id,user_id,total', '10,1,9.5', '11,1,2'], 120);
    const id = `singer-switch-${suffix}`;
    const doc = pipeline(id, dir, `public.unused_${suffix}`);
    doc.nodes = [doc.nodes[0]!];
    doc.edges = [];
    const config = doc.nodes[0]!.config as Record<string, unknown>;
    delete config.streams;
    Object.assign(config, { stream: 'orders', syncMode: 'incremental' });
    const old = await h.run(h.plan(doc));
    expect(old.status).toBe('succeeded');
    expect(old.progress?.steps.src?.notes).toEqual(['2 records of stream orders (incremental)']);
    // As it always was: the tap's document under the stream's name.
    expect(await storedState(id)).toMatchObject({ streams: { orders: { bookmarks: { orders: {} } } } });

    delete config.stream;
    delete config.syncMode;
    config.streams = [{ name: 'orders', syncMode: 'incremental' }, { name: 'users' }];
    const switched = await h.run(h.plan(doc));
    expect(switched.status).toBe('succeeded');
    expect(switched.progress?.steps.src?.notes).toEqual([
      '0 records of stream orders (incremental, from the stored state)',
      '1 records of stream users (full_refresh)',
    ]);
    expect(await storedState(id)).toMatchObject({ state: { bookmarks: { orders: {} } } });
  }, 600_000);

  it('refuses a stream the tap does not have, and a replication key its catalog does not list', async () => {
    const dir = `singer-bad-${suffix}`;
    csv(dir, 'users.csv', ['id,name,joined', '1,Ada,2024-01-02'], 120);
    const doc = pipeline(`singer-bad-${suffix}`, dir, `public.singer_bad_${suffix}`);
    doc.nodes = [doc.nodes[0]!];
    doc.edges = [];
    const config = doc.nodes[0]!.config as Record<string, unknown>;
    config.streams = [{ name: 'users' }, { name: 'customers' }];
    const run = await h.run(h.plan(doc));
    expect(run.status).toBe('failed');
    expect(run.progress?.steps.src?.error).toMatch(
      /config\.streams\.1: tap-spreadsheets==1\.1\.2 has no stream "customers" \(it has: (users, orders|orders, users)\)/,
    );
    config.streams = [{ name: 'users', syncMode: 'incremental', replicationKey: 'joined' }];
    const keyed = await h.run(h.plan(doc));
    expect(keyed.progress?.steps.src?.error).toMatch(
      /config\.streams\.0\.replicationKey: stream "users" has no replication key "joined" \(valid: _sdc_last_modified\)/,
    );
  }, 600_000);

  it('lists one lineage dataset per stream, and the compiler knows its streams', () => {
    const doc = pipeline('x', 'd', 'public.t');
    const lineage = singerSource.lineage!(
      doc.nodes[0]!.config as Record<string, unknown>,
      {
        project: 'default',
      } as never,
    );
    expect(lineage.reads?.map((r) => r.name)).toEqual([
      'singer:tap-spreadsheets/users',
      'singer:tap-spreadsheets/orders',
    ]);
    doc.nodes[2]!.config = { sql: 'select * from {{ inputs.src.customers }}' };
    const result = compile(doc, { catalog: activityCatalog });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(!result.ok && result.errors)).toContain(
      'reads no stream \\"customers\\" (it reads: users, orders)',
    );
    // A saved pipeline with the one `stream` still compiles (its table is the node's own).
    const old = pipeline('y', 'd', 'public.t');
    old.nodes[0]!.config = { package: TAP_SPREADSHEETS, config: tapConfig, stream: 'users' } as never;
    old.nodes[1]!.config = { sql: 'select * from {{ inputs.src }}' };
    old.nodes[2]!.config = { sql: 'select * from {{ inputs.src }}' };
    expect(compile(old, { catalog: activityCatalog }).ok).toBe(true);
  });
});
