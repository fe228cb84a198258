import { describe, expect, it } from 'vitest';
import { TransientError } from '../../errors.js';
import { csvSource, idleLimited } from './csv.source.js';

const issues = (config: Record<string, unknown>) =>
  (csvSource.config.safeParse(config).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('source.csv config', () => {
  it('fills in the defaults', () => {
    expect(csvSource.config.parse({ path: 'a.csv' })).toEqual({
      path: 'a.csv',
      delimiter: ',',
      header: true,
      encoding: 'utf8',
      quote: '"',
      nullString: '',
    });
  });

  it('wants exactly one of path and url, and url only over http(s)', () => {
    expect(issues({})).toEqual([
      'path: give either path (a file in the data directory) or url, exactly one of them',
    ]);
    expect(issues({ path: 'a.csv', url: 'https://example.com/a.csv' })).toHaveLength(1);
    expect(issues({ url: 'file:///etc/passwd' })).toEqual(['url: must be an http:// or https:// URL']);
  });

  it('refuses dialects COPY would refuse', () => {
    expect(issues({ path: 'a', delimiter: ';;' })).toEqual(['delimiter: must be one character']);
    expect(issues({ path: 'a', delimiter: '\n' })).toEqual([
      'delimiter: must be one ASCII character other than a line break',
    ]);
    expect(issues({ path: 'a', delimiter: '§' })).toHaveLength(1);
    expect(issues({ path: 'a', quote: ',' })).toEqual(['quote: must differ from the delimiter']);
    expect(issues({ path: 'a', nullString: 'a,b' })).toEqual(['nullString: must not contain the delimiter']);
  });

  it('refuses declared columns with the same name', () => {
    expect(
      issues({
        path: 'a',
        columns: [
          { name: 'id', type: 'bigint' },
          { name: 'id', type: 'text' },
        ],
      }),
    ).toEqual([
      'columns.1.name: "id" is already the name of column 1 (names are compared on their first 63 bytes)',
    ]);
    expect(issues({ path: 'a', columns: [{ name: 'x', type: 'money' }] })).toHaveLength(1);
  });
});

describe('idleLimited', () => {
  it('passes chunks through, and fails transiently when the next one is too long in coming', async () => {
    async function* slow() {
      yield 1;
      yield 2;
      await new Promise((resolve) => setTimeout(resolve, 200));
      yield 3;
    }
    const seen: number[] = [];
    const reading = (async () => {
      for await (const n of idleLimited(slow(), 50, 'stalled')) seen.push(n);
    })();
    await expect(reading).rejects.toThrow(new TransientError('stalled'));
    expect(seen).toEqual([1, 2]);
  });
});
