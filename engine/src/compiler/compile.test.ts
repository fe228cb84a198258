// The compiler, table-driven: one case per error code, each asserting the code and where it
// points; plus determinism and the shape of a good plan.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { configSchemaDigest } from '@tributary/activities';
import { compile, parseNodeConfigs, type CatalogEntry, type NodeCatalog } from './compile.js';
import type { CompileErrorCode } from './errors.js';
import { PipelineSchema } from '../model/pipeline.schema.js';

const catalog: NodeCatalog = {
  get: (type) =>
    ({
      'source.test': {
        kind: 'source' as const,
        config: z.object({ rows: z.number().int().default(1) }),
        inputs: { min: 0, max: 0 },
      },
      'transform.test': {
        kind: 'transform' as const,
        config: z.object({ sql: z.string() }),
        inputs: { min: 1, max: null },
      },
      'sink.test': {
        kind: 'sink' as const,
        config: z.object({ table: z.string().min(1), credentials: z.string().optional() }),
        inputs: { min: 1, max: 1 },
        secrets: (config: Record<string, unknown>) =>
          typeof config.credentials === 'string' ? [config.credentials] : [],
      },
    })[type],
};

const base = (): Doc => ({
  apiVersion: 'tributary/v1',
  id: 'orders-daily',
  name: 'Orders daily',
  project: 'sales',
  params: { since: { type: 'date', default: '2026-01-01' } },
  settings: { maxParallel: 4 },
  nodes: [
    { id: 'orders', type: 'source.test', config: { rows: 5 }, position: { x: 0, y: 0 } },
    {
      id: 'daily',
      type: 'transform.test',
      config: { sql: 'select * from {{ inputs.orders }} where d >= {{ params.since }}' },
    },
    {
      id: 'out',
      type: 'sink.test',
      config: { table: 'mart.daily' },
      retry: { maxAttempts: 5 },
      timeoutSeconds: 600,
    },
  ],
  edges: [
    { from: 'orders', to: 'daily' },
    { from: 'daily', to: 'out' },
  ],
});

interface Doc {
  apiVersion: string;
  id: string;
  name: string;
  project: string;
  params: Record<string, { type: string; default?: unknown; required?: boolean }>;
  settings: Record<string, unknown>;
  nodes: { id: string; type: string; config: Record<string, unknown>; [key: string]: unknown }[];
  edges: { from: string; to: string }[];
  [key: string]: unknown;
}

