// Every field the pipeline document allows survives opening in the editor and saving: the editor's
// document type comes from the generated contract, and its canvas carries every node field it does
// not edit itself. When the engine's schema gains a field, this test fails until the full document
// below sets it, so a new field cannot be dropped silently (as `statementTimeoutSeconds` once was).
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { pipelineJsonSchema } from '../../../engine/src/model/pipeline.schema.ts';
import type { NodeKind, PipelineDocument } from '../model/types.ts';
import { createEditorStore } from './editor.ts';

/** A document with every field of the schema set, none to its default. */
const full: PipelineDocument = {
  apiVersion: 'tributary/v1',
  id: 'every-field',
  name: 'Every field',
  project: 'sales',
  description: 'A document with every field the schema allows',
  params: {
    since: {
      type: 'date',
      description: 'From when',
      default: '2026-01-01',
      required: true,
      sensitive: false,
    },
  },
  settings: { maxParallel: 2, concurrency: 'queue', keepStaging: true },
  nodes: [
    {
      id: 'orders',
      type: 'source.csv',
      name: 'Orders',
      description: 'The orders file',
      config: { path: 'orders.csv', columns: [{ name: 'id', type: 'integer' }] },
      position: { x: 10, y: 20 },
      disabled: true,
      retry: { maxAttempts: 5, initialIntervalSeconds: 2, backoffCoefficient: 3, maxIntervalSeconds: 30 },
      timeoutSeconds: 120,
      statementTimeoutSeconds: 45,
      continueOnFailure: true,
    },
    { id: 'out', type: 'sink.postgres', config: { table: 'orders' }, position: { x: 300, y: 20 } },
  ],
  edges: [{ id: 'orders-to-out', from: 'orders', to: 'out' }],
};

type Schema = {
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
};

/** The dotted paths of every property the schema declares (`nodes[]` for array items). */
function paths(schema: Schema, prefix = ''): string[] {
  const own = Object.entries(schema.properties ?? {}).flatMap(([key, child]) => [
    `${prefix}${key}`,
    ...paths(child, `${prefix}${key}.`),
  ]);
  const items = schema.items ? paths(schema.items, `${prefix.slice(0, -1)}[].`) : [];
  const values =
    typeof schema.additionalProperties === 'object' ? paths(schema.additionalProperties, `${prefix}*.`) : [];
  return [...own, ...items, ...values];
}

/** The same paths, of the properties a value sets. */
function setPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => setPaths(v, `${prefix.slice(0, -1)}[].`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [
    `${prefix}${key}`,
    ...setPaths(child, `${prefix}${key}.`),
  ]);
}

const kindOf = (type: string): NodeKind => (type.startsWith('sink.') ? 'sink' : 'source');

describe("the editor's pipeline document", () => {
  it('is a valid document that sets every field the schema declares', () => {
    const schema = pipelineJsonSchema() as Schema;
    const ajv = new Ajv2020({ strict: false });
    expect(ajv.validate(schema as object, full), JSON.stringify(ajv.errors)).toBe(true);
    // Params are a record: its one entry stands for `*`. Configs are the connector's own.
    const set = new Set(setPaths(full).map((p) => p.replace(/^params\.since/, 'params.*')));
    const missing = paths(schema).filter((p) => !set.has(p));
    expect(missing).toEqual([]);
  });

  it('survives opening in the editor and saving, every field unchanged', () => {
    const store = createEditorStore(kindOf);
    store.getState().load(structuredClone(full), 1);
    expect(store.getState().document()).toEqual(full);
  });
});
