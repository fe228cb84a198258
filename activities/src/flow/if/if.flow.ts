// flow.if: routes the run by a condition. The steps behind the output it does not take ("true" or
// "false") are skipped, with the condition and its value on them and in the audit trail.
import { z } from 'zod';
import { defineNodeType } from '../../node-type.js';
import { evaluateCondition, referencedValues } from '../condition.js';
import {
  checkConditions,
  conditionField,
  parseAt,
  passThrough,
  QuerySchema,
  queryValue,
  readsOf,
} from '../decide.js';

const ConfigSchema = z
  .object({
    condition: conditionField,
    query: QuerySchema.optional().describe(
      'A one-row query over the inputs; conditions read its value as "query"',
    ),
  })
  .strict();

export const ifFlow = defineNodeType({
  type: 'flow.if',
  kind: 'transform',
  title: 'If',
  description:
    'Takes its "true" or its "false" output by a condition over upstream steps (status, row counts, ' +
    "a gate's verdict), run params and a one-row query; the steps on the other output are skipped.",
  icon: 'git-branch',
  category: 'Flow',
  config: ConfigSchema,
  inputs: { min: 1, max: null },
  routes: () => ['true', 'false'],
  reads: (config) => readsOf([config.condition]),
  checkUpstream: (config, scope) =>
    checkConditions([{ path: ['condition'], text: config.condition }], scope, config.query),
  sqlFields: (config) => {
    const sql = (config as { query?: { sql?: unknown } } | null)?.query?.sql;
    return typeof sql === 'string' && /\S/.test(sql) ? [{ path: ['query', 'sql'], sql }] : [];
  },
  describe: (_ctx, _config, inputs) => {
    const all = Object.values(inputs);
    return Promise.resolve(all.length === 1 ? all[0]! : []);
  },
  async run(ctx, config, inputs) {
    const expr = parseAt(config.condition, 'condition');
    const facts = {
      steps: ctx.upstream,
      params: ctx.params as Record<string, string | number | boolean | null>,
      ...(config.query ? { query: await queryValue(ctx, config.query, inputs) } : {}),
    };
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
