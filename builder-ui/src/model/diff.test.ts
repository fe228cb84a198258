import { describe, expect, it } from 'vitest';
import { lineDiff, readableDocument } from './diff.ts';

const doc = (sql: string) => ({
  id: 'p',
  nodes: [{ id: 'q', type: 'transform.sql', config: { sql } }],
  edges: [],
});

describe('the readable version diff', () => {
  it('shows SQL as its lines, not as one escaped JSON string', () => {
    const text = readableDocument(doc('select id,\n  amount\nfrom {{ inputs.orders }}'));
    expect(text).toContain('"sql": |');
    expect(text).toContain('    select id,');
    expect(text).toContain('      amount');
    expect(text).not.toContain('\\n');
  });

  it('makes a one-line change of SQL one changed row of the diff', () => {
    const rows = lineDiff(
      readableDocument(doc('select id,\n  amount\nfrom {{ inputs.orders }}')),
      readableDocument(doc('select id,\n  amount * 2 as amount\nfrom {{ inputs.orders }}')),
    );
    const changed = rows.filter((r) => r.kind !== 'same');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      kind: 'changed',
      right: expect.stringContaining('amount * 2 as amount'),
    });
  });
});
