import { mkdtempSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countLines, splitOnRecords } from './csv-split.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'csv-split-'));
let files = 0;

async function split(content: string | Buffer, parts: number, quote = '"', start = 0) {
  const file = path.join(dir, `f${++files}.csv`);
  writeFileSync(file, content);
  const handle = await open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    return await splitOnRecords(handle, { start, size, parts, quote });
  } finally {
    await handle.close();
  }
}

/** A record whose fields hold quotes, delimiters and line breaks, as a CSV writer quotes them. */
function record(i: number): string {
  const fields = [
    String(i),
    i % 3 === 0 ? `"line one\nline two of ${i}"` : `plain ${i}`,
    i % 5 === 0 ? `"she said ""hi"", then\r\n""bye"""` : `x${i}`,
    i % 7 === 0 ? '"a,b"' : '',
  ];
  return `${fields.join(',')}\n`;
}

describe('splitOnRecords', () => {
  it('cuts only where a record starts, never inside a quoted field, and covers the whole file', async () => {
    const records = Array.from({ length: 5_000 }, (_, i) => record(i + 1));
    const content = `id,text,quoted,pair\n${records.join('')}`;
    const starts = new Set<number>();
    let at = 0;
    for (const line of [`id,text,quoted,pair\n`, ...records]) {
      starts.add(at);
      at += Buffer.byteLength(line);
    }
    for (const parts of [2, 3, 4, 7]) {
      const ranges = await split(content, parts);
      expect(ranges).toHaveLength(parts);
      expect(ranges[0]!.start).toBe(0);
      expect(ranges.at(-1)!.end).toBe(Buffer.byteLength(content));
      for (let i = 0; i < ranges.length; i++) {
        expect(starts.has(ranges[i]!.start)).toBe(true);
        if (i > 0) expect(ranges[i]!.start).toBe(ranges[i - 1]!.end);
      }
      // About equal parts: none more than twice its share.
      for (const r of ranges) expect(r.end - r.start).toBeLessThan((2 * Buffer.byteLength(content)) / parts);
    }
  });

  it('finds the break after a quoted field that spans the target', async () => {
    // The only line break outside quotes is at the end of the long quoted record.
    const content = `a\n"${'x\n'.repeat(1000)}"\nlast\n`;
    const ranges = await split(content, 2);
    expect(ranges.map((r) => content.slice(r.start, r.end))).toEqual([
      `a\n"${'x\n'.repeat(1000)}"\n`,
      'last\n',
    ]);
  });

  it('gives fewer ranges when the file has too few record boundaries', async () => {
    expect(await split('one line without a break', 4)).toEqual([{ start: 0, end: 24 }]);
    expect(await split('a\r' + 'b'.repeat(100) + '\r', 2)).toHaveLength(1); // \r line ends only
    expect(await split(`"${'q\n'.repeat(500)}"\n`, 3)).toHaveLength(1);
  });

  it('honours another quote character and a start past a byte order mark', async () => {
    const content = `\ufeffid;v\n${Array.from({ length: 400 }, (_, i) => `${i};'a\nb'\n`).join('')}`;
    const ranges = await split(content, 2, "'", 3);
    expect(ranges[0]!.start).toBe(3);
    const text = Buffer.from(content);
    const second = text.subarray(ranges[1]!.start, ranges[1]!.end).toString();
    expect(second).toMatch(/^\d+;'a\nb'\n/);
  });
});

describe('countLines', () => {
  it('counts the line breaks before an offset', async () => {
    const file = path.join(dir, 'lines.csv');
    writeFileSync(file, 'a\nb\r\n"c\nd"\ne\n');
    const handle = await open(file, 'r');
    try {
      expect(await countLines(handle, 0)).toBe(0);
      expect(await countLines(handle, 2)).toBe(1);
      expect(await countLines(handle, 11)).toBe(4);
    } finally {
      await handle.close();
    }
  });
});
