// source.csv with parallel COPY streams (TRIBUTARY_COPY_STREAMS=2, a 64 KB threshold so that test
// files split): real runs on the dev server into the real Postgres, the streams' rows and errors
// checked in SQL, and a stream's backend terminated mid-load.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../../../engine/test/harness.js';
import { stagingSchemaFor } from '../../../../engine/src/model/run-ids.js';

let h: Harness;
let dir: string;
let rel: (name: string) => string;

beforeAll(async () => {
  h = await startHarness({ copyStreams: { streams: 2, minBytes: 64 << 10 } });
  const name = `csv-parallel-${process.pid}-${Date.now()}`;
  dir = path.join(h.dataDir, name);
  mkdirSync(dir, { recursive: true });
  rel = (file) => `${name}/${file}`;
});

afterAll(async () => {
  await h?.stop();
});

function write(file: string, content: string): string {
  writeFileSync(path.join(dir, file), content);
  return rel(file);
}

/** Every third note spans two lines, every fifth holds doubled quotes and a \r\n, every seventh a comma. */
function note(i: number): string {
  if (i % 5 === 0) return `"she said ""hi ${i}"", then\r\n""bye"""`;
  if (i % 3 === 0) return `"line one of ${i}\nline two"`;
  if (i % 7 === 0) return `"a,${i}"`;
  return `plain ${i}`;
}
const noteValue = (i: number) =>
  i % 5 === 0
    ? `she said "hi ${i}", then\r\n"bye"`
    : i % 3 === 0
      ? `line one of ${i}\nline two`
      : i % 7 === 0
        ? `a,${i}`
        : `plain ${i}`;

function notesCsv(rows: number, bad?: { row: number; amount: string }): string {
  const lines = ['id,note,amount'];
  for (let i = 1; i <= rows; i++) lines.push(`${i},${note(i)},${bad?.row === i ? bad.amount : i * 3}`);
  return `${lines.join('\n')}\n`;
}

let runs = 0;
async function load(config: Record<string, unknown>, retry: Record<string, number> = { maxAttempts: 1 }) {
  const id = `par-${++runs}`;
  const plan = h.plan({
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { keepStaging: true },
    nodes: [{ id: 'src', type: 'source.csv', config, retry }],
  });
  const { runId, progress } = await h.run(plan);
  return { step: progress!.steps.src!, table: `"${stagingSchemaFor(runId, id)}".src` };
}

const sql = async <R extends Record<string, unknown>>(text: string) =>
  (await h.platform.warehousePool.query<R>(text)).rows;

const DECLARED = [
  { name: 'id', type: 'bigint' },
  { name: 'note', type: 'text' },
  { name: 'amount', type: 'bigint' },
];

describe('source.csv in parallel COPY streams', () => {
  it('splits a file with quoted line breaks on record boundaries: every row once, content intact', async () => {
    const rows = 12_000;
    const content = notesCsv(rows);
    const { step, table } = await load({ path: write('notes.csv', content) });
    expect(step).toMatchObject({ status: 'succeeded', rowsOut: rows, bytes: Buffer.byteLength(content) });
    const [summary] = await sql<{ n: number; ids: number; sum: string; writers: number; multi: number }>(
      `select count(*)::int as n, count(distinct id)::int as ids, sum(amount)::text as sum,
              count(distinct xmin::text)::int as writers,
              count(*) filter (where note like E'%\\n%')::int as multi
         from ${table}`,
    );
    // Two transactions wrote the rows: two streams did load it.
    expect(summary).toEqual({
      n: rows,
      ids: rows,
      sum: String((3 * rows * (rows + 1)) / 2),
      writers: 2,
      multi: Array.from({ length: rows }, (_, i) => i + 1).filter((i) => i % 5 === 0 || i % 3 === 0).length,
    });
    // Every note exactly as written, quotes and line breaks included.
    const notes = await sql<{ id: string; note: string }>(`select id, note from ${table} order by id`);
    const wrong = notes.filter((r) => r.note !== noteValue(Number(r.id)));
    expect(wrong).toEqual([]);
  });

  it('names the file line of a bad value in the second range, counting quoted line breaks', async () => {
    const rows = 12_000;
    const badRow = 11_002; // a one-line record (a two-line one is named by its last line, as in one stream)
    const content = notesCsv(rows, { row: badRow, amount: 'lots' });
    // The file line of the record: the header, one line per record, one more per two-line note.
    const fileLine = content.slice(0, content.indexOf(`\n${badRow},`)).split('\n').length + 1;
    const { step, table } = await load({ path: write('bad.csv', content), columns: DECLARED });
    expect(step.status).toBe('failed');
    expect(step.error).toContain(
      `line ${fileLine}, column "amount": invalid input syntax for type bigint: "lots"`,
    );
    // The failed load left no table behind.
    expect(await sql(`select to_regclass('${table}') as t`)).toEqual([{ t: null }]);
  });

  it('names the line where an unterminated quote opens in the second range, and a short row in it', async () => {
    const lines = ['a,b'];
    for (let i = 1; i <= 12_000; i++) lines.push(i === 9_876 ? `${i},"open` : `${i},some text`);
    const open = await load({ path: write('unterminated.csv', `${lines.join('\n')}\n`) });
    expect(open.step.status).toBe('failed');
    expect(open.step.error).toContain('line 9877: unterminated CSV quoted field');

    lines[9_876] = '9876';
    const short = await load({ path: write('short.csv', `${lines.join('\n')}\n`) });
    expect(short.step.error).toContain('line 9877: missing data for column "b"');
    expect(await sql(`select to_regclass('${short.table}') as t`)).toEqual([{ t: null }]);
  });

  it('names the header line once and the first range reads it as the header', async () => {
    const { step, table } = await load({
      path: write('header.csv', notesCsv(6_000)),
      columns: DECLARED,
    });
    expect(step).toMatchObject({ status: 'succeeded', rowsOut: 6_000 });
    expect(await sql(`select count(*)::int as n from ${table} where id is null`)).toEqual([{ n: 0 }]);
  });

  it('leaves no table when a stream is killed mid-load, and a retry loads every row once', async () => {
    const rows = 400_000;
    const file = write('big.csv', notesCsv(rows));
    const killStream = async () => {
      // Terminate the backend of the spare connection's COPY as soon as it runs.
      for (let i = 0; i < 2_000; i++) {
        const killed = await sql<{ ok: boolean }>(
          `select pg_terminate_backend(pid) as ok from pg_stat_activity
            where application_name = 'tributary copy stream' and query ilike 'copy %' and state = 'active'`,
        );
        if (killed.length > 0) return true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return false;
    };
    const [killed, once] = await Promise.all([killStream(), load({ path: file, columns: DECLARED })]);
    expect(killed).toBe(true);
    expect(once.step.status).toBe('failed');
    expect(await sql(`select to_regclass('${once.table}') as t`)).toEqual([{ t: null }]);

    const [killedAgain, retried] = await Promise.all([
      killStream(),
      load({ path: file, columns: DECLARED }, { maxAttempts: 3, initialIntervalSeconds: 1 }),
    ]);
    expect(killedAgain).toBe(true);
    expect(retried.step).toMatchObject({ status: 'succeeded', rowsOut: rows });
    expect(
      await sql(`select count(*)::int as n, count(distinct id)::int as ids from ${retried.table}`),
    ).toEqual([{ n: rows, ids: rows }]);
  });
});
