// source.singer through real pipeline runs with the real tap-jsonl from PyPI over files of the
// project, mounted read-only into the sandbox: typed columns, files outside its folder out of reach, and incremental runs whose STATE is
// stored only by a successful run and handed back to the next.
import { randomBytes } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';

export const TAP_JSONL = 'tap-jsonl==0.3.1';

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = `singer-${randomBytes(4).toString('hex')}`;
  mkdirSync(path.join(h.dataDir, dir), { recursive: true });
}, 600_000);
afterAll(async () => h?.stop());

function write(name: string, lines: unknown[], secondsAgo: number) {
  const file = path.join(h.dataDir, dir, name);
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(file, at, at);
}

const document = (id: string, syncMode: string) => ({
  apiVersion: 'tributary/v1',
  id,
  name: id,
  settings: { keepStaging: true },
  nodes: [
    {
      id: 'src',
      type: 'source.singer',
      config: {
        package: TAP_JSONL,
        config: { path: '/data/*.jsonl', stream_name: 'people' },
        files: dir,
        stream: 'people',
        syncMode,
      },
      retry: { maxAttempts: 1 },
    },
  ],
});

async function rows(runId: string, id: string) {
  const { rows } = await h.platform.warehousePool.query(
    `select id, name, tags from "${stagingSchemaFor(runId, id)}".src order by id`,
  );
  return rows;
}

describe('source.singer (tap-jsonl)', () => {
  it('reads local files into a typed table, stores its STATE and hands it back next run', async () => {
    write(
      'a.jsonl',
      [
        { id: 1, name: 'Ada', tags: { x: 1 } },
        { id: 2, name: 'Grace', tags: null },
      ],
      120,
    );
    const id = `singer-inc-${dir}`;
    const first = await h.run(h.plan(document(id, 'incremental')));
    expect(first.progress?.steps.src?.error ?? null).toBeNull();
    expect(first.status).toBe('succeeded');
    expect(await rows(first.runId, id)).toEqual([
      { id: '1', name: 'Ada', tags: { x: 1 } },
      { id: '2', name: 'Grace', tags: null },
    ]);
    const types = await h.platform.warehousePool.query<{ name: string; type: string }>(
      `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
        where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped order by a.attnum`,
      [`"${stagingSchemaFor(first.runId, id)}".src`],
    );
    expect(Object.fromEntries(types.rows.map((r) => [r.name, r.type]))).toMatchObject({
      id: 'bigint',
      name: 'text',
      tags: 'jsonb',
      _sdc_last_modified: 'timestamp with time zone',
    });

    // The tap's STATE is stored by the successful run, per node and stream.
    const state = await h.platform.platformPool.query(
      `select state from tributary.node_state where pipeline_id = $1 and node_id = 'src' and branch = ''`,
      [id],
    );
    expect(state.rows[0]?.state).toMatchObject({
      streams: { people: { bookmarks: { people: { replication_key: '_sdc_last_modified' } } } },
    });

    // The next run hands it back with --state. (tap-jsonl 0.3.1 itself does not skip what its
    // bookmarks cover — its own spec says so — so it reads every file again; a tap that filters
    // by its bookmarks reads only what is new, as source.airbyte's faker test shows.)
    write('b.jsonl', [{ id: 3, name: 'Linus' }], 10);
    const second = await h.run(h.plan(document(id, 'incremental')));
    expect(second.status).toBe('succeeded');
    expect(second.progress?.steps.src?.notes?.[0]).toMatch(
      /3 records of stream people \(incremental, from the stored state\)/,
    );
  }, 600_000);

  it('fails at once, not retried, when the config lacks a setting its --about requires, naming it', async () => {
    const id = `singer-noconfig-${dir}`;
    const doc = document(id, 'full_refresh');
    (doc.nodes[0]!.config as Record<string, unknown>).config = { stream_name: 'people' };
    const run = await h.run(h.plan(doc));
    expect(run.status).toBe('failed');
    expect(run.progress?.steps.src?.attempt).toBe(1);
    expect(run.progress?.steps.src?.error).toMatch(
      /config\.config\.path: is required \(checked against the spec of tap-jsonl==0\.3\.1, before running it\)/,
    );
  }, 300_000);

  it('cannot read the project files it was not given', async () => {
    const id = `singer-outside-${dir}`;
    const doc = document(id, 'full_refresh');
    (doc.nodes[0]!.config as Record<string, unknown>).config = {
      path: '/work/**/*.jsonl',
      stream_name: 'people',
    };
    const run = await h.run(h.plan(doc));
    // The glob finds nothing outside the sandbox: an empty table, not the worker's files.
    expect(run.progress?.steps.src?.rowsOut ?? 0).toBe(0);
  }, 300_000);
});
