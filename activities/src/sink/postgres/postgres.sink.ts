// sink.postgres: publishes the input table into a Postgres table, in the warehouse or in an
// external database named by a secret. One transaction per publish: the target shows the old
// rows or the new ones, never a part. A ledger row written in that same transaction makes each
// publish happen once per run and node, however often the step is retried.
import { inTransaction, withTransaction } from '../../transaction.js';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { z } from 'zod';
import { configError, dataError, isPgError, StepError } from '../../errors.js';
import {
  configString,
  defineNodeType,
  type DatasetRef,
  type StepContext,
  type StepStats,
  type TableRef,
} from '../../node-type.js';
import {
  cancelThrough,
  connectBySecret,
  pipeRows,
  setPortableTextFormat,
} from '../../postgres-connection.js';
import {
  parseTableName,
  type Queryable,
  quoteIdent,
  quoteTable,
  tableBytes,
  tableColumns,
  tableStats,
  type ColumnInfo,
} from '../../sql.js';
import { branchSchemaName } from '../../warehouse/branch-schemas.js';
import { transactionLock } from '../../warehouse/project-warehouse.js';
import { isSafeConversion } from './type-compat.js';

export const SINK_MODES = ['append', 'replace', 'upsert'] as const;
export type SinkMode = (typeof SINK_MODES)[number];

/** Where the ledger lives in the target database. */
export const LEDGER_TABLE: TableRef = { schema: 'tributary_meta', table: 'sink_ledger' };

/** The ledger as a sink creates it in an external database (the warehouse's is provisioned). */
export const LEDGER_DDL = `create table if not exists ${quoteTable(LEDGER_TABLE)} (
  run_id text not null,
  node_id text not null,
  target text not null,
  mode text not null,
  attempt integer not null,
  rows_in bigint not null,
  rows_out bigint not null,
  bytes bigint not null,
  committed_at timestamptz not null default now(),
  primary key (run_id, node_id, target)
)`;

// Schemas the platform owns: a sink never publishes into them.
const RESERVED_SCHEMA = /^(tributary|tributary_.*|tr_run_.*|pg_.*|information_schema)$/;

const ConfigSchema = z
  .object({
    table: z
      .string()
      .min(1)
      .describe(
        "Target table as schema.table (a table name alone means the project's own schema); created when missing",
      ),
    connection: z
      .string()
      .min(1)
      .optional()
      .describe('Name of a secret holding a Postgres URL of an external database; the warehouse when empty')
      .meta({ 'x-widget': 'secret' }),
    mode: z
      .enum(SINK_MODES)
      .default('append')
      .describe('append adds the rows, replace swaps the table for them, upsert inserts or updates by key')
      // A document that omits mode keeps appending (stored pipelines must not change meaning), but a
      // node added in the builder starts as replace: re-running it then gives the same table, not twice it.
      .meta({
        'x-initial': 'replace',
        'x-option-notes': {
          append:
            'Every run adds its rows again: re-running the pipeline doubles the table. Choose replace unless you keep history.',
        },
      }),
    primaryKey: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        'Columns that identify a row; required for upsert, and the primary key of a table the sink creates',
      ),
  })
  .superRefine((config, issues) => {
    let target: TableRef | undefined;
    try {
      target = parseTableName(config.table);
    } catch (error) {
      issues.addIssue({ code: 'custom', path: ['table'], message: (error as Error).message });
    }
    if (target && (!target.schema || !target.table)) {
      issues.addIssue({ code: 'custom', path: ['table'], message: 'write the table as schema.table' });
    } else if (target && RESERVED_SCHEMA.test(target.schema)) {
      issues.addIssue({
        code: 'custom',
        path: ['table'],
        message: `schema "${target.schema}" belongs to the platform; publish into another schema`,
      });
    }
    if (config.mode === 'upsert' && !config.primaryKey) {
      issues.addIssue({
        code: 'custom',
        path: ['primaryKey'],
        message: 'required when mode is "upsert": list the columns that identify a row, e.g. ["id"]',
      });
    }
    if (config.primaryKey && new Set(config.primaryKey).size !== config.primaryKey.length) {
      issues.addIssue({ code: 'custom', path: ['primaryKey'], message: 'a column is listed twice' });
    }
  });

