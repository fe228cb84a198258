// flow.switch: routes the run to the first case whose condition holds, or to "default". The steps
// behind every other output are skipped, with the cases' conditions and values in the audit trail.
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

/** Outputs a case may not be named: the fallback, and the failure output every node has. */
const RESERVED = ['default', 'failure'];

const ConfigSchema = z
  .object({
    cases: z
      .array(
        z
          .object({
            name: z
              .string()
              .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be a short lowercase name, e.g. "large"')
              .refine(
                (name) => !RESERVED.includes(name),
                'is reserved ("default" and "failure" are outputs of their own)',
              )
              .describe('The output this case routes to'),
            when: conditionField,
          })
          .strict(),
      )
      .min(1)
      .max(20)
      .describe('Tried in order: the first whose condition holds is taken, otherwise "default"'),
    query: queryField,
  })
  .strict()
  .superRefine((config, issues) => {
    const seen = new Set<string>();
    config.cases.forEach((c, i) => {
      if (seen.has(c.name))
        issues.addIssue({
          code: 'custom',
          path: ['cases', i, 'name'],
          message: `"${c.name}" names two cases`,
        });
      seen.add(c.name);
    });
  });

export const switchFlow = defineNodeType({
  ...decidingNode,
  type: 'flow.switch',
  title: 'Switch',
  description:
    'Takes the output of the first case whose condition holds (or "default"); the steps on every other ' +
    'output are skipped.',
  icon: 'split',
  config: ConfigSchema,
  routes: { list: { field: 'cases', key: 'name' }, outputs: ['default'] },
  reads: (config) => readsOf(config.cases.map((c) => c.when)),
  checkUpstream: (config, scope) =>
    checkConditions(
      config.cases.map((c, i) => ({ path: ['cases', i, 'when'], text: c.when })),
      scope,
      config.query,
    ),
  async run(ctx, config, inputs) {
    const facts = await decisionFacts(ctx, config.query, inputs);
    const tried: string[] = [];
    for (const [i, c] of config.cases.entries()) {
      const expr = parseAt(c.when, `cases.${i}.when`);
      const value = evaluateCondition(expr, facts);
      if (value === true) {
        return {
          ...(await passThrough(ctx, inputs)),
          notes: [...tried, `case "${c.name}": ${c.when} is true: output "${c.name}" taken`],
          decision: { taken: c.name, condition: c.when, value, inputs: referencedValues(expr, facts) },
        };
      }
      tried.push(`case "${c.name}": ${c.when} is ${String(value)}`);
    }
    const inputsRead = Object.assign(
      {},
      ...config.cases.map((c, i) => referencedValues(parseAt(c.when, `cases.${i}.when`), facts)),
    ) as Record<string, string | number | boolean | null>;
    return {
      ...(await passThrough(ctx, inputs)),
      notes: [...tried, 'no case holds: output "default" taken'],
      decision: { taken: 'default', condition: null, value: null, inputs: inputsRead },
    };
  },
});
