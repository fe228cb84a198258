import type { DescribeContext } from '@tributary/activities';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { NodeCatalog } from '../compiler/compile.js';
import { silentLogger } from '../infra/logger.js';
import { PipelineSchema } from '../model/pipeline.schema.js';
import { outputSchemas, type RunOutput, type RunOutputs } from './output-schemas.js';

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
      : type === 'test.code'
        ? { kind: 'transform', config: z.object({ code: z.string() }), inputs: { min: 1, max: null } }
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

describe('output schemas from runs', () => {
  // a (source) → py (code, known only from a run)
  const doc = (code: string, column = 'x') =>
    pipeline(
      [
        { id: 'a', type: 'test.source', config: { column } },
        { id: 'py', type: 'test.code', config: { code } },
      ],
      [{ from: 'a', to: 'py' }],
    );
  const SCORE = [{ name: 'score', type: 'double precision' }];
  /** Runs (newest first) of versions 1.. of the given documents, each reporting `py`'s columns. */
  const ranAs = (documents: ReturnType<typeof doc>[], reported = SCORE, total?: number) => {
    const reads: string[] = [];
    const runs: RunOutput[] = documents.map((_, i) => ({
      runId: `run-${i}`,
      pipelineVersion: i + 1,
      tables: new Map(),
      reported: () => {
        reads.push(`run-${i}`);
        return Promise.resolve(
          new Map([['py', { columns: reported, ...(total !== undefined ? { total } : {}) }]]),
        );
      },
    }));
    const outputs: RunOutputs = {
      runs,
      versionDocument: (version) => Promise.resolve(documents[version - 1]),
    };
    return { outputs, reads };
  };
  const schemasOf = (document: ReturnType<typeof doc>, outputs: RunOutputs) =>
    outputSchemas(document, { catalog, describeContext: noWarehouse, runs: outputs, log: silentLogger });

  it("takes a step's reported columns from a run that ran it and its upstream as they are now", async () => {
    const { outputs } = ranAs([doc('v1')]);
    const schemas = await schemasOf(doc('v1'), outputs);
    expect(schemas.py).toEqual({ columns: SCORE, source: 'run', runId: 'run-0' });
    expect(schemas.a).toEqual({ columns: [{ name: 'x', type: 'text' }], source: 'inferred' });
  });

  it('no longer claims them once the code or anything upstream changed, and reads no run for it', async () => {
    const { outputs, reads } = ranAs([doc('v1')]);
    const edited = await schemasOf(doc('v2'), outputs);
    expect(edited.py).toMatchObject({ columns: null, source: 'unknown' });
    expect(edited.py!.message).toMatch(/after a run in which this step, as it is now, succeeded/);
    const upstream = await schemasOf(doc('v1', 'y'), outputs);
    expect(upstream.py).toMatchObject({ columns: null, source: 'unknown' });
    expect(reads).toEqual([]);
  });

  it('looks past newer runs of another version to the newest that ran the step as it is', async () => {
    const { outputs, reads } = ranAs([doc('v2'), doc('v1')]);
    const schemas = await schemasOf(doc('v1'), outputs);
    expect(schemas.py).toEqual({ columns: SCORE, source: 'run', runId: 'run-1' });
    expect(reads).toEqual(['run-1']);
  });

  it('says when the run reported only the first of its columns', async () => {
    const { outputs } = ranAs([doc('v1')], SCORE, 700);
    const schemas = await schemasOf(doc('v1'), outputs);
    expect(schemas.py).toEqual({
      columns: SCORE,
      source: 'run',
      runId: 'run-0',
      message: 'the run reported the first 1 of its 700 columns',
    });
  });

  it('answers only the nodes asked for', async () => {
    const { outputs } = ranAs([doc('v1')]);
    const schemas = await outputSchemas(doc('v1'), {
      catalog,
      describeContext: noWarehouse,
      runs: outputs,
      log: silentLogger,
      only: new Set(['py']),
    });
    expect(Object.keys(schemas)).toEqual(['py']);
  });

  it('never claims a run for a node below a cycle, and answers without waiting on itself', async () => {
    const cyclic = pipeline(
      [
        { id: 'a', type: 'test.join', config: {} },
        { id: 'b', type: 'test.join', config: {} },
        { id: 'py', type: 'test.code', config: { code: 'v1' } },
      ],
      [
        { from: 'a', to: 'b' },
        { from: 'b', to: 'a' },
        { from: 'b', to: 'py' },
      ],
    );
    const { outputs } = ranAs([cyclic as ReturnType<typeof doc>]);
    const schemas = await schemasOf(cyclic as ReturnType<typeof doc>, outputs);
    expect(schemas.a).toMatchObject({ source: 'unknown', message: 'it is on a cycle of the graph' });
    expect(schemas.py).toMatchObject({ columns: null, source: 'unknown' });
  });
});
