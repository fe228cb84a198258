// Validate parses each node's config once: the compiler's checks (shape, routes, secrets, the plan)
// and the describing of nodes all read that one parse.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseNodeConfigs, type CatalogEntry, type NodeCatalog } from '../compiler/compile.js';
import { silentLogger } from '../infra/logger.js';
import { PipelineSchema } from '../model/pipeline.schema.js';
import { outputSchemas } from './output-schemas.js';
import { validity } from './pipeline-compile.js';
import { validateDocument } from './validate-document.js';

function countingCatalog() {
  const parses: Record<string, number> = {};
  const counted = (type: string, schema: z.ZodType) =>
    z.preprocess((value) => {
      parses[type] = (parses[type] ?? 0) + 1;
      return value;
    }, schema);
  const entries: Record<string, CatalogEntry> = {
    'test.source': {
      kind: 'source',
      config: counted('test.source', z.object({ column: z.string(), secret: z.string().optional() })),
      inputs: { min: 0, max: 0 },
      secrets: (config) => (typeof config.secret === 'string' ? [config.secret] : []),
      describe: (_ctx, config) =>
        Promise.resolve([{ name: (config as { column: string }).column, type: 'text' }]),
    },
    'test.route': {
      kind: 'transform',
      config: counted('test.route', z.object({ cases: z.array(z.object({ name: z.string() })) })),
      inputs: { min: 1, max: 1 },
      routes: { list: { field: 'cases', key: 'name' }, outputs: ['default'] },
      describe: (_ctx, _config, inputs) => Promise.resolve(Object.values(inputs).flat()),
    },
  };
  const catalog: NodeCatalog = { get: (type) => entries[type] };
  return { catalog, parses };
}

const document = {
  apiVersion: 'tributary/v1',
  id: 'p',
  name: 'p',
  nodes: [
    { id: 'a', type: 'test.source', config: { column: 'x', secret: 'key' } },
    { id: 'pick', type: 'test.route', config: { cases: [{ name: 'big' }] } },
    { id: 'b', type: 'test.source', config: { column: 'y' } },
  ],
  edges: [
    { from: 'a', to: 'pick' },
    { from: 'pick', to: 'b', output: 'big' },
  ],
};

describe('validate', () => {
  it('parses each node config once, routes and secrets included', async () => {
    const { catalog, parses } = countingCatalog();
    const result = await validateDocument(document, { catalog, knownSecrets: ['key'] });
    // b is a source with an input: an error, found from the same parse.
    expect(result.errors.map((e) => e.code)).toEqual(['source_with_inputs']);
    expect(parses).toEqual({ 'test.source': 2, 'test.route': 1 });
  });

  it('hands its parse to the describing of nodes, which parses nothing again', async () => {
    const { catalog, parses } = countingCatalog();
    const pipeline = PipelineSchema.parse(document);
    const configs = parseNodeConfigs(pipeline, catalog);
    validity(document, catalog, ['key'], configs);
    const schemas = await outputSchemas(pipeline, {
      catalog,
      describeContext: {} as never,
      runs: undefined,
      log: silentLogger,
      configs,
    });
    expect(schemas.pick!.columns).toEqual([{ name: 'x', type: 'text' }]);
    expect(parses).toEqual({ 'test.source': 2, 'test.route': 1 });
  });
});
