// transform.assert: a data quality gate. Each assertion selects the rows that violate it; any rows fail
// the step with a report (so nothing downstream runs), otherwise the input passes through unchanged.
import { inTransaction } from '../../transaction.js';
import { inputTable } from '../../placeholders.js';
import { z } from 'zod';
import { configError, describePgError, isPgError, StepError } from '../../errors.js';
import { defineNodeType } from '../../node-type.js';
import { quoteTable, tableStats } from '../../sql.js';
import { checkRenderedSql } from '../sql/check-sql.js';
import { codePointToIndex, formatSqlProblem, renderSql, toSourceIndex } from '../sql/render-sql.js';
import { failureReport, passNotes, type AssertionOutcome } from './assert-report.js';

const AssertionSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a short snake_case name, e.g. id_not_null')
    .describe('Names the assertion in the report'),
  description: z.string().max(500).optional().describe('What the assertion guards, shown in the report'),
  sql: z
    .string()
    .max(100_000)
    .regex(/\S/, 'SQL is required')
    .describe(
      'One SELECT returning the rows that violate the assertion; no rows means it holds. ' +
        '{{ inputs.<node> }} and {{ params.<name> }} work as in transform.sql.',
    )
    .meta({ 'x-widget': 'sql' }),
  severity: z
    .enum(['error', 'warn'])
    .default('error')
    .describe('error fails the step; warn only notes the violations on it'),
});

const ConfigSchema = z
  .object({
    assertions: z.array(AssertionSchema).min(1).max(100),
    examples: z
      .number()
      .int()
      .min(0)
      .max(20)
      .default(5)
      .describe('How many violating rows of each assertion the report quotes'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(24 * 3600)
      .default(900)
      .describe('Each assertion query is cancelled after this many seconds'),
  })
  .superRefine((config, issues) => {
    const seen = new Map<string, number>();
    config.assertions.forEach((a, i) => {
      if (seen.has(a.name)) {
        issues.addIssue({
          code: 'custom',
          path: ['assertions', i, 'name'],
          message: `"${a.name}" is already the name of assertion ${seen.get(a.name)! + 1}`,
        });
      } else seen.set(a.name, i);
    });
  });

export const assertTransform = defineNodeType({
  type: 'transform.assert',
  kind: 'transform',
  title: 'Data quality gate',
  description:
    'Checks its input with SQL assertions (each selects violating rows) and fails the run with a report ' +
    'when one does not hold; otherwise passes the input through.',
  icon: 'shield-check',
  category: 'Quality',
  lineage: () => ({ columns: { from: 'input' } }),
  config: ConfigSchema,
  inputs: { min: 1, max: 1 },
  // A condition downstream can branch on the gate's verdict (steps.<gate>.assert).
  conditionFacts: {
    assert: {
      type: 'string',
      values: ['passed', 'warned', 'failed'],
      description: 'passed, warned (a warn assertion found rows) or failed',
    },
  },
  sqlFields: (config) => {
    const assertions = (config as { assertions?: unknown } | null)?.assertions;
    if (!Array.isArray(assertions)) return [];
    return assertions.flatMap((assertion: unknown, i) => {
      const sql = (assertion as { sql?: unknown } | null)?.sql;
      return typeof sql === 'string' && /\S/.test(sql) ? [{ path: ['assertions', i, 'sql'], sql }] : [];
    });
  },
  // The input passes through unchanged.
  describe: (_ctx, _config, inputs) => Promise.resolve(Object.values(inputs)[0] ?? []),
  async run(ctx, config, inputs) {
    const input = Object.values(inputs)[0]!;
    const rendered = config.assertions.map((assertion) =>
      renderSql(assertion.sql, {
        input: (name, stream) =>
          Object.hasOwn(inputs, name) ? quoteTable(inputTable(inputs[name]!, stream)) : undefined,
        param: (name) => (Object.hasOwn(ctx.params, name) ? { value: ctx.params[name] } : undefined),
        inputNames: Object.keys(inputs),
      }),
    );
    for (const [i, r] of rendered.entries()) {
      const problems = await checkRenderedSql(r, {
        project: ctx.project,
        owners: ctx.warehouse.owners,
        readable: Object.values(inputs).map((table) => table.schema),
        mayRead: (table) => ctx.warehouse.canRead(table),
      });
      if (problems.length > 0) {
        throw configError(
          `assertions.${i}.sql`,
          `(${config.assertions[i]!.name}) ${problems.map(formatSqlProblem).join('; ')}`,
        );
      }
    }

    const outcomes: AssertionOutcome[] = [];
    const client = await ctx.warehouse.connect();
    let started = false;
    const cancel = () => {
      if (started) void ctx.warehouse.cancel(client);
    };
    ctx.signal.addEventListener('abort', cancel, { once: true });
    try {
      // One read-only snapshot: the assertions judge the same rows, and none of them can write.
      await inTransaction(
        client,
        async () => {
          await client.query(`set local statement_timeout = ${config.timeoutSeconds * 1000}`);
          started = true;
          for (const [i, assertion] of config.assertions.entries()) {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            const r = rendered[i]!;
            const prefix = 'select count(*) over () as n, to_jsonb(v)::text as row from (\n';
            const statement = `${prefix}${r.text}\n) as v limit ${Math.max(config.examples, 1)}`;
            let result;
            try {
              result = await client.query<{ n: string; row: string }>(statement, r.values);
            } catch (error) {
              if (!isPgError(error)) throw error;
              // Point Postgres's position at the assertion's own SQL, as transform.sql does.
              let index: number | undefined;
              if (error.position) {
                const at = codePointToIndex(statement, Number(error.position) - 1) - prefix.length;
                if (at >= 0 && at <= r.text.length) index = toSourceIndex(r, at);
              }
              const described = describePgError(
                {
                  message: error.message,
                  ...(error.detail ? { detail: error.detail } : {}),
                  ...(error.hint ? { hint: error.hint } : {}),
                  ...(index !== undefined ? { position: String(index + 1) } : {}),
                },
                r.source,
              );
              // The SQLSTATE stays on the error, so the executor classifies it as it would any query's.
              throw Object.assign(new Error(`assertions.${i} (${assertion.name}): ${described}`), {
                code: error.code,
              });
            }
            outcomes.push({
              name: assertion.name,
              ...(assertion.description ? { description: assertion.description } : {}),
              severity: assertion.severity,
              violations: Number(result.rows[0]?.n ?? 0),
              examples: result.rows.slice(0, config.examples).map((row) => row.row),
            });
            ctx.heartbeat({ assertion: assertion.name });
          }
        },
        { isolation: 'repeatable read', readOnly: true },
      );
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      throw error;
    } finally {
      ctx.signal.removeEventListener('abort', cancel);
      client.release();
    }

    const report = failureReport(outcomes);
    if (report) {
      ctx.log.warn('assertions failed', {
        failed: outcomes.filter((o) => o.violations > 0).map((o) => o.name),
      });
      throw Object.assign(new StepError(report, 'data'), { facts: { assert: 'failed' } });
    }
    // The input passes through as a table of its own: the executor drops a step's output table on
    // retry, so a view or the input's own table would not do.
    await ctx.warehouse.query(`create table ${quoteTable(ctx.outputTable)} as table ${quoteTable(input)}`);
    const stats = await tableStats(ctx.warehouse, ctx.outputTable);
    return {
      table: ctx.outputTable,
      stats: { rowsIn: stats.rows, rowsOut: stats.rows, bytes: stats.bytes },
      notes: passNotes(outcomes),
      facts: { assert: outcomes.some((o) => o.violations > 0) ? 'warned' : 'passed' },
    };
  },
});
