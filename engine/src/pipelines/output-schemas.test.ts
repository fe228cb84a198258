import type { DescribeContext } from '@tributary/activities';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { NodeCatalog } from '../compiler/compile.js';
import { silentLogger } from '../infra/logger.js';
import { PipelineSchema } from '../model/pipeline.schema.js';
import { outputSchemas } from './output-schemas.js';

// A catalogue of two node types whose describe needs no database: a source of one column named by
// its config, and a transform whose output is its inputs' columns side by side.
const catalog: NodeCatalog = {
  get: (type) =>
    type === 'test.source'
      ? {
          kind: 'source',
          config: z.object({ column: z.string() }),
          inputs: { min: 0, max: 0 },
          describe: (_ctx, config) =>
            Promise.resolve([{ name: (config as { column: string }).column, type: 'text' }]),
        }
      : type === 'test.join'
        ? {
            kind: 'transform',
            config: z.object({}),
            inputs: { min: 1, max: null },
            describe: (_ctx, _config, inputs) => Promise.resolve(Object.values(inputs).flat()),
          }
        : undefined,
};
const noWarehouse = {} as DescribeContext;

const pipeline = (nodes: unknown[], edges: { from: string; to: string }[]) =>
  PipelineSchema.parse({ apiVersion: 'tributary/v1', id: 'p', name: 'p', nodes, edges });

describe('output schemas over the graph', () => {
  it('describes each node over its inputs, in dependency order', async () => {
    const schemas = await outputSchemas(
      pipeline(
        [
          { id: 'j', type: 'test.join', config: {} },
          { id: 'a', type: 'test.source', config: { column: 'x' } },
          { id: 'b', type: 'test.source', config: { column: 'y' } },
        ],
        [
          { from: 'a', to: 'j' },
          { from: 'b', to: 'j' },
        ],
      ),
      { catalog, describeContext: noWarehouse, runs: undefined, log: silentLogger },
    );
    expect(schemas.j).toEqual({
      columns: [
        { name: 'x', type: 'text' },
        { name: 'y', type: 'text' },
      ],
      source: 'inferred',
    });
  });

  it('answers for a graph with a cycle instead of waiting on itself', async () => {
    const schemas = await outputSchemas(
      pipeline(
        [
          { id: 'a', type: 'test.join', config: {} },
          { id: 'b', type: 'test.join', config: {} },
          { id: 'c', type: 'test.join', config: {} },
        ],
        [
          { from: 'a', to: 'b' },
          { from: 'b', to: 'a' },
          { from: 'b', to: 'c' },
        ],
      ),
      { catalog, describeContext: noWarehouse, runs: undefined, log: silentLogger },
    );
    expect(schemas.a).toMatchObject({ columns: null, source: 'unknown' });
    expect(schemas.b).toMatchObject({ columns: null, source: 'unknown' });
    expect(schemas.c).toEqual({
      columns: null,
      source: 'unknown',
      message: 'the columns of its input "b" are not known',
    });
  });

  it('names an unknown node type and a config that does not parse', async () => {
    const schemas = await outputSchemas(
      pipeline(
        [
          { id: 'ghost', type: 'test.nothing', config: {} },
          { id: 'bad', type: 'test.source', config: { column: 3 } },
        ],
        [],
      ),
      { catalog, describeContext: noWarehouse, runs: undefined, log: silentLogger },
    );
    expect(schemas.ghost).toEqual({
      columns: null,
      source: 'unknown',
      message: 'unknown node type "test.nothing"',
    });
    expect(schemas.bad!.message).toMatch(/^its config is not valid \(column: /);
  });
});