type Config = z.infer<typeof ConfigSchema>;
type Stats = Omit<StepStats, 'durationMs'>;

interface TargetColumn extends ColumnInfo {
  notNull: boolean;
  hasDefault: boolean;
}

/** A connection to the database that holds the target, and how rows get there from the input. */
interface Target {
  client: pg.PoolClient;
  /** Cancels the running statement (the step was cancelled). */
  cancel(): void;
  /** True when the target database is the warehouse itself, so SQL can read the input directly. */
  local: boolean;
  close(failed: boolean): Promise<void>;
}

export const postgresSink = defineNodeType({
  type: 'sink.postgres',
  kind: 'sink',
  title: 'Postgres table',
  description:
    'Publishes rows into a Postgres table (in the warehouse or an external database): append, replace or upsert, in one transaction.',
  icon: 'database',
  category: 'Databases',
  config: ConfigSchema,
  inputs: { min: 1, max: 1 },
  secrets: (config) => (config.connection ? [config.connection] : []),
  lineage: (config, ctx) => {
    const table = configString(config, 'table');
    const connection = configString(config, 'connection');
    const name = table && !connection ? ctx.tableName(table) : undefined;
    const writes: DatasetRef[] = !table
      ? []
      : connection
        ? [{ kind: 'external', name: `postgres:${connection}/${table}` }]
        : name
          ? [{ kind: 'table', name }]
          : [];
    return { writes, columns: { from: 'input' } };
  },
  target(config, nodeId) {
    const connection = configString(config, 'connection');
    if (connection) {
      return {
        field: 'connection',
        message:
          `Node "${nodeId}" publishes into the external database of secret "${connection}"; ` +
          'Tributary reads back only tables in its own warehouse',
      };
    }
    const table = typeof config.table === 'string' ? config.table.trim() && config.table : '';
    return table ? { table } : { field: 'table', message: `Node "${nodeId}": Table is required` };
  },
  outsideBranch: (config) =>
    config.connection
      ? `sink.postgres publishes into the external database of secret "${config.connection}", where a branch has no copy; in a branch it publishes into the warehouse only`
      : undefined,
  async run(ctx, config, inputs) {
    const [inputNode, input] = Object.entries(inputs)[0] ?? [];
    if (!input || !inputNode) throw configError('(inputs)', 'connect one upstream node to publish');
    const named = config.connection
      ? parseTableName(config.table)
      : parseTableName(config.table, ctx.warehouse.defaultSchema);
    // In a branch the target is the branch's copy of the table, never main's; an append or upsert
    // starts from main's rows (copy on first write), a replace needs none of them.
    const branch = ctx.warehouse.branch;
    let table = named;
    let seed: TableRef | undefined;
    if (branch && !config.connection) {
      table = { schema: await branch.ensureSchema(named.schema), table: named.table };
      if (config.mode !== 'replace') seed = named;
    } else if (!config.connection) {
      // In the warehouse, the schema must be the project's; the provisioning connection creates it.
      await ctx.warehouse.ensureSchema(table.schema);
    }
    const inputColumns = await tableColumns(ctx.warehouse, input);
    // An input the step that wrote it counted (COPY's answer) is not scanned again to count it.
    const knownRows = ctx.knownRows(inputNode);
    const inputStats =
      knownRows !== undefined
        ? { rows: knownRows, bytes: await tableBytes(ctx.warehouse, input) }
        : await tableStats(ctx.warehouse, input);
    const pk = config.primaryKey ?? [];
    const inputNames = new Set(inputColumns.map((c) => c.name));
    for (const key of pk) {
      if (!inputNames.has(key)) {
        throw configError(
          'primaryKey',
          `column "${key}" is not in the input (its columns: ${inputColumns.map((c) => c.name).join(', ')})`,
        );
      }
    }
    if (config.mode === 'upsert') await checkKeys(ctx.warehouse, input, pk);

    const target = await openTarget(ctx, config);
    let failed = true;
    try {
      // In the warehouse, an input nothing else reads can become the target itself (replace only).
      const consumable = target.local && config.mode === 'replace' && ctx.mayConsume(inputNode);
      const result = await publish(
        ctx,
        config,
        target,
        table,
        input,
        inputColumns,
        inputStats,
        consumable,
        seed,
      );
      failed = false;
      return result;
    } finally {
      await target.close(failed);
    }
  },
});

