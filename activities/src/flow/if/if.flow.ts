// flow.if: routes the run by a condition. The steps behind the output it does not take ("true" or
// "false") are skipped, with the condition and its value on them and in the audit trail.
import { z } from 'zod';
import { defineNodeType } from '../../node-type.js';
import { evaluateCondition, referencedValues } from '../condition.js';
import {
  checkConditions,
  conditionField,
  decidingNode,
  decisionFacts,
  parseAt,
  passThrough,
  queryField,
  readsOf,
} from '../decide.js';

const ConfigSchema = z
  .object({
    condition: conditionField,
    query: queryField,
  })
  .strict();

export const ifFlow = defineNodeType({
  ...decidingNode,
  type: 'flow.if',
  title: 'If',
  description:
    'Takes its "true" or its "false" output by a condition over upstream steps (status, row counts, ' +
    "a gate's verdict), run params and a one-row query; the steps on the other output are skipped.",
  icon: 'git-branch',
  config: ConfigSchema,
  routes: { outputs: ['true', 'false'] },
  reads: (config) => readsOf([config.condition]),
  checkUpstream: (config, scope) =>
    checkConditions([{ path: ['condition'], text: config.condition }], scope, config.query),
  async run(ctx, config, inputs) {
    const expr = parseAt(config.condition, 'condition');
    const facts = await decisionFacts(ctx, config.query, inputs);
    const value = evaluateCondition(expr, facts);
    const taken = value === true ? 'true' : 'false';
    ctx.log.info('condition evaluated', { condition: config.condition, value, taken });
    return {
      ...(await passThrough(ctx, inputs)),
      notes: [`condition ${config.condition} is ${String(value)}: output "${taken}" taken`],
      decision: { taken, condition: config.condition, value, inputs: referencedValues(expr, facts) },
    };
  },
});
