// Instantiating a template: values checked against the params JSON Schema (each bad one named),
// substituted, id and project set from the request, and the result compiled.
import { describe, expect, it } from 'vitest';
import { templateNodeCatalog } from '../../src/templates/check-template.js';
import { exampleValues, instantiate, validateValues } from '../../src/templates/instantiate.js';
import { TemplateSchema, type Template } from '../../src/templates/template.schema.js';

const template: Template = TemplateSchema.parse({
  id: 'numbers',
  version: '1.0.0',
  title: 'Numbers',
  description: 'Generates numbers into a table.',
  category: 'ingestion',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['rows', 'target_table'],
    properties: {
      rows: { type: 'integer', minimum: 1, maximum: 1000, description: 'How many', examples: [5] },
      target_table: {
        type: 'string',
        pattern: '^[a-z_]+\\.[a-z_]+$',
        description: 'Where',
        examples: ['demo.numbers'],
      },
      mode: { type: 'string', enum: ['append', 'replace'], default: 'replace', description: 'How' },
      key: { type: 'array', items: { type: 'string' }, description: 'Primary key', examples: [['n']] },
    },
  },
  pipeline: {
    apiVersion: 'tributary/v1',
    name: 'Numbers',
    nodes: [
      {
        id: 'gen',
        type: 'source.generate',
        config: { rows: '{{ template.rows }}', columns: [{ name: 'n', generator: 'sequence' }] },
      },
      {
        id: 'out',
        type: 'sink.postgres',
        config: {
          table: '{{ template.target_table }}',
          mode: '{{ template.mode }}',
          primaryKey: '{{ template.key }}',
        },
      },
    ],
    edges: [{ from: 'gen', to: 'out' }],
  },
});

const request = (values: Record<string, unknown>) => ({
  pipelineId: 'my-numbers',
  project: 'analytics',
  values,
});

describe('template values', () => {
  it('fills in defaults', () => {
    expect(validateValues(template, { rows: 3, target_table: 'a.b' })).toEqual({
      ok: true,
      values: { rows: 3, target_table: 'a.b', mode: 'replace' },
    });
  });

  it('names each bad value: missing, wrong type, out of range, not matching, not allowed, unknown', () => {
    const result = validateValues(template, { rows: 0, target_table: 'no dots', mode: 'upsert', extra: 1 });
    expect(result.ok).toBe(false);
    const errors = (result as { errors: { path: string; message: string }[] }).errors;
    expect(errors.map((e) => e.path).sort()).toEqual([
      'values.extra',
      'values.mode',
      'values.rows',
      'values.target_table',
    ]);
    expect(errors.find((e) => e.path === 'values.extra')!.message).toBe(
      'values.extra: "extra" is not a param of this template (its params: rows, target_table, mode, key)',
    );
    expect(errors.find((e) => e.path === 'values.rows')!.message).toMatch(/^values\.rows: .*>=1/);

    const missing = validateValues(template, { rows: 'five' });
    expect((missing as { errors: { message: string }[] }).errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^values\.rows: .*expected number/),
      'values.target_table: required',
    ]);
  });

  it('takes each param’s first example as the example values', () => {
    expect(exampleValues(template)).toEqual({ rows: 5, target_table: 'demo.numbers', key: ['n'] });
  });
});

describe('instantiate', () => {
  it('makes a compiled pipeline with the request’s id and project and typed values', () => {
    const made = instantiate(template, request(exampleValues(template)), templateNodeCatalog);
    expect(made.ok).toBe(true);
    const document = (made as { document: { id: string; project: string; nodes: { config: unknown }[] } })
      .document;
    expect(document.id).toBe('my-numbers');
    expect(document.project).toBe('analytics');
    expect(document.nodes[0]!.config).toEqual({ rows: 5, columns: [{ name: 'n', generator: 'sequence' }] });
    expect(document.nodes[1]!.config).toEqual({ table: 'demo.numbers', mode: 'replace', primaryKey: ['n'] });
  });

  it('leaves out an optional setting that was not given', () => {
    const made = instantiate(template, request({ rows: 2, target_table: 'a.b' }), templateNodeCatalog);
    expect(made.ok && made.document.nodes[1]!.config).toEqual({ table: 'a.b', mode: 'replace' });
  });

  it('uses the name from the request when given', () => {
    const made = instantiate(
      template,
      { ...request({ rows: 2, target_table: 'a.b' }), name: 'Mine' },
      templateNodeCatalog,
    );
    expect(made.ok && made.document.name).toBe('Mine');
  });

  it('stops at the values when they are invalid', () => {
    const made = instantiate(template, request({ rows: 2000, target_table: 'a.b' }), templateNodeCatalog);
    expect(made).toMatchObject({ ok: false, stage: 'values', errors: [{ path: 'values.rows' }] });
  });

  it('reports a pipeline that does not compile with the node and field at fault', () => {
    // The schema allows it, but sink.postgres refuses a platform schema.
    const made = instantiate(
      template,
      request({ rows: 2, target_table: 'tributary.x' }),
      templateNodeCatalog,
    );
    expect(made).toMatchObject({
      ok: false,
      stage: 'compile',
      errors: [{ code: 'invalid_config', nodeId: 'out', path: 'nodes[1].config.table' }],
    });
  });
});