async function openTarget(ctx: StepContext, config: Config): Promise<Target> {
  if (!config.connection) {
    const client = await ctx.warehouse.connect();
    return {
      client,
      cancel: () => void ctx.warehouse.cancel(client),
      local: true,
      close: async (failed) => client.release(failed),
    };
  }
  const external = await connectBySecret(ctx, config.connection, 'connection');
  return {
    client: external.client,
    cancel: cancelThrough(external.client, external.pool),
    local: false,
    close: () => external.close(),
  };
}

async function publish(
  ctx: StepContext,
  config: Config,
  target: Target,
  table: TableRef,
  input: TableRef,
  inputColumns: ColumnInfo[],
  inputStats: { rows: number; bytes: number },
  consumable: boolean,
  /** In a branch: main's table, copied into the branch's target before its first append or upsert. */
  seed?: TableRef,
): Promise<{ stats: Stats; notes: string[] }> {
  const db = target.client;
  const targetName = `${table.schema}.${table.table}`;
  // The warehouse's ledger is the platform's (one row-level-secured table); an external database
  // gets its own.
  if (!target.local) await ensureLedger(db);
  ctx.signal.addEventListener('abort', target.cancel, { once: true });
  const stopCancelling = () => ctx.signal.removeEventListener('abort', target.cancel);
  let published: number | undefined;
  try {
    const result = await inTransaction(db, async () => {
      // One publish into a table at a time: concurrent runs (and a retry racing a timed-out attempt
      // that is still running) queue here, and the later one then sees the earlier one's ledger row.
      // In the warehouse the platform takes it (project roles may not call advisory-lock functions).
      await transactionLock(db, 'tributary.sink', targetName);
      const done = await db.query<{ rows_in: string; rows_out: string; bytes: string; attempt: number }>(
        `select rows_in, rows_out, bytes, attempt from ${quoteTable(LEDGER_TABLE)}
        where run_id = $1 and node_id = $2 and target = $3`,
        [ctx.runId, ctx.nodeId, targetName],
      );
      if (done.rows[0]) {
        // Nothing is written: the transaction ends having only read the ledger.
        const row = done.rows[0];
        return {
          stats: { rowsIn: Number(row.rows_in), rowsOut: Number(row.rows_out), bytes: Number(row.bytes) },
          notes: [
            `${targetName} was already published by attempt ${row.attempt} of this run; nothing written again`,
          ],
        };
      }

      if (!target.local) {
        await db.query('select pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
          'tributary.schema',
          table.schema,
        ]);
        await db.query(`create schema if not exists ${quoteIdent(table.schema)}`);
      }
      const notes: string[] = [];
      // A second look before anything is written: in a branch, nothing but a branch schema is a target.
      const branch = ctx.warehouse.branch;
      if (branch && target.local && !table.schema.endsWith(branchSchemaName('', branch.name))) {
        throw new StepError(
          `in branch "${branch.name}", ${targetName} is not a branch table; nothing was written`,
          'config',
        );
      }
      if (seed) notes.push(...(await copyOnFirstWrite(db, seed, table)));
      const source = await rowSource(ctx, target, input, inputColumns);
      let rowsOut: number;
      if (config.mode === 'replace' && consumable) {
        await moveIntoPlace(db, table, input, config.primaryKey ?? []);
        rowsOut = inputStats.rows;
        notes.push(`replaced ${targetName} with ${rowsOut} rows (moved into place, not copied)`);
      } else if (config.mode === 'replace') {
        rowsOut = await replaceTable(db, table, inputColumns, config.primaryKey ?? [], source);
        notes.push(`replaced ${targetName} with ${rowsOut} rows`);
      } else {
        const existing = await targetColumns(db, table);
        if (existing.length === 0) {
          await createTable(db, table, inputColumns, config.primaryKey ?? [], primaryKeyName(table.table));
          notes.push(`created ${targetName}`);
        } else {
          notes.push(...(await reconcileSchema(db, table, targetName, inputColumns, existing)));
          if (config.mode === 'upsert') await checkUniqueKey(db, table, targetName, config.primaryKey!);
        }
        const columns = await targetColumns(db, table);
        rowsOut = await writeRows(db, config, table, inputColumns, columns, await source.relation());
      }
      const values = [
        ctx.runId,
        ctx.nodeId,
        targetName,
        config.mode,
        ctx.attempt,
        inputStats.rows,
        rowsOut,
        inputStats.bytes,
      ];
      // The warehouse's ledger also says which pipeline published (data products show it).
      await db.query(
        target.local
          ? `insert into ${quoteTable(LEDGER_TABLE)} (run_id, node_id, target, mode, attempt, rows_in, rows_out, bytes, pipeline_id)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
          : `insert into ${quoteTable(LEDGER_TABLE)} (run_id, node_id, target, mode, attempt, rows_in, rows_out, bytes)
           values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        target.local ? [...values, ctx.pipelineId] : values,
      );
      published = rowsOut;
      return { stats: { rowsIn: inputStats.rows, rowsOut, bytes: inputStats.bytes }, notes };
    });
    if (published !== undefined)
      ctx.log.info('published', { target: targetName, mode: config.mode, rows: published });
    return result;
  } catch (error) {
    throw explain(error, targetName);
  } finally {
    stopCancelling();
  }
}

