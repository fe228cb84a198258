// source.table: reads a table that already exists in the warehouse (optionally some columns and the
// rows matching a `where`) into the step's own table, so other pipelines' outputs can be built on.
import { parse } from 'libpg-query';
import { z } from 'zod';
import { configError, StepError } from '../../errors.js';
import { configString, defineNodeType, type StepContext, type TableRef } from '../../node-type.js';
import { parseTableName, quoteIdent, quoteTable, tableColumns, tableStats } from '../../sql.js';
import { checkRenderedSql } from '../../transform/sql/check-sql.js';
import { readThroughBranch } from '../../warehouse/branch-schemas.js';
import { formatSqlProblem, renderSql, type RenderedSql } from '../../transform/sql/render-sql.js';

// The platform's own schema and the runs' staging schemas are not data to build on: reading them
// would couple a pipeline to internals (and to another run's half-written tables).
const RESERVED_SCHEMA = /^(tributary|tr_run_.*)$/i;

// A type name cannot be a bound value, so it is held to the shape of a type name: words, an
// optional (precision, scale) and array brackets. Nothing else can reach the DDL.
const TYPE_NAME = /^[A-Za-z_][A-Za-z0-9_]*( [A-Za-z_][A-Za-z0-9_]*)*( ?\(\s*\d+\s*(,\s*\d+\s*)?\))?(\[\])*$/;

const ConfigSchema = z
  .object({
    table: z
      .string()
      .min(1)
      .optional()
      .describe(
        "The warehouse table (or view) to read, as schema.table (a table name alone means the project's own schema)",
      )
      .meta({ 'x-widget': 'table' }),
    product: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,62}$/, 'must be the id of a data product')
      .optional()
      .describe('A data product to read (its owners must have shared it with this project), instead of table')
      .meta({ 'x-widget': 'product' }),
    columns: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('The columns to keep, in this order; all columns when absent'),
    where: z
      .string()
      .max(100_000)
      .regex(/\S/, 'must contain an expression')
      .optional()
      .describe(
        'A SQL boolean expression the rows must satisfy, e.g. day >= {{ params.since }}::date ' +
          '({{ params.<name> }} is passed as a bound value)',
      ),
    ifMissing: z
      .enum(['fail', 'empty'])
      .default('fail')
      .describe('When the table does not exist: fail the step, or output an empty table of columnsIfMissing'),
    columnsIfMissing: z
      .array(
        z.object({
          name: z.string().min(1),
          type: z.string().regex(TYPE_NAME, 'must be a Postgres type name, e.g. numeric(14, 2)'),
        }),
      )
      .min(1)
      .optional()
      .describe('With ifMissing "empty": the columns (name and Postgres type) of the empty output'),
  })
  .superRefine((config, issues) => {
    if ((config.table === undefined) === (config.product === undefined)) {
      issues.addIssue({
        code: 'custom',
        path: ['table'],
        message: 'give either table or product, not both or neither',
      });
    }
    try {
      const ref = config.table === undefined ? undefined : parseTableName(config.table);
      if (ref && RESERVED_SCHEMA.test(ref.schema)) {
        issues.addIssue({ code: 'custom', path: ['table'], message: reservedMessage(ref.schema) });
      }
    } catch (error) {
      issues.addIssue({ code: 'custom', path: ['table'], message: (error as Error).message });
    }
    if (config.ifMissing === 'empty' && config.columnsIfMissing === undefined) {
      issues.addIssue({
        code: 'custom',
        path: ['columnsIfMissing'],
        message: 'ifMissing "empty" needs columnsIfMissing: the columns of the empty table',
      });
    }
    for (const [field, names] of [
      ['columns', config.columns ?? []],
      ['columnsIfMissing', (config.columnsIfMissing ?? []).map((c) => c.name)],
    ] as const) {
      const duplicate = names.find((name, i) => names.indexOf(name) !== i);
      if (duplicate !== undefined) {
        issues.addIssue({ code: 'custom', path: [field], message: `column "${duplicate}" appears twice` });
      }
    }
  });

type Config = z.infer<typeof ConfigSchema>;

function reservedMessage(schema: string): string {
  return `schema "${schema}" belongs to the platform (its own tables or a run's staging tables) and cannot be read`;
}

