// source.csv end to end: real pipeline runs on the dev server, loading files from the data
// directory and from a local HTTP server into the real Postgres.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../../../engine/test/harness.js';
import { stagingSchemaFor } from '../../../../engine/src/model/run-ids.js';

let h: Harness;
let dir: string; // this file's folder inside the data directory
let rel: (name: string) => string;
let server: Server;
let baseUrl: string;
/** Responses by path; a path with several answers gives them in turn, one per request. */
const served = new Map<string, { status: number; body: Buffer; chunk?: number }[]>();
const hits = new Map<string, number>();

beforeAll(async () => {
  h = await startHarness();
  const name = `csv-source-${process.pid}-${Date.now()}`;
  dir = path.join(h.dataDir, name);
  mkdirSync(dir, { recursive: true });
  rel = (file) => `${name}/${file}`;
  server = createServer((req, res) => {
    const answers = served.get(req.url ?? '');
    const hit = hits.get(req.url ?? '') ?? 0;
    hits.set(req.url ?? '', hit + 1);
    const entry = answers?.[Math.min(hit, answers.length - 1)];
    if (!entry) {
      res.writeHead(404, 'Not Found').end('no such file');
      return;
    }
    res.writeHead(entry.status, { 'content-type': 'text/csv' });
    // Small writes, so the body arrives in many chunks that split lines and characters.
    const size = entry.chunk ?? entry.body.length;
    for (let at = 0; at < entry.body.length; at += size) res.write(entry.body.subarray(at, at + size));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await h?.stop();
});

function write(file: string, content: string | Buffer): string {
  writeFileSync(path.join(dir, file), content);
  return rel(file);
}

let runs = 0;
/** Runs a one-node pipeline (no retries) and returns the step's progress and output table. */
async function load(
  config: Record<string, unknown>,
  retry: Record<string, number> = { maxAttempts: 1 },
  params: Record<string, string> = {},
) {
  const id = `csv-${++runs}`;
  const plan = h.plan(
    {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      params: Object.fromEntries(Object.keys(params).map((name) => [name, { type: 'string' }])),
      settings: { keepStaging: true },
      nodes: [{ id: 'src', type: 'source.csv', config, retry }],
    },
    params,
  );
  const { runId, progress } = await h.run(plan);
  const step = progress!.steps.src!;
  const table = `"${stagingSchemaFor(runId, id)}".src`;
  return {
    step,
    async rows(orderBy = '1') {
      return (await h.platform.warehousePool.query(`select * from ${table} order by ${orderBy}`)).rows;
    },
    async types() {
      const result = await h.platform.warehousePool.query<{ name: string; type: string }>(
        `select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
          where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum`,
        [table],
      );
      return Object.fromEntries(result.rows.map((r) => [r.name, r.type]));
    },
  };
}

async function failure(config: Record<string, unknown>): Promise<string> {
  const { step } = await load(config);
  expect(step.status).toBe('failed');
  return step.error ?? '';
}

describe('source.csv', () => {
  it('infers column types from the sample and loads every row', async () => {
    const csv = [
      'id,name,amount,active,day,at,at_utc,zip,empty',
      '1,Ann,12.50,true,2024-01-05,2024-01-05 10:30:00,2024-01-05T10:30:00Z,00501,',
      '2,"Smith, Bob",-3,false,2024-02-29,2024-02-29T23:59:59.5,2024-02-29 23:59:59+02:00,10001,',
      '3,"say ""hi""",,t,,,,,',
      '4,"two',
      'lines",1e3,F,2024-12-31,2024-12-31,2024-12-31 00:00:00-05,99999,',
    ].join('\n');
    const run = await load({ path: write('inferred.csv', `${csv}\n`) });
    expect(run.step).toMatchObject({
      status: 'succeeded',
      rowsIn: 0,
      rowsOut: 4,
      bytes: Buffer.byteLength(csv) + 1,
    });
    expect(await run.types()).toEqual({
      id: 'bigint',
      name: 'text',
      amount: 'numeric',
      active: 'boolean',
      day: 'date',
      at: 'timestamp without time zone',
      at_utc: 'timestamp with time zone',
      zip: 'text',
      empty: 'text',
    });
    const rows = await run.rows('id');
    expect(rows.map((r) => [r.id, r.name, r.amount, r.active, r.zip, r.empty])).toEqual([
      ['1', 'Ann', '12.50', true, '00501', null],
      ['2', 'Smith, Bob', '-3', false, '10001', null],
      ['3', 'say "hi"', null, true, null, null],
      ['4', 'two\nlines', '1000', false, '99999', null],
    ]);
    expect((rows[1]!.at_utc as Date).toISOString()).toBe('2024-02-29T21:59:59.000Z');
  });

  it('uses declared columns as the table, whatever the header says', async () => {
    const run = await load({
      path: write('declared.csv', 'A,B,C,D\n1,2.5,"{""k"": [1, 2]}",2024-01-01 12:00\n'),
      columns: [
        { name: 'n', type: 'integer' },
        { name: 'x', type: 'double' },
        { name: 'doc', type: 'jsonb' },
        { name: 'at', type: 'timestamptz' },
      ],
    });
    expect(run.step).toMatchObject({ status: 'succeeded', rowsOut: 1 });
    expect(await run.types()).toEqual({
      n: 'integer',
      x: 'double precision',
      doc: 'jsonb',
      at: 'timestamp with time zone',
    });
    const [row] = await run.rows();
    // A timestamptz without an offset is read as UTC.
    expect(row).toEqual({ n: 1, x: 2.5, doc: { k: [1, 2] }, at: new Date('2024-01-01T12:00:00Z') });
  });

  it('refuses declared columns whose count differs from the header', async () => {
    const error = await failure({
      path: write('count.csv', 'a,b,c\n1,2,3\n'),
      columns: [
        { name: 'a', type: 'text' },
        { name: 'b', type: 'text' },
      ],
    });
    expect(error).toContain('config.columns: 2 columns are declared, but the header (line 1) has 3 fields');
  });

  it('names columns column_1..n without a header, and reads every line as data', async () => {
    const run = await load({ path: write('noheader.csv', '1,x\n2,y\n'), header: false });
    expect(run.step).toMatchObject({ status: 'succeeded', rowsOut: 2 });
    expect(await run.types()).toEqual({ column_1: 'bigint', column_2: 'text' });
    expect(await run.rows()).toEqual([
      { column_1: '1', column_2: 'x' },
      { column_1: '2', column_2: 'y' },
    ]);
  });

  it('reads a semicolon-delimited file with a custom quote and null string', async () => {
    const run = await load({
      path: write('semicolon.csv', "id;label;price\r\n1;'a;b';3,50\r\n2;NA;'NA'\r\n"),
      delimiter: ';',
      quote: "'",
      nullString: 'NA',
    });
    expect(run.step).toMatchObject({ status: 'succeeded', rowsOut: 2 });
    expect(await run.types()).toEqual({ id: 'bigint', label: 'text', price: 'text' });
    expect(await run.rows()).toEqual([
      { id: '1', label: 'a;b', price: '3,50' },
      { id: '2', label: null, price: 'NA' },
    ]);
  });

  it('converts latin1 and utf-16le files to UTF-8', async () => {
    const latin1 = await load({
      path: write('latin1.csv', Buffer.from('ville,prix\nSão Paulo,5\nZürich,7\n', 'latin1')),
      encoding: 'latin1',
    });
    expect(latin1.step.status).toBe('succeeded');
    expect((await latin1.rows()).map((r) => r.ville)).toEqual(['São Paulo', 'Zürich']);

    const utf16 = await load({
      path: write(
        'utf16.csv',
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('city\n東京\n', 'utf16le')]),
      ),
      encoding: 'utf-16le',
    });
    expect(utf16.step.status).toBe('succeeded');
    expect(await utf16.rows()).toEqual([{ city: '東京' }]);

    const bom = await load({ path: write('bom.csv', '\ufeffcity\nOslo\n') });
    expect(await bom.rows()).toEqual([{ city: 'Oslo' }]);
  });

  it('says which line is not UTF-8 when the encoding is wrong', async () => {
    const error = await failure({ path: write('notutf8.csv', Buffer.from('a\nok\ncafé\n', 'latin1')) });
    expect(error).toMatch(/line 3: invalid byte sequence for encoding "UTF8": 0xe9.*set "encoding"/);
  });

  it('downloads a url in small chunks and streams it in', async () => {
    const lines = ['id,word'];
    for (let i = 1; i <= 3000; i++) lines.push(`${i},wörd-${i}`);
    served.set('/words.csv', [{ status: 200, body: Buffer.from(`${lines.join('\n')}\n`), chunk: 777 }]);
    const run = await load({ url: `${baseUrl}/words.csv` });
    expect(run.step).toMatchObject({ status: 'succeeded', rowsOut: 3000 });
    expect(await run.types()).toEqual({ id: 'bigint', word: 'text' });
    expect((await run.rows('id')).at(-1)).toEqual({ id: '3000', word: 'wörd-3000' });
  });

  it('fails on HTTP 404 naming the status, without retrying', async () => {
    const { step } = await load({ url: `${baseUrl}/missing.csv?token=secret` }, { maxAttempts: 3 });
    expect(step).toMatchObject({ status: 'failed', attempt: 1 });
    expect(step.error).toContain(`HTTP 404 Not Found from GET ${baseUrl}/missing.csv`);
    expect(step.error).not.toContain('secret');
    expect(hits.get('/missing.csv?token=secret')).toBe(1);
  });

  it('retries a 5xx answer', async () => {
    served.set('/flaky.csv', [
      { status: 503, body: Buffer.from('busy') },
      { status: 200, body: Buffer.from('a\n1\n') },
    ]);
    const { step } = await load({ url: `${baseUrl}/flaky.csv` });
    expect(step).toMatchObject({ status: 'succeeded', rowsOut: 1 });
    expect(hits.get('/flaky.csv')).toBe(2);
  });

  it('names the line of a row with too many or too few fields', async () => {
    expect(await failure({ path: write('extra.csv', 'a,b\n1,2\n3,4,5\n') })).toContain(
      'line 3: extra data after last expected column in "3,4,5"',
    );
    expect(await failure({ path: write('missing-field.csv', 'a,b\n1,2\n"x\ny",4\n5\n') })).toContain(
      'line 5: missing data for column "b"',
    );
  });

  it('names the line where an unterminated quote opens, past the sample too', async () => {
    const lines = ['a,b'];
    for (let i = 1; i <= 5000; i++) lines.push(i === 4321 ? `${i},"open` : `${i},x`);
    const error = await failure({ path: write('unterminated.csv', `${lines.join('\n')}\n`) });
    expect(error).toContain('line 4322: unterminated CSV quoted field');
  });

  it('names the line and column of a value that does not fit a declared type', async () => {
    const error = await failure({
      path: write('badvalue.csv', 'id,amount\n1,10\n2,abc\n'),
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'amount', type: 'bigint' },
      ],
    });
    expect(error).toContain('line 3, column "amount": invalid input syntax for type bigint: "abc"');
    expect(error).not.toContain('inferred');
  });

  it('says when a value past the sample does not fit the inferred type', async () => {
    const lines = ['id,n'];
    for (let i = 1; i <= 1500; i++) lines.push(`${i},${i === 1400 ? 'n/a' : i}`);
    const error = await failure({ path: write('late.csv', `${lines.join('\n')}\n`) });
    expect(error).toContain(
      'line 1401, column "n": invalid input syntax for type bigint: "n/a" (the type bigint was inferred from the first 1000 rows',
    );
  });

  it('loads a header-only file as an empty table, and refuses an empty one', async () => {
    const run = await load({ path: write('header-only.csv', 'a,b\n') });
    expect(run.step).toMatchObject({ status: 'succeeded', rowsOut: 0 });
    expect(await run.types()).toEqual({ a: 'text', b: 'text' });
    expect(await failure({ path: write('empty.csv', '') })).toContain(
      'the file is empty: there is no header line to take column names from',
    );
  });

  it('refuses a header with an empty or repeated name, naming its position', async () => {
    expect(await failure({ path: write('empty-name.csv', 'a,,c\n1,2,3\n') })).toContain(
      'line 1: column 2 of the header has no name',
    );
    expect(await failure({ path: write('dup-name.csv', 'id,x,id\n1,2,3\n') })).toContain(
      'line 1: columns 1 and 3 of the header are both named "id"',
    );
  });

  it('refuses paths outside the data directory, however they get there', async () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'csv-outside-'));
    writeFileSync(path.join(outside, 'secret.csv'), 'a\n1\n');
    symlinkSync(path.join(outside, 'secret.csv'), path.join(dir, 'link.csv'));
    for (const p of ['../../x.csv', path.join(outside, 'secret.csv'), rel('link.csv')]) {
      expect(await failure({ path: p })).toMatch(/config\.path: .* is outside the data directory/);
    }
  });

  it('fills {{ params.x }} into the path', async () => {
    write('day-2024-05-01.csv', 'n\n1\n2\n');
    const run = await load(
      { path: rel('day-{{ params.day }}.csv') },
      { maxAttempts: 1 },
      { day: '2024-05-01' },
    );
    expect(run.step).toMatchObject({ status: 'succeeded', rowsOut: 2 });
  });

  it('fails on a missing file, naming it', async () => {
    expect(await failure({ path: rel('nope.csv') })).toContain(
      `config.path: "${rel('nope.csv')}" does not exist`,
    );
  });
});
