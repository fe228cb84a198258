// The compiler on routes: deciding nodes (flow.if, flow.switch) and failure outputs, with the real
// node catalogue, so the conditions are checked as a saved pipeline's would be.
import { describe, expect, it } from 'vitest';
import { getNodeType } from '@tributary/activities';
import type { PipelineInput } from '../model/pipeline.schema.js';
import { compile } from './compile.js';

const catalog = { get: getNodeType };
const gen = { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] };

function doc(nodes: PipelineInput['nodes'], edges: PipelineInput['edges']): PipelineInput {
  return {
    apiVersion: 'tributary/v1',
    id: 'routes',
    name: 'Routes',
    params: { mode: { type: 'string', default: 'full' } },
    nodes,
    edges,
  };
}

const ifNode = (condition: string, extra: Record<string, unknown> = {}) => ({
  id: 'check',
  type: 'flow.if',
  config: { condition, ...extra },
});

describe('compiling routes', () => {
  it('puts routes, the outputs behind each edge and what a decision reads into the plan', () => {
    const result = compile(
      doc(
        [
          { id: 'load', type: 'source.generate', config: gen },
          ifNode("steps.load.rowsOut > 0 and params.mode == 'full'"),
          { id: 'yes', type: 'transform.sql', config: { sql: 'select * from {{ inputs.check }}' } },
          { id: 'no', type: 'transform.sql', config: { sql: 'select 1 as one' } },
          { id: 'cleanup', type: 'transform.sql', config: { sql: 'select 1 as one' } },
        ],
        [
          { from: 'load', to: 'check' },
          { from: 'check', to: 'yes', output: 'true' },
          { from: 'check', to: 'no', output: 'false' },
          { from: 'yes', to: 'cleanup', output: 'failure' },
        ],
      ),
      { catalog },
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const step = (id: string) => result.plan.steps.find((s) => s.id === id)!;
    expect(step('check')).toMatchObject({ routes: ['true', 'false'], reads: ['load'] });
    expect(step('yes').after).toEqual({ check: 'true' });
    expect(step('cleanup').after).toEqual({ yes: 'failure' });
    // Steps that neither route nor are routed carry none of it: their plans are as before.
    expect(Object.keys(step('load'))).not.toContain('after');
    expect(Object.keys(step('load'))).not.toContain('routes');
  });

  it('refuses a condition it cannot evaluate, naming the node and the field', () => {
    const result = compile(
      doc(
        [
          { id: 'load', type: 'source.generate', config: gen },
          { id: 'other', type: 'source.generate', config: gen },
          ifNode("steps.other.rowsOut > 0 or steps.load.status == 'done'"),
          { id: 'yes', type: 'transform.sql', config: { sql: 'select 1 as one' } },
        ],
        [
          { from: 'load', to: 'check' },
          { from: 'check', to: 'yes', output: 'true' },
        ],
      ),
      { catalog },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      {
        code: 'invalid_condition',
        nodeId: 'check',
        path: 'nodes[2].config.condition',
        message:
          'Node "check", field "condition": "other" is not upstream of this node; connect it or name an upstream node (at column 1)',
      },
      {
        code: 'invalid_condition',
        nodeId: 'check',
        path: 'nodes[2].config.condition',
        message: expect.stringContaining('steps.load.status is never "done"') as string,
      },
    ]);
  });

  it('refuses a switch case over a fact the upstream type does not have, and "query" without a query', () => {
    const result = compile(
      doc(
        [
          { id: 'load', type: 'source.generate', config: gen },
          {
            id: 'route',
            type: 'flow.switch',
            config: {
              cases: [
                { name: 'big', when: "steps.load.assert == 'passed'" },
                { name: 'q', when: 'query > 1' },
              ],
            },
          },
          { id: 'big', type: 'transform.sql', config: { sql: 'select 1 as one' } },
        ],
        [
          { from: 'load', to: 'route' },
          { from: 'route', to: 'big', output: 'big' },
        ],
      ),
      { catalog },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.path, e.message])).toEqual([
      [
        'nodes[1].config.cases.0.when',
        'Node "route", field "cases.0.when": step "load" has no fact "assert"; it has status, rowsIn, rowsOut, error (at column 1)',
      ],
      [
        'nodes[1].config.cases.1.when',
        'Node "route", field "cases.1.when": "query" is used, but the node has no query (at column 1)',
      ],
    ]);
  });

  it('refuses edges whose output the node lacks, unnamed edges out of a decision, and reading a failed input', () => {
    const result = compile(
      doc(
        [
          { id: 'load', type: 'source.generate', config: gen },
          ifNode('steps.load.rowsOut > 0'),
          { id: 'a', type: 'transform.sql', config: { sql: 'select 1 as one' } },
          { id: 'b', type: 'transform.sql', config: { sql: 'select 1 as one' } },
          { id: 'c', type: 'transform.sql', config: { sql: 'select * from {{ inputs.a }}' } },
        ],
        [
          { from: 'load', to: 'check' },
          { from: 'check', to: 'a', output: 'maybe' },
          { from: 'check', to: 'b' },
          { from: 'a', to: 'c', output: 'failure' },
          { from: 'load', to: 'b', output: 'yes' },
        ],
      ),
      { catalog },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.code, e.path])).toEqual([
      ['unknown_output', 'edges[1].output'],
      ['edge_without_output', 'edges[2].output'],
      ['unknown_output', 'edges[4].output'],
      ['unknown_input_reference', 'nodes[4].config.sql'],
    ]);
    expect(result.errors[0]!.message).toBe(
      'Edge check->a leaves output "maybe" of node "check" (flow.if), which has "true", "false", "failure"',
    );
    expect(result.errors[3]!.message).toContain(
      'it runs only when "a" failed, which leaves no output to read',
    );
  });

  it('lets a sink have a failure output', () => {
    const result = compile(
      doc(
        [
          { id: 'load', type: 'source.generate', config: gen },
          { id: 'out', type: 'sink.postgres', config: { table: 't', mode: 'replace' } },
          { id: 'alert', type: 'transform.sql', config: { sql: 'select 1 as one' } },
        ],
        [
          { from: 'load', to: 'out' },
          { from: 'out', to: 'alert', output: 'failure' },
        ],
      ),
      { catalog },
    );
    expect(result.ok).toBe(true);
  });
});
