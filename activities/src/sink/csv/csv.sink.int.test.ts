// sink.csv end to end: real pipeline runs write files into the data directory; a direct run checks
// that a failure half-way leaves the old file as it was.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../../../engine/test/harness.js';
import { resolveInside } from '../../create-activities.js';
import type { StepContext } from '../../node-type.js';
import { csvSink } from './csv.sink.js';
import { stagingSchemaFor } from '../../../../engine/src/model/run-ids.js';

let h: Harness;
let name: string;
let dir: string;

beforeAll(async () => {
  h = await startHarness();
  name = `csv-sink-${process.pid}-${Date.now()}`;
  dir = path.join(h.dataDir, name);
  mkdirSync(dir, { recursive: true });
});
afterAll(async () => h?.stop());

const generate = {
  id: 'gen',
  type: 'source.generate',
  config: {
    rows: 50,
    columns: [
      { name: 'id', generator: 'sequence' },
      { name: 'amount', generator: 'number', min: 0, max: 100 },
      { name: 'kind', generator: 'choice', values: ['a, with comma', 'b "quoted"', 'c'] },
      { name: 'day', generator: 'date' },
    ],
  },
};

let runs = 0;
async function run(nodes: Record<string, unknown>[], edges: { from: string; to: string }[] = []) {
  const id = `csv-sink-${++runs}`;
  const plan = h.plan({
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { keepStaging: true },
    nodes: nodes.map((n) => ({ retry: { maxAttempts: 1 }, ...n })),
    edges,
  });
  const result = await h.run(plan);
  return { ...result, schema: stagingSchemaFor(result.runId, id) };
}

const sinkTo = (config: Record<string, unknown>) => [generate, { id: 'out', type: 'sink.csv', config }];
const edge = [{ from: 'gen', to: 'out' }];

describe('sink.csv', () => {
  it('writes the input as CSV into new folders, and source.csv reads the same rows back', async () => {
    const file = `${name}/deep/er/round-trip.csv`;
    const written = await run(sinkTo({ path: file }), edge);
    expect(written.status).toBe('succeeded');
    const text = readFileSync(path.join(h.dataDir, file), 'utf8');
    expect(written.progress!.steps.out).toMatchObject({
      status: 'succeeded',
      rowsIn: 50,
      bytes: Buffer.byteLength(text),
    });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('id,amount,kind,day');
    expect(lines).toHaveLength(51);
    expect(text).toMatch(/"a, with comma"|"b ""quoted"""/);

    const read = await run([{ id: 'src', type: 'source.csv', config: { path: file } }]);
    expect(read.status).toBe('succeeded');
    const sql = (schema: string, table: string) =>
      `select id::bigint, amount::numeric, kind, day from "${schema}".${table} order by id`;
    const original = await h.platform.warehousePool.query(sql(written.schema, 'gen'));
    const loaded = await h.platform.warehousePool.query(sql(read.schema, 'src'));
    expect(loaded.rows).toEqual(original.rows);
  });

  it('writes another delimiter, and no header when asked', async () => {
    const file = `${name}/plain.csv`;
    const result = await run(sinkTo({ path: file, delimiter: ';', header: false }), edge);
    expect(result.status).toBe('succeeded');
    const first = readFileSync(path.join(h.dataDir, file), 'utf8').split('\n')[0]!;
    expect(first).toMatch(/^1;[0-9.]+;[^;]+;\d{4}-\d{2}-\d{2}$/);
  });

  it('replaces an existing file by default', async () => {
    const file = `${name}/replaced.csv`;
    writeFileSync(path.join(h.dataDir, file), 'old\n');
    expect((await run(sinkTo({ path: file }), edge)).status).toBe('succeeded');
    expect(readFileSync(path.join(h.dataDir, file), 'utf8')).toMatch(/^id,amount,kind,day\n1,/);
  });

  it('leaves an existing file untouched when overwrite is off', async () => {
    const file = `${name}/keep.csv`;
    writeFileSync(path.join(h.dataDir, file), 'precious\n');
    const result = await run(sinkTo({ path: file, overwrite: false }), edge);
    expect(result.progress!.steps.out).toMatchObject({ status: 'failed' });
    expect(result.progress!.steps.out!.error).toContain(
      `config.path: "${file}" already exists and overwrite is off`,
    );
    expect(readFileSync(path.join(h.dataDir, file), 'utf8')).toBe('precious\n');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses paths outside the data directory and creates nothing there', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'csv-sink-outside-'));
    symlinkSync(outside, path.join(dir, 'escape'));
    for (const p of [
      '../../escaped.csv',
      path.join(outside, 'x.csv'),
      `${name}/escape/x.csv`,
      `${name}/escape/new/x.csv`,
    ]) {
      const result = await run(sinkTo({ path: p }), edge);
      expect(result.progress!.steps.out!.status).toBe('failed');
      expect(result.progress!.steps.out!.error).toMatch(/config\.path: .* is outside the data directory/);
    }
    expect(readdirSync(outside)).toEqual([]);
  });

  it('keeps the old file and removes its temporary file when the export fails half-way', async () => {
    const pool = h.platform.warehousePool;
    const schema = `csv_sink_${process.pid}`;
    await pool.query(`create schema if not exists ${schema}`);
    // A view whose rows fail part-way through: COPY has written some of the file by then.
    await pool.query(
      `create or replace view ${schema}.failing as select i, 100 / (50000 - i) as x from generate_series(1, 60000) i`,
    );
    const file = path.join(dir, 'atomic.csv');
    writeFileSync(file, 'old content\n');
    const ctx = {
      warehouse: pool,
      signal: new AbortController().signal,
      resolveDataPath: (relative: string, field: string) => resolveInside(h.dataDir, relative, field),
      resolveOutputPath: (relative: string, field: string) => resolveInside(h.dataDir, relative, field),
    } as unknown as StepContext;
    const config = csvSink.config.parse({ path: `${name}/atomic.csv` });
    await expect(csvSink.run(ctx, config, { failing: { schema, table: 'failing' } })).rejects.toThrow(
      'division by zero',
    );
    expect(readFileSync(file, 'utf8')).toBe('old content\n');
    expect(readdirSync(dir).filter((f) => f.includes('atomic'))).toEqual(['atomic.csv']);
    expect(existsSync(file)).toBe(true);
  });
});
