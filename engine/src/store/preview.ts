// Reads a page of a step's output table from a run's kept staging schema, for the builder's data
// preview. Dates and times come back as Postgres writes them (no time-zone shifting through JS
// Dates), big integers as numbers only when they are exact.
import { stagingSchemaOfRun } from '../model/run-ids.js';
import { quoteTable, tableColumns, type ColumnInfo } from '@tributary/activities';
import pg from 'pg';

export const PREVIEW_MAX_LIMIT = 1000;

/** The run's staging was dropped (not kept, or past its TTL), or the step wrote no table. */
export class PreviewUnavailableError extends Error {}

/** The warehouse refused the reading role (a staging table that is not its project's). */
export class PreviewRefusedError extends Error {}

export interface StepPreview {
  runId: string;
  nodeId: string;
  schema: string;
  table: string;
  columns: ColumnInfo[];
  rows: Record<string, unknown>[];
  limit: number;
  offset: number;
  hasMore: boolean;
}

const RAW_TEXT = new Set([
  17, // bytea, as \x… hex
  1082, // date
  1083, // time
  1114, // timestamp
  1184, // timestamptz
  1186, // interval
  1266, // timetz
  1700, // numeric: exact as text
]);

const previewTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (RAW_TEXT.has(oid)) return (value: string) => value;
    if (oid === 20) {
      return (value: string) => {
        const n = Number(value);
        return Number.isSafeInteger(n) ? n : value;
      };
    }
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Who reads a preview: the runner login (no rights of its own) switched into the role of the run's
 * project (or its branch), which owns the run's staging; never the warehouse owner. A staging table
 * of another project's run is then refused by the warehouse itself, whatever the caller asked for.
 */
export interface PreviewReader {
  pool: pg.Pool;
  role: string;
}

/** How long one preview statement may take. */
const PREVIEW_STATEMENT_TIMEOUT_MS = 10_000;

export async function previewStepOutput(
  reader: PreviewReader,
  runId: string,
  nodeId: string,
  page: { limit: number; offset: number },
): Promise<StepPreview> {
  const limit = Math.max(0, Math.min(PREVIEW_MAX_LIMIT, Math.trunc(page.limit)));
  const offset = Math.max(0, Math.trunc(page.offset));
  const schema = stagingSchemaOfRun(runId);
  if (!schema) throw new PreviewUnavailableError(`"${runId}" is not a run id of this platform`);
  const client = await reader.pool.connect();
  try {
    await client.query('begin read only');
    await client.query(`set local role ${pg.escapeIdentifier(reader.role)}`);
    await client.query(`set local statement_timeout = ${PREVIEW_STATEMENT_TIMEOUT_MS}`);
    const exists = await client.query('select 1 from pg_namespace where nspname = $1', [schema]);
    if (!exists.rowCount) {
      throw new PreviewUnavailableError(
        `The staging data of run "${runId}" was not kept (or its 24 h retention passed): set ` +
          '"settings": { "keepStaging": true } on the pipeline and run it again to preview step outputs',
      );
    }
    const ref = { schema, table: nodeId };
    const columns = await tableColumns(client, ref);
    if (columns.length === 0) {
      throw new PreviewUnavailableError(
        `Step "${nodeId}" has no output table in run "${runId}": it is a sink, did not run, or is not a step of this run`,
      );
    }
    // ctid order: staging tables are written once, so pages are stable and follow insertion order.
    const result = await client.query({
      text: `select * from ${quoteTable(ref)} order by ctid limit $1 offset $2`,
      values: [limit + 1, offset],
      types: previewTypes,
    });
    return {
      runId,
      nodeId,
      schema,
      table: nodeId,
      columns,
      rows: result.rows.slice(0, limit),
      limit,
      offset,
      hasMore: result.rows.length > limit,
    };
  } catch (error) {
    if ((error as { code?: string }).code === '42501')
      throw new PreviewRefusedError(
        `The warehouse refused to let role "${reader.role}" read the output of step "${nodeId}" in run "${runId}": ${(error as Error).message}`,
      );
    throw error;
  } finally {
    await client.query('rollback').catch(() => {});
    client.release();
  }
}