const cases: {
  name: string;
  code: CompileErrorCode;
  edit: (d: Doc) => unknown;
  params?: Record<string, unknown>;
  expect: Record<string, unknown>;
}[] = [
  {
    name: 'a document of the wrong shape',
    code: 'invalid_document',
    edit: (d) => ({ ...d, apiVersion: 'v0' }),
    expect: { path: 'apiVersion' },
  },
  {
    name: 'a node id that is not a slug',
    code: 'invalid_document',
    edit: (d) => ((d.nodes[0]!.id = 'Bad Id'), d),
    expect: { path: 'nodes[0].id' },
  },
  {
    name: 'a duplicate node id',
    code: 'duplicate_node_id',
    edit: (d) => (d.nodes.push({ id: 'orders', type: 'source.test', config: {} } as never), d),
    expect: { nodeId: 'orders', path: 'nodes[3].id' },
  },
  {
    name: 'an unknown node type',
    code: 'unknown_node_type',
    edit: (d) => ((d.nodes[2]!.type = 'sink.nope'), d),
    expect: { nodeId: 'out', path: 'nodes[2].type' },
  },
  {
    name: 'an edge to a missing node',
    code: 'edge_unknown_node',
    edit: (d) => (d.edges.push({ from: 'daily', to: 'ghost' }), d),
    expect: { edgeId: 'daily->ghost', path: 'edges[2].to' },
  },
  {
    name: 'a duplicate edge',
    code: 'duplicate_edge',
    edit: (d) => (d.edges.push({ from: 'orders', to: 'daily' }), d),
    expect: { edgeId: 'orders->daily' },
  },
  {
    name: 'a cycle',
    code: 'cycle',
    edit: (d) => {
      d.nodes.push({ id: 'again', type: 'transform.test', config: { sql: 'select 1' } } as never);
      d.edges.push({ from: 'daily', to: 'again' }, { from: 'again', to: 'daily' });
      return d;
    },
    expect: { message: expect.stringMatching(/daily → again → daily|again → daily → again/) },
  },
  {
    name: 'a source with inputs',
    code: 'source_with_inputs',
    edit: (d) => (d.edges.push({ from: 'daily', to: 'orders' }), d),
    expect: { nodeId: 'orders' },
  },
  {
    name: 'a sink with outputs',
    code: 'sink_with_outputs',
    edit: (d) => {
      d.nodes.push({ id: 'after', type: 'transform.test', config: { sql: 'select 1' } } as never);
      d.edges.push({ from: 'out', to: 'after' });
      return d;
    },
    expect: { nodeId: 'out' },
  },
  {
    name: 'a sink without input',
    code: 'missing_input',
    edit: (d) => ((d.edges = [{ from: 'orders', to: 'daily' }]), d),
    expect: { nodeId: 'out' },
  },
  {
    name: 'a sink with two inputs',
    code: 'too_many_inputs',
    edit: (d) => (d.edges.push({ from: 'orders', to: 'out' }), d),
    expect: { nodeId: 'out' },
  },
  {
    name: 'a reference to an input that is not upstream',
    code: 'unknown_input_reference',
    edit: (d) => ((d.nodes[1]!.config = { sql: 'select * from {{ inputs.elsewhere }}' }), d),
    expect: { nodeId: 'daily', path: 'nodes[1].config.sql' },
  },
  {
    name: 'a malformed placeholder',
    code: 'invalid_placeholder',
    edit: (d) => ((d.nodes[1]!.config = { sql: 'select {{ orders }}' }), d),
    expect: { nodeId: 'daily' },
  },
  {
    name: 'a reference to an undeclared param',
    code: 'undeclared_param',
    edit: (d) => (
      (d.nodes[1]!.config = { sql: 'select * from {{ inputs.orders }} where x = {{ params.until }}' }),
      d
    ),
    expect: { nodeId: 'daily', path: 'nodes[1].config.sql' },
  },
  {
    name: 'a required param without value',
    code: 'missing_param',
    edit: (d) => ((d.params = { since: { type: 'date', required: true } }), d),
    expect: { path: 'params.since' },
  },
  {
    name: 'a param of the wrong type',
    code: 'invalid_param',
    edit: (d) => d,
    params: { since: 'yesterday' },
    expect: { path: 'params.since' },
  },
  {
    name: 'a run param the pipeline does not declare',
    code: 'unknown_param',
    edit: (d) => d,
    params: { nope: 1 },
    expect: { path: 'params.nope' },
  },
  {
    name: 'a default of the wrong type',
    code: 'invalid_param_default',
    edit: (d) => ((d.params = { since: { type: 'date', default: 42 } }), d),
    expect: { path: 'params.since.default' },
  },
  {
    name: 'config that fails the node type schema',
    code: 'invalid_config',
    edit: (d) => ((d.nodes[2]!.config = { table: '' }), d),
    expect: { nodeId: 'out', path: 'nodes[2].config.table' },
  },
  {
    name: 'a disabled node that others depend on',
    code: 'disabled_dependency',
    edit: (d) => (((d.nodes[1] as Record<string, unknown>).disabled = true), d),
    expect: { nodeId: 'out' },
  },
  {
    name: 'a pipeline without nodes',
    code: 'empty_pipeline',
    edit: (d) => ((d.nodes = []), (d.edges = []), d),
    expect: { path: 'nodes' },
  },
];

