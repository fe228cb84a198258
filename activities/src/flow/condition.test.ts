import { describe, expect, it } from 'vitest';
import {
  checkCondition,
  conditionReads,
  evaluateCondition,
  parseCondition,
  STEP_FACTS,
  type ConditionScope,
} from './condition.js';

const scope: ConditionScope = {
  steps: new Map([
    ['load', STEP_FACTS],
    ['gate', { ...STEP_FACTS, assert: { type: 'string', values: ['passed', 'warned', 'failed'] } }],
  ]),
  params: { mode: 'string', limit: 'number', dry: 'boolean' },
  query: 'number',
};
const problems = (text: string) => checkCondition(parseCondition(text), scope).map((p) => p.message);

describe('condition language', () => {
  it('evaluates comparisons, and/or/not and parentheses over step facts, params and the query', () => {
    const facts = {
      steps: { load: { status: 'succeeded', rowsOut: 0 }, gate: { assert: 'warned' } },
      params: { mode: 'full', limit: 10, dry: false },
      query: 42,
    };
    const run = (text: string) => evaluateCondition(parseCondition(text), facts);
    expect(run('steps.load.rowsOut > 0')).toBe(false);
    expect(run('steps.load.status == \'succeeded\' and params.mode == "full"')).toBe(true);
    expect(run('not (query < params.limit) || params.dry')).toBe(true);
    expect(run("steps.gate.assert != 'passed' && !params.dry")).toBe(true);
    expect(run('query >= 42.0')).toBe(true);
  });

  it('treats a comparison with null (a step that did not run) as false, except == null', () => {
    const facts = { steps: { load: { rowsOut: null } }, params: {} };
    expect(evaluateCondition(parseCondition('steps.load.rowsOut > 0'), facts)).toBe(false);
    expect(evaluateCondition(parseCondition('steps.load.rowsOut <= 0'), facts)).toBe(false);
    expect(evaluateCondition(parseCondition('steps.load.rowsOut == null'), facts)).toBe(true);
  });

  it('refuses what is not in the grammar, naming the column', () => {
    expect(() => parseCondition('steps.load.rowsOut = 0')).toThrow(
      '"=" is not an operator; compare with "==" (at column 20)',
    );
    expect(() => parseCondition('process.exit(1)')).toThrow('unknown name "process.exit"');
    expect(() => parseCondition('steps.load.rowsOut > 0 and')).toThrow(
      'expected a value but found the end of the condition',
    );
    expect(() => parseCondition("params.mode == 'open")).toThrow('a string is not closed (at column 16)');
    expect(() => parseCondition('(('.repeat(60) + '1')).toThrow('nested more than 50 deep');
    expect(() => parseCondition('steps.load > 1')).toThrow('write steps.<node>.<fact>');
  });

  it('type-checks against what is upstream and names the problem', () => {
    expect(problems('steps.load.rowsOut > 0')).toEqual([]);
    expect(problems('steps.other.rowsOut > 0')).toEqual([
      '"other" is not upstream of this node; connect it or name an upstream node (at column 1)',
    ]);
    expect(problems('steps.load.rows > 0')[0]).toContain(
      'step "load" has no fact "rows"; it has status, rowsIn, rowsOut, error',
    );
    expect(problems("steps.load.rowsOut > 'many'")).toEqual([
      'cannot compare a number with a string using ">" (at column 20)',
    ]);
    expect(problems("steps.load.status == 'succeded'")[0]).toContain('steps.load.status is never "succeded"');
    expect(problems("steps.gate.assert == 'warned'")).toEqual([]);
    expect(problems('params.nope == 1')).toEqual(['the pipeline declares no param "nope" (at column 1)']);
    expect(problems('steps.load.rowsOut')).toEqual([
      'the condition must be true or false, but it is a number (at column 1)',
    ]);
    expect(problems('params.limit and params.dry')[0]).toContain(
      '"and" needs true/false values on both sides, not a number',
    );
    expect(
      checkCondition(parseCondition('query > 1'), { ...scope, query: undefined }).map((p) => p.message),
    ).toEqual(['"query" is used, but the node has no query (at column 1)']);
  });

  it('lists the steps a condition reads', () => {
    expect(conditionReads(parseCondition("steps.b.status == 'failed' or steps.a.rowsOut > query"))).toEqual({
      steps: ['a', 'b'],
      query: true,
    });
  });
});
