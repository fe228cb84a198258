import { describe, expect, it } from 'vitest';
import { activityCatalog } from './node-catalog.js';
import { sqlErrors, sqlFieldsOf } from './sql-checks.js';

const doc = (nodes: unknown[]) => ({ apiVersion: 'tributary/v1', id: 'p', name: 'p', nodes });

describe('SQL checks of a document', () => {
  it('finds the SQL of transforms and assertions, with their paths', () => {
    const fields = sqlFieldsOf(
      doc([
        { id: 'g', type: 'source.generate', config: {} },
        { id: 'q', type: 'transform.sql', config: { sql: 'select 1' } },
        { id: 'a', type: 'transform.assert', config: { assertions: [{ name: 'x', sql: 'select 2' }, {}] } },
        { id: 'blank', type: 'transform.sql', config: { sql: '  ' } },
      ]),
      activityCatalog,
    );
    expect(fields).toEqual([
      { nodeId: 'q', path: 'nodes[1].config.sql', sql: 'select 1' },
      { nodeId: 'a', path: 'nodes[2].config.assertions[0].sql', sql: 'select 2' },
    ]);
  });

  it('reports a syntax error at its line and column', async () => {
    const errors = await sqlErrors(
      doc([{ id: 'q', type: 'transform.sql', config: { sql: 'select id,\n  amount frm {{ inputs.o }}' } }]),
      activityCatalog,
    );
    expect(errors).toEqual([
      {
        code: 'invalid_sql',
        nodeId: 'q',
        path: 'nodes[0].config.sql',
        line: 2,
        column: 14,
        message: 'Node "q", line 2, column 14: Syntax error at or near {{ inputs.o }}',
      },
    ]);
  });

  it('puts a problem the parser cannot place at the start of the statement', async () => {
    const [error] = await sqlErrors(
      doc([{ id: 'q', type: 'transform.sql', config: { sql: '\n  drop table {{ inputs.o }}' } }]),
      activityCatalog,
    );
    expect(error).toMatchObject({ line: 2, column: 3, code: 'invalid_sql' });
    expect(error!.message).toContain('This is a DROP statement');
  });

  it('reads a malformed document without throwing', async () => {
    expect(
      await sqlErrors({ nodes: [null, { id: 1 }, { id: 'q', type: 'transform.sql' }] }, activityCatalog),
    ).toEqual([]);
    expect(await sqlErrors('not a document', activityCatalog)).toEqual([]);
  });
});