export const tableSource = defineNodeType({
  type: 'source.table',
  kind: 'source',
  title: 'Warehouse table',
  description:
    'Reads a table of the warehouse, optionally some of its columns and the rows matching a condition.',
  icon: 'database',
  category: 'Warehouse',
  lineage: (config, ctx) => {
    const product = configString(config, 'product');
    const table = configString(config, 'table');
    const name = product ? ctx.productTable(product) : table ? ctx.tableName(table) : undefined;
    return { reads: name ? [{ kind: 'table', name }] : [], columns: { from: 'read' } };
  },
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  async describe(ctx, config) {
    const source = await sourceTable(ctx, config);
    if (RESERVED_SCHEMA.test(source.schema)) throw configError('table', reservedMessage(source.schema));
    const present = await tableColumns(ctx.warehouse, source);
    if (present.length === 0) {
      if (config.ifMissing === 'empty') return config.columnsIfMissing!.map((c) => ({ ...c }));
      throw new StepError(
        `config.table: table ${quoteTable(source)} does not exist in the warehouse`,
        'not_found',
      );
    }
    if (!config.columns) return present;
    await selectList(ctx.warehouse, source, config); // names the columns there are when one is not
    return config.columns.map((name) => present.find((c) => c.name === name)!);
  },
  async run(ctx, config) {
    const named = await sourceTable(ctx, config);
    // In a branch: the branch's copy when it wrote one, else main's table, which it only reads.
    const branch = ctx.warehouse.branch;
    const source = branch ? await readThroughBranch(ctx.warehouse, named, branch.name) : named;
    if (RESERVED_SCHEMA.test(source.schema)) throw configError('table', reservedMessage(source.schema));
    const where = config.where === undefined ? undefined : await renderWhere(config.where, ctx.params);

    const exists = await ctx.warehouse.query<{ found: boolean }>(
      'select to_regclass($1) is not null as found',
      [quoteTable(source)],
    );
    if (!exists.rows[0]!.found) {
      if (config.ifMissing === 'fail') {
        throw new StepError(
          `config.table: table ${quoteTable(source)} does not exist in the warehouse ` +
            '(set ifMissing to "empty" to output an empty table instead)',
          'not_found',
        );
      }
      const columns = config.columnsIfMissing!.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
      await ctx.warehouse.query(`create table ${quoteTable(ctx.outputTable)} (${columns})`);
      ctx.log.info('table missing; created an empty output', { table: quoteTable(source) });
      return {
        table: ctx.outputTable,
        stats: { rowsIn: 0, rowsOut: 0, bytes: (await tableStats(ctx.warehouse, ctx.outputTable)).bytes },
        notes: [`${quoteTable(source)} does not exist; the output is an empty table`],
      };
    }

    const select = await selectList(ctx.warehouse, source, config);
    const filter = where ? ` where (${where.text}\n)` : '';
    await ctx.warehouse.query(
      `create table ${quoteTable(ctx.outputTable)} as select ${select} from ${quoteTable(source)}${filter}`,
      where?.values ?? [],
    );
    const stats = await tableStats(ctx.warehouse, ctx.outputTable);
    return { table: ctx.outputTable, stats: { rowsIn: 0, rowsOut: stats.rows, bytes: stats.bytes } };
  },
});

/**
 * The table to read: the configured one, or the product's. One of another project must have been
 * shared with this project, which the message says in the owner's terms.
 */
async function sourceTable(
  ctx: Pick<StepContext, 'project' | 'warehouse' | 'resolveProduct'>,
  config: Config,
): Promise<TableRef> {
  let source: TableRef;
  let what: string;
  if (config.product !== undefined) {
    const product = await ctx.resolveProduct(config.product);
    if (!product) throw configError('product', `data product "${config.product}" does not exist`);
    source = { schema: product.schema, table: product.table };
    what = `data product ${config.product} (${product.schema}.${product.table}) belongs to project ${product.project}`;
  } else {
    source = parseTableName(config.table!, ctx.warehouse.defaultSchema);
    what = '';
  }
  const owner = await ctx.warehouse.owners.ownerOf(source.schema);
  if (owner.kind === 'project' && owner.project !== ctx.project && !(await ctx.warehouse.canRead(source))) {
    const who = what || `table ${source.schema}.${source.table} belongs to project ${owner.project}`;
    throw new StepError(
      `config.${config.product !== undefined ? 'product' : 'table'}: ${who} and is not shared with project ${ctx.project}; ask its owners to share it`,
      'auth',
    );
  }
  return source;
}

/** The quoted columns to select, each checked to exist so a typo names the columns there are. */
async function selectList(
  warehouse: Parameters<typeof tableColumns>[0],
  source: ReturnType<typeof parseTableName>,
  config: Config,
): Promise<string> {
  if (!config.columns) return '*';
  const present = (await tableColumns(warehouse, source)).map((c) => c.name);
  const unknown = config.columns.filter((c) => !present.includes(c));
  if (unknown.length > 0) {
    throw configError(
      'columns',
      `${unknown.map((c) => `"${c}"`).join(', ')} not in ${quoteTable(source)} (its columns: ${present.join(', ')})`,
    );
  }
  return config.columns.map(quoteIdent).join(', ');
}

/**
 * Rewrites the placeholders of `where` and checks, with the Postgres parser, that it is one boolean
 * expression: parsed as `select 1 where (<where>)`, nothing but the WHERE clause may appear, so it
 * cannot close the parenthesis and add a UNION, an ORDER BY or a FROM of its own.
 */
async function renderWhere(where: string, params: Record<string, unknown>): Promise<RenderedSql> {
  const resolver = {
    input: () => undefined,
    param: (name: string) => (Object.hasOwn(params, name) ? { value: params[name] } : undefined),
  };
  const wrapped = renderSql(`select 1 where (${where}\n)`, resolver);
  const problems = await checkRenderedSql(wrapped);
  if (problems.length > 0) {
    throw configError(
      'where',
      `${problems.map(formatSqlProblem).join('; ')} (checked as select 1 where (…))`,
    );
  }
  const tree = (await parse(wrapped.text)) as { stmts: { stmt: { SelectStmt?: Record<string, unknown> } }[] };
  const select = tree.stmts[0]?.stmt.SelectStmt ?? {};
  const extra = Object.keys(select).filter(
    (key) => !['targetList', 'whereClause', 'limitOption', 'op'].includes(key),
  );
  if (extra.length > 0 || (select.op !== undefined && select.op !== 'SETOP_NONE')) {
    throw configError('where', 'must be one boolean expression (a condition on the rows), not a query');
  }
  // Rendered again alone: the same placeholders in the same order, so the same `$n` and values.
  return renderSql(where, resolver);
}