describe('compile', () => {
  it('compiles a valid pipeline into a plan with steps in dependency order', () => {
    const result = compile(base(), { catalog, params: { since: '2026-03-01' }, pipelineVersion: 3 });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { plan } = result;
    expect(plan.steps.map((s) => [s.id, s.dependsOn])).toEqual([
      ['orders', []],
      ['daily', ['orders']],
      ['out', ['daily']],
    ]);
    expect(plan.params).toEqual({ since: '2026-03-01' });
    expect(plan.pipelineVersion).toBe(3);
    expect(plan.versionHash).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.steps[2]).toMatchObject({
      retry: { maximumAttempts: 5 },
      timeoutSeconds: 600,
      continueOnFailure: false,
    });
    expect(plan.steps[0]!.retry.maximumAttempts).toBe(3);
  });

  it.each(cases)('rejects $name with $code', ({ code, edit, params, expect: where }) => {
    const result = compile(edit(base() as Doc), { catalog, params: params ?? {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const error = result.errors.find((e) => e.code === code);
    expect(error, JSON.stringify(result.errors, null, 2)).toBeDefined();
    expect(error).toMatchObject(where);
    expect(error!.message.length).toBeGreaterThan(10);
  });

  it('collects every error, not just the first', () => {
    const doc = base() as Doc;
    doc.nodes[0]!.type = 'source.nope';
    doc.nodes[2]!.config = { table: '' };
    doc.edges.push({ from: 'daily', to: 'ghost' });
    const result = compile(doc, { catalog, params: { since: 'never' } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(new Set(result.errors.map((e) => e.code))).toEqual(
      new Set(['unknown_node_type', 'invalid_config', 'edge_unknown_node', 'invalid_param']),
    );
  });

  it('accepts missing required params when only validating', () => {
    const doc = base() as Doc;
    doc.params = { since: { type: 'date', required: true } };
    expect(compile(doc, { catalog, requireParams: false }).ok).toBe(true);
  });

  it('gives a byte-identical plan for the same input, whatever the key order', () => {
    const a = compile(base(), { catalog, params: { since: '2026-03-01' } });
    const reordered = JSON.parse(JSON.stringify(base()), (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
    );
    const b = compile(reordered, { catalog, params: { since: '2026-03-01' } });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('does not change the version hash when only node positions move', () => {
    const moved = base();
    moved.nodes[0]!.position = { x: 500, y: 90 };
    const a = compile(base(), { catalog });
    const b = compile(moved, { catalog });
    expect(a.ok && b.ok && a.plan.versionHash === b.plan.versionHash).toBe(true);
  });

  it('leaves disabled leaf nodes out of the plan', () => {
    const doc = base() as Doc;
    (doc.nodes[2] as Record<string, unknown>).disabled = true;
    const result = compile(doc, { catalog });
    expect(result.ok && result.plan.steps.map((s) => s.id)).toEqual(['orders', 'daily']);
  });

  it('coerces params from text, as webhooks and forms send them', () => {
    const doc = base() as Doc;
    doc.params = {
      ...doc.params,
      n: { type: 'integer' },
      on: { type: 'boolean' },
      at: { type: 'timestamp' },
    } as never;
    const result = compile(doc, { catalog, params: { n: '42', on: 'true', at: '2026-11-25T10:00:00Z' } });
    expect(result.ok && result.plan.params).toEqual({
      since: '2026-01-01',
      n: 42,
      on: true,
      at: '2026-11-25T10:00:00Z',
    });
  });

  it('reports a secret the project lacks, naming node and field, only when told the known ones', () => {
    const doc = base() as Doc;
    (doc.nodes[2] as { config: Record<string, unknown> }).config.credentials = 'warehouse_login';
    expect(compile(doc, { catalog }).ok).toBe(true);
    const missing = compile(doc, { catalog, knownSecrets: ['other'] });
    expect(!missing.ok && missing.errors).toEqual([
      expect.objectContaining({ code: 'unknown_secret', nodeId: 'out', path: 'nodes[2].config.credentials' }),
    ]);
    expect(compile(doc, { catalog, knownSecrets: ['warehouse_login'] }).ok).toBe(true);
    // A name made from a param is known only at run time.
    (doc.nodes[2] as { config: Record<string, unknown> }).config.credentials = '{{ params.since }}';
    expect(compile(doc, { catalog, knownSecrets: [] }).ok).toBe(true);
  });

  it('parses each node config once and carries it parsed, stamped with the digest of its schema', () => {
    // Every schema counts the parses made with it; secrets and routes read the same parse.
    const parses: Record<string, number> = {};
    const counted: NodeCatalog = {
      get(type) {
        const entry = catalog.get(type);
        if (!entry) return undefined;
        return (countedEntries[type] ??= {
          ...entry,
          config: z.preprocess((value) => {
            parses[type] = (parses[type] ?? 0) + 1;
            return value;
          }, entry.config),
        });
      },
    };
    const countedEntries: Record<string, CatalogEntry> = {};
    const doc = base() as Doc;
    (doc.nodes[2] as { config: Record<string, unknown> }).config.credentials = 'warehouse_login';
    const result = compile(doc, { catalog: counted, knownSecrets: ['warehouse_login'] });
    expect(parses).toEqual({ 'source.test': 1, 'transform.test': 1, 'sink.test': 1 });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    // The defaults are applied in the plan; the activity uses it as it is when its schema is this one.
    expect(result.plan.steps[0]!.config).toEqual({ rows: 5 });
    expect(result.plan.configSchemas).toEqual({
      'source.test': configSchemaDigest(counted.get('source.test')!.config),
      'sink.test': configSchemaDigest(counted.get('sink.test')!.config),
      'transform.test': configSchemaDigest(counted.get('transform.test')!.config),
    });
    expect(Object.keys(result.plan.configSchemas!)).toEqual(['sink.test', 'source.test', 'transform.test']);

    // A caller that parsed them already (validate) hands them in: compile parses none again.
    const configs = parseNodeConfigs(PipelineSchema.parse(doc), counted);
    expect(parses).toEqual({ 'source.test': 2, 'transform.test': 2, 'sink.test': 2 });
    expect(compile(doc, { catalog: counted, configs }).ok).toBe(true);
    expect(parses).toEqual({ 'source.test': 2, 'transform.test': 2, 'sink.test': 2 });
  });

  it('a config schema that changes has another digest; the same schema keeps its digest', () => {
    const a = z.object({ rows: z.number().default(1) });
    const b = z.object({ rows: z.number().default(2) });
    expect(configSchemaDigest(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(configSchemaDigest(a)).toBe(configSchemaDigest(z.object({ rows: z.number().default(1) })));
    expect(configSchemaDigest(a)).not.toBe(configSchemaDigest(b));
  });
});