/**
 * A branch's first append or upsert into a table main has: the branch's copy starts as main's table
 * (columns, defaults, constraints and rows), so the branch sees what main would after the same run.
 */
async function copyOnFirstWrite(db: pg.PoolClient, main: TableRef, own: TableRef): Promise<string[]> {
  const found = await db.query<{ main: boolean; own: boolean }>(
    'select to_regclass($1) is not null as main, to_regclass($2) is not null as own',
    [quoteTable(main), quoteTable(own)],
  );
  if (found.rows[0]!.own || !found.rows[0]!.main) return [];
  await db.query(`create table ${quoteTable(own)} (like ${quoteTable(main)} including all)`);
  const copied = await db.query(`insert into ${quoteTable(own)} select * from ${quoteTable(main)}`);
  return [
    `copied ${copied.rowCount ?? 0} rows of ${main.schema}.${main.table} into the branch before writing`,
  ];
}

/** The ledger table, created once per target database (serialised, so two first runs don't race). */
async function ensureLedger(db: pg.PoolClient): Promise<void> {
  const exists = await db.query('select to_regclass($1) as oid', [quoteTable(LEDGER_TABLE)]);
  if (exists.rows[0].oid) return;
  await inTransaction(db, async () => {
    await db.query("select pg_advisory_xact_lock(hashtext('tributary.sink'), 0)");
    await db.query(`create schema if not exists ${quoteIdent(LEDGER_TABLE.schema)}`);
    await db.query(LEDGER_DDL);
    await db.query(
      `comment on table ${quoteTable(LEDGER_TABLE)} is 'Tributary: one row per publish of a sink.postgres step, written in the publishing transaction'`,
    );
  });
}

/**
 * The input rows as the target database sees them: the warehouse table itself, or (for an
 * external database) a temporary table filled by COPY from the warehouse, dropped at commit.
 */
interface RowSource {
  /** The target database is the warehouse: the input table can be read as it is. */
  local: boolean;
  /** A relation the target database can select from. */
  relation(): Promise<string>;
  /** Copies the input rows into `copyInto` (a `copy … from stdin` on the target). */
  copyInto(copySql: string): Promise<number>;
}

