// The version diff names nodes added, removed and changed down to config fields, and edge,
// param, settings and metadata changes.
import { describe, expect, it } from 'vitest';
import { deepDiff, diffPipelines } from '../../src/pipelines/pipeline-diff.js';
import { PipelineSchema } from '../../src/model/pipeline.schema.js';

const base = PipelineSchema.parse({
  apiVersion: 'tributary/v1',
  id: 'p',
  name: 'P',
  nodes: [
    {
      id: 'a',
      type: 'source.generate',
      config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    { id: 'b', type: 'transform.sql', config: { sql: 'select * from {{ inputs.a }}' } },
  ],
  edges: [{ from: 'a', to: 'b' }],
});

describe('pipeline diff', () => {
  it('finds nothing between equal documents', () => {
    const diff = diffPipelines(base, structuredClone(base));
    expect(diff).toEqual({
      nodes: { added: [], removed: [], changed: [] },
      edges: { added: [], removed: [] },
      params: [],
      settings: [],
      metadata: [],
    });
  });

  it('names added and removed nodes and edges', () => {
    const next = PipelineSchema.parse({
      ...base,
      nodes: [base.nodes[0], { id: 'c', type: 'transform.sql', config: { sql: 'select 1' } }],
      edges: [{ from: 'a', to: 'c' }],
    });
    const diff = diffPipelines(base, next);
    expect(diff.nodes.added).toEqual([{ id: 'c', type: 'transform.sql' }]);
    expect(diff.nodes.removed).toEqual([{ id: 'b', type: 'transform.sql' }]);
    expect(diff.edges).toEqual({ added: ['a->c'], removed: ['a->b'] });
  });

  it('names the config field that changed, inside arrays too', () => {
    const next = structuredClone(base);
    next.nodes[0]!.config = { rows: 5, columns: [{ name: 'm', generator: 'sequence' }] };
    const diff = diffPipelines(base, next);
    expect(diff.nodes.changed).toEqual([
      {
        id: 'a',
        type: 'source.generate',
        changes: [
          { path: 'config.columns[0].name', kind: 'changed', from: 'n', to: 'm' },
          { path: 'config.rows', kind: 'changed', from: 3, to: 5 },
        ],
      },
    ]);
  });

  it('reports a node moved on the canvas as one position change', () => {
    const next = structuredClone(base);
    next.nodes[1]!.position = { x: 10, y: 20 };
    expect(diffPipelines(base, next).nodes.changed).toEqual([
      {
        id: 'b',
        type: 'transform.sql',
        changes: [{ path: 'position', kind: 'added', from: undefined, to: { x: 10, y: 20 } }],
      },
    ]);
  });

  it('reports params, settings and metadata changes with their paths', () => {
    const next = PipelineSchema.parse({
      ...base,
      name: 'Renamed',
      params: { day: { type: 'date', required: true } },
      settings: { ...base.settings, concurrency: 'skip' },
    });
    const diff = diffPipelines(base, next);
    expect(diff.metadata).toEqual([{ path: 'name', kind: 'changed', from: 'P', to: 'Renamed' }]);
    expect(diff.params).toEqual([
      { path: 'params.day', kind: 'added', to: { type: 'date', required: true } },
    ]);
    expect(diff.settings).toEqual([
      { path: 'settings.concurrency', kind: 'changed', from: 'allow', to: 'skip' },
    ]);
  });

  it('diffs arrays of different length index by index', () => {
    expect(deepDiff([1, 2], [1, 3, 4], 'xs')).toEqual([
      { path: 'xs[1]', kind: 'changed', from: 2, to: 3 },
      { path: 'xs[2]', kind: 'added', to: 4 },
    ]);
  });
});
