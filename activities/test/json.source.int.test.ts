// source.json through real pipeline runs (worker, Temporal dev server, Postgres): arrays, NDJSON,
// nested records, flattening, late keys, invalid JSON and the data-dir boundary.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import {
  columnTypes,
  onePipeline,
  sendJson,
  startServer,
  stepHistory,
  tableRows,
} from './source-test-utils.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';

let h: Harness;
let dir: string;
beforeAll(async () => {
  h = await startHarness();
  dir = `json-${randomBytes(4).toString('hex')}`;
  mkdirSync(path.join(h.dataDir, dir), { recursive: true });
});
afterAll(async () => h?.stop());

/** Writes a file into this test file's folder of the data dir; returns its path relative to the data dir. */
function dataFile(name: string, content: string): string {
  writeFileSync(path.join(h.dataDir, dir, name), content);
  return `${dir}/${name}`;
}

async function runJson(id: string, config: Record<string, unknown>, node: Record<string, unknown> = {}) {
  const run = await h.run(h.plan(onePipeline(id, 'source.json', config, node)));
  return { ...run, step: run.progress?.steps.src };
}

const noRetry = { retry: { maxAttempts: 1 } };

describe('source.json', () => {
  it('loads a JSON array file with inferred column types', async () => {
    const file = dataFile(
      'orders.json',
      JSON.stringify([
        { id: 1, customer: 'Ada', total: 12.5, paid: true, items: [{ sku: 'a' }], meta: { source: 'web' } },
        { id: 2, customer: 'Grace "G" Hopper', total: 7, paid: false, items: [], meta: null },
        { id: 3, customer: 'Línea, con coma\ny salto', total: null, paid: null, items: null, meta: { a: 1 } },
      ]),
    );
    const { runId, status, step } = await runJson('json-array', { path: file });
    expect(status).toBe('succeeded');
    expect(step).toMatchObject({ status: 'succeeded', rowsOut: 3 });
    expect(await columnTypes(h, runId, 'json-array')).toEqual({
      id: 'bigint',
      customer: 'text',
      total: 'numeric',
      paid: 'boolean',
      items: 'jsonb',
      meta: 'jsonb',
    });
    const rows = await tableRows(h, runId, 'json-array', 'id');
    expect(rows).toEqual([
      { id: '1', customer: 'Ada', total: '12.5', paid: true, items: [{ sku: 'a' }], meta: { source: 'web' } },
      { id: '2', customer: 'Grace "G" Hopper', total: '7', paid: false, items: [], meta: null },
      { id: '3', customer: 'Línea, con coma\ny salto', total: null, paid: null, items: null, meta: { a: 1 } },
    ]);
  });

  it('loads an NDJSON file, skipping blank lines and accepting CRLF', async () => {
    const file = dataFile('events.ndjson', '{"n":1,"kind":"a"}\r\n\r\n{"n":2,"kind":"b"}\n{"n":3}\n');
    const { runId, status, step } = await runJson('json-ndjson', { path: file });
    expect(status).toBe('succeeded');
    expect(step?.rowsOut).toBe(3);
    const rows = await tableRows(h, runId, 'json-ndjson', 'n');
    expect(rows).toEqual([
      { n: '1', kind: 'a' },
      { n: '2', kind: 'b' },
      { n: '3', kind: null },
    ]);
  });

  it('streams the records at a nested recordsPath, ignoring the rest of the document', async () => {
    const file = dataFile(
      'nested.json',
      JSON.stringify({
        meta: { count: 2, items: ['not', 'these'] },
        data: { items: [{ id: 'x' }, { id: 'y' }], total: 2 },
        trailer: [{ id: 'nope' }],
      }),
    );
    const { runId, status } = await runJson('json-records-path', { path: file, recordsPath: 'data.items' });
    expect(status).toBe('succeeded');
    expect(await tableRows(h, runId, 'json-records-path', 'id')).toEqual([{ id: 'x' }, { id: 'y' }]);
  });

  it('reads the records at recordsPath in every line of an NDJSON file', async () => {
    const file = dataFile('pages.ndjson', '{"data":[{"id":1},{"id":2}]}\n{"data":[]}\n{"data":[{"id":3}]}\n');
    const { runId, status } = await runJson('json-ndjson-path', {
      path: file,
      recordsPath: 'data',
      format: 'ndjson',
    });
    expect(status).toBe('succeeded');
    expect(await tableRows(h, runId, 'json-ndjson-path', 'id')).toEqual([
      { id: '1' },
      { id: '2' },
      { id: '3' },
    ]);
  });

  it('fails clearly when recordsPath matches nothing', async () => {
    const file = dataFile('no-path.json', JSON.stringify({ data: { rows: [] } }));
    const { status, step } = await runJson(
      'json-records-path-missing',
      { path: file, recordsPath: 'data.items' },
      noRetry,
    );
    expect(status).toBe('failed');
    expect(step?.error).toContain('recordsPath "data.items" matches nothing');
  });

  it('keeps nested objects as jsonb, or flattens them into parent_child columns', async () => {
    const records = [
      { id: 1, user: { name: 'Ada', address: { city: 'London' } }, tags: ['x', 'y'] },
      { id: 2, user: { name: 'Alan', address: { city: 'Wilmslow', zip: 'SK9' } }, tags: [] },
    ];
    const file = dataFile('people.json', JSON.stringify(records));

    const nested = await runJson('json-nested', { path: file });
    expect(nested.status).toBe('succeeded');
    expect(await columnTypes(h, nested.runId, 'json-nested')).toEqual({
      id: 'bigint',
      user: 'jsonb',
      tags: 'jsonb',
    });
    expect((await tableRows(h, nested.runId, 'json-nested', 'id'))[0]).toEqual({ ...records[0], id: '1' });

    const flat = await runJson('json-flatten', { path: file, flatten: true });
    expect(flat.status).toBe('succeeded');
    expect(await columnTypes(h, flat.runId, 'json-flatten')).toEqual({
      id: 'bigint',
      user_name: 'text',
      user_address_city: 'text',
      tags: 'jsonb',
      user_address_zip: 'text',
    });
    expect(await tableRows(h, flat.runId, 'json-flatten', 'id')).toEqual([
      { id: '1', user_name: 'Ada', user_address_city: 'London', tags: ['x', 'y'], user_address_zip: null },
      { id: '2', user_name: 'Alan', user_address_city: 'Wilmslow', tags: [], user_address_zip: 'SK9' },
    ]);
  });

  it('adds columns for keys that first appear after the sample and widens types, with notes', async () => {
    // 1,500 records: the first 1,000 are the sample; `late` appears at record 1,201 and `n` turns
    // from integers to text at record 1,401.
    const lines: string[] = [];
    for (let i = 1; i <= 1500; i++) {
      const record: Record<string, unknown> = { i, n: i > 1400 ? `v${i}` : i };
      if (i > 1200) record.late = { at: i };
      lines.push(JSON.stringify(record));
    }
    const file = dataFile('late.ndjson', lines.join('\n'));
    const { runId, status, step } = await runJson('json-late-keys', { path: file });
    expect(status).toBe('succeeded');
    expect(step?.rowsOut).toBe(1500);
    expect(await columnTypes(h, runId, 'json-late-keys')).toEqual({ i: 'bigint', n: 'text', late: 'jsonb' });
    const rows = await h.platform.warehousePool.query(
      `select count(*) filter (where late is not null) as late, count(distinct i) as distinct_i,
              min(n) filter (where i = 5) as n5, min(n) filter (where i = 1450) as n1450
         from "${stagingSchemaFor(runId, 'json-late-keys')}".src`,
    );
    expect(rows.rows[0]).toEqual({ late: '300', distinct_i: '1500', n5: '5', n1450: 'v1450' });
    const { result } = await stepHistory(h, runId);
    expect(result?.notes).toEqual([
      'column "late" (jsonb) added at record 1201',
      'column "n" widened from bigint to text at record 1401',
    ]);
  });

  it('names the line and column of invalid JSON in an array file', async () => {
    const file = dataFile('broken.json', '[\n  {"a": 1},\n  {"a": tru}\n]\n');
    const { status, step } = await runJson('json-invalid-array', { path: file }, noRetry);
    expect(status).toBe('failed');
    expect(step?.error).toMatch(/broken\.json: invalid JSON at line 3, column \d+ \(byte \d+\)/);
    expect(step?.attempt).toBe(1);
  });

  it('names the line of invalid JSON in an NDJSON file', async () => {
    const file = dataFile('broken.ndjson', '{"a":1}\n{"a":2}\n{"a":\n{"a":4}\n');
    const { status, step } = await runJson('json-invalid-ndjson', { path: file, format: 'ndjson' }, noRetry);
    expect(status).toBe('failed');
    expect(step?.error).toContain('broken.ndjson: invalid JSON on line 3');
  });

  it('refuses a path outside the data directory', async () => {
    for (const outside of ['../escape.json', '/etc/passwd']) {
      const { status, step } = await runJson('json-outside', { path: outside }, noRetry);
      expect(status).toBe('failed');
      expect(step?.error).toContain('is outside the data directory');
    }
  });

  it('reports a missing file as not found', async () => {
    const { status, step } = await runJson('json-missing', { path: `${dir}/nope.json` }, noRetry);
    expect(status).toBe('failed');
    expect(step?.error).toContain('does not exist in the data directory');
  });

  it('downloads a JSON array from a URL', async () => {
    const server = await startServer((_req, res) => sendJson(res, [{ id: 1 }, { id: 2 }, { id: 3 }]));
    try {
      const { runId, status } = await runJson('json-url', { url: `${server.url}/export.json` });
      expect(status).toBe('succeeded');
      expect(await tableRows(h, runId, 'json-url', 'id')).toEqual([{ id: '1' }, { id: '2' }, { id: '3' }]);
    } finally {
      await server.close();
    }
  });

  it('names the approximate position of invalid JSON in a download', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[{"id": 1}, {"id": 2,, }]');
    });
    try {
      const { status, step } = await runJson('json-url-invalid', { url: `${server.url}/bad.json` }, noRetry);
      expect(status).toBe('failed');
      expect(step?.error).toMatch(/bad\.json: invalid JSON within the first \d+ bytes/);
    } finally {
      await server.close();
    }
  });
});