async function rowSource(
  ctx: StepContext,
  target: Target,
  input: TableRef,
  inputColumns: ColumnInfo[],
): Promise<RowSource> {
  const columnList = inputColumns.map((c) => quoteIdent(c.name)).join(', ');
  const copyInto = async (copySql: string): Promise<number> => {
    // A COPY cut short can leave the connection mid-protocol: never hand it back to the pool.
    return withTransaction(
      ctx.warehouse,
      async (reader) => {
        await setPortableTextFormat(reader);
        await setPortableTextFormat(target.client);
        return pipeRows(
          reader,
          `select ${columnList} from ${quoteTable(input)}`,
          target.client,
          copySql,
          ctx.signal,
        );
      },
      { readOnly: true, discardOnError: true },
    );
  };
  if (target.local) {
    return { local: true, relation: async () => quoteTable(input), copyInto };
  }
  let staged: string | undefined;
  return {
    local: false,
    copyInto,
    relation: async () => {
      if (staged) return staged;
      staged = quoteIdent('tributary_input');
      await target.client.query(
        `create temporary table ${staged} (${inputColumns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')}) on commit drop`,
      );
      await copyInto(`copy ${staged} (${columnList}) from stdin`);
      return staged;
    },
  };
}

/**
 * Replace without a second write of the data: the input table (which only this step reads) is
 * renamed and moved into the target's schema, and swapped for the old table, all in the publishing
 * transaction. Readers see the old rows or the new ones; a rollback leaves the input where it was.
 */
async function moveIntoPlace(
  db: pg.PoolClient,
  table: TableRef,
  input: TableRef,
  pk: string[],
): Promise<void> {
  const fresh: TableRef = { schema: table.schema, table: siblingName(table.table, '__tributary_new') };
  await db.query(`drop table if exists ${quoteTable(fresh)}`);
  await db.query(`alter table ${quoteTable(input)} rename to ${quoteIdent(fresh.table)}`);
  await db.query(
    `alter table ${quoteTable({ schema: input.schema, table: fresh.table })} set schema ${quoteIdent(table.schema)}`,
  );
  await carryGrants(db, table, fresh);
  // Readers of the old table wait on this lock for the instant until commit, then see the new one.
  await db.query(`drop table if exists ${quoteTable(table)}`);
  await db.query(`alter table ${quoteTable(fresh)} rename to ${quoteIdent(table.table)}`);
  if (pk.length > 0) {
    await db.query(
      `alter table ${quoteTable(table)} add constraint ${quoteIdent(primaryKeyName(table.table))} primary key (${pk.map(quoteIdent).join(', ')})`,
    );
  }
}

/** Builds the new table beside the old one, then swaps them in the publishing transaction. */
async function replaceTable(
  db: pg.PoolClient,
  table: TableRef,
  inputColumns: ColumnInfo[],
  pk: string[],
  source: RowSource,
): Promise<number> {
  const fresh: TableRef = { schema: table.schema, table: siblingName(table.table, '__tributary_new') };
  const freshKey = primaryKeyName(fresh.table);
  await db.query(`drop table if exists ${quoteTable(fresh)}`);
  await createTable(db, fresh, inputColumns, pk, freshKey);
  const columnList = inputColumns.map((c) => quoteIdent(c.name)).join(', ');
  let rows: number;
  if (source.local) {
    const result = await db.query(
      `insert into ${quoteTable(fresh)} (${columnList}) select ${columnList} from ${await source.relation()}`,
    );
    rows = result.rowCount ?? 0;
  } else {
    // Straight into the new table: no need to stage the rows in a temporary table first.
    rows = await source.copyInto(`copy ${quoteTable(fresh)} (${columnList}) from stdin`);
  }
  await carryGrants(db, table, fresh);
  // Readers of the old table wait on this lock for the instant until commit, then see the new one.
  await db.query(`drop table if exists ${quoteTable(table)}`);
  await db.query(`alter table ${quoteTable(fresh)} rename to ${quoteIdent(table.table)}`);
  if (pk.length > 0) {
    await db.query(
      `alter table ${quoteTable(table)} rename constraint ${quoteIdent(freshKey)} to ${quoteIdent(primaryKeyName(table.table))}`,
    );
  }
  return rows;
}

/**
 * The old table's SELECT grants (a data product shared with other projects) go to the new one, so a
 * replace never silently unshares it.
 */
async function carryGrants(db: pg.PoolClient, from: TableRef, to: TableRef): Promise<void> {
  const { rows } = await db.query<{ grantee: string }>(
    `select distinct g.grantee::regrole::text as grantee
       from pg_class c, aclexplode(c.relacl) g
      where c.oid = to_regclass($1) and g.privilege_type = 'SELECT' and g.grantee <> c.relowner and g.grantee <> 0`,
    [quoteTable(from)],
  );
  for (const { grantee } of rows) await db.query(`grant select on ${quoteTable(to)} to ${grantee}`);
}

async function createTable(
  db: pg.PoolClient,
  table: TableRef,
  columns: ColumnInfo[],
  pk: string[],
  keyName: string,
): Promise<void> {
  const definitions = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`);
  if (pk.length > 0) {
    definitions.push(`constraint ${quoteIdent(keyName)} primary key (${pk.map(quoteIdent).join(', ')})`);
  }
  await db.query(`create table ${quoteTable(table)} (${definitions.join(', ')})`);
}

/** The columns of an existing target, with what matters for inserting into it. */
async function targetColumns(db: pg.PoolClient, table: TableRef): Promise<TargetColumn[]> {
  const result = await db.query<TargetColumn>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
            a.attnotnull as "notNull", (a.atthasdef or a.attidentity <> '') as "hasDefault"
       from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [quoteTable(table)],
  );
  return result.rows;
}

/**
 * Schema drift: new input columns are added to the target; target columns the input lacks are
 * left alone (they get NULL or their default); a type change that could alter a value is refused
 * before anything is written.
 */
async function reconcileSchema(
  db: pg.PoolClient,
  table: TableRef,
  targetName: string,
  inputColumns: ColumnInfo[],
  existing: TargetColumn[],
): Promise<string[]> {
  const byName = new Map(existing.map((c) => [c.name, c]));
  const inputNames = new Set(inputColumns.map((c) => c.name));
  const refusals: string[] = [];
  for (const column of inputColumns) {
    const current = byName.get(column.name);
    if (current && !isSafeConversion(column.type, current.type)) {
      refusals.push(
        `column "${column.name}": the target has type ${current.type}, the input has ${column.type}, which may not fit without changing values`,
      );
    }
  }
  for (const column of existing) {
    if (!inputNames.has(column.name) && column.notNull && !column.hasDefault) {
      refusals.push(
        `column "${column.name}": the target requires it (NOT NULL, no default), but the input has no such column`,
      );
    }
  }
  if (refusals.length > 0) {
    throw dataError(
      `the input does not fit ${targetName}; nothing was written. ${refusals.join('; ')}. ` +
        'Cast the column upstream, alter the target yourself, or use mode "replace" to publish the new shape',
    );
  }
  const notes: string[] = [];
  for (const column of inputColumns) {
    if (byName.has(column.name)) continue;
    await db.query(`alter table ${quoteTable(table)} add column ${quoteIdent(column.name)} ${column.type}`);
    notes.push(`added column "${column.name}" (${column.type}) to ${targetName}`);
  }
  const missing = existing.filter((c) => !inputNames.has(c.name)).map((c) => `"${c.name}"`);
  if (missing.length > 0) {
    notes.push(
      `the input has no column ${missing.join(', ')}; new rows get NULL or the column default there`,
    );
  }
  return notes;
}

/** ON CONFLICT needs a unique index on exactly the key columns (not partial, no expressions). */
async function checkUniqueKey(
  db: pg.PoolClient,
  table: TableRef,
  targetName: string,
  pk: string[],
): Promise<void> {
  const result = await db.query(
    `select 1
       from pg_index i
      where i.indrelid = to_regclass($1) and i.indisunique and i.indisvalid and i.indpred is null
        and i.indexprs is null
        and (select array_agg(a.attname::text order by a.attname)
               from pg_attribute a
              where a.attrelid = i.indrelid and a.attnum = any(i.indkey::int2[]))
            = (select array_agg(k order by k) from unnest($2::text[]) as k)`,
    [quoteTable(table), pk],
  );
  if (result.rowCount === 0) {
    throw configError(
      'primaryKey',
      `${targetName} has no primary key or unique constraint on (${pk.join(', ')}), so rows cannot be matched ` +
        `for upsert; add one (alter table ${quoteTable(table)} add primary key (${pk.map(quoteIdent).join(', ')})) ` +
        'or use mode "append" or "replace". Nothing was written',
    );
  }
}

/** Refuses input an upsert cannot apply: a key that is NULL or appears on more than one row. */
async function checkKeys(db: Queryable, input: TableRef, pk: string[]): Promise<void> {
  const keys = pk.map(quoteIdent).join(', ');
  const nulls = await db.query<{ n: string }>(
    `select count(*) as n from ${quoteTable(input)} where ${pk.map((k) => `${quoteIdent(k)} is null`).join(' or ')}`,
  );
  if (Number(nulls.rows[0]!.n) > 0) {
    throw dataError(
      `${nulls.rows[0]!.n} input rows have a NULL in the primaryKey (${pk.join(', ')}); upsert needs a key on every row`,
    );
  }
  const duplicates = await db.query<{ key: string; n: string; total: string }>(
    `select row(${keys})::text as key, count(*) as n, count(*) over () as total
       from ${quoteTable(input)} group by ${keys} having count(*) > 1 limit 3`,
  );
  if (duplicates.rows.length > 0) {
    const examples = duplicates.rows.map((r) => `${r.key} (${r.n} rows)`).join(', ');
    throw dataError(
      `the input has ${duplicates.rows[0]!.total} primaryKey (${pk.join(', ')}) values on more than one row, e.g. ${examples}; ` +
        'upsert needs one row per key: deduplicate upstream',
    );
  }
}

async function writeRows(
  db: pg.PoolClient,
  config: Config,
  table: TableRef,
  inputColumns: ColumnInfo[],
  columns: TargetColumn[],
  relation: string,
): Promise<number> {
  const targetType = new Map(columns.map((c) => [c.name, c.type]));
  const names = inputColumns.map((c) => quoteIdent(c.name)).join(', ');
  // Only the widenings reconcileSchema accepted can differ; the cast makes them explicit.
  const values = inputColumns
    .map((c) => {
      const type = targetType.get(c.name)!;
      return type === c.type ? quoteIdent(c.name) : `${quoteIdent(c.name)}::${type}`;
    })
    .join(', ');
  let sql = `insert into ${quoteTable(table)} (${names}) select ${values} from ${relation}`;
  if (config.mode === 'upsert') {
    const pk = config.primaryKey!;
    const updates = inputColumns.filter((c) => !pk.includes(c.name));
    // With nothing but the key to update, still touch the row so it counts as affected.
    const set = (updates.length > 0 ? updates.map((c) => c.name) : [pk[0]!])
      .map((name) => `${quoteIdent(name)} = excluded.${quoteIdent(name)}`)
      .join(', ');
    sql += ` on conflict (${pk.map(quoteIdent).join(', ')}) do update set ${set}`;
  }
  const result = await db.query(sql);
  return result.rowCount ?? 0;
}

/** Postgres's refusals that a person must act on, said in terms of the sink. */
function explain(error: unknown, targetName: string): unknown {
  if (!isPgError(error)) return error;
  if (error.code === '2BP01') {
    return new StepError(
      `cannot replace ${targetName}: other objects depend on it (${error.detail ?? error.message}); ` +
        'drop them first, or publish with mode "append" or "upsert". Nothing was written',
      'data',
    );
  }
  return error;
}

/** `name` + `suffix`, shortened with a hash when it would pass Postgres's 63-byte limit. */
export function siblingName(name: string, suffix: string): string {
  const full = `${name}${suffix}`;
  if (Buffer.byteLength(full) <= 63) return full;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  let head = name;
  while (Buffer.byteLength(`${head}_${hash}${suffix}`) > 63) head = head.slice(0, -1);
  return `${head}_${hash}${suffix}`;
}

function primaryKeyName(table: string): string {
  return siblingName(table, '_pkey');
}
