// Data in and out of a Python process, through the activity and never through the process's own
// database connection: input tables are streamed to CSV files of the scratch directory with
// `COPY … TO STDOUT`, and the process's CSV output is streamed into the step's table with
// `COPY … FROM STDIN`, both under the project's role. NULL is `\N`, so it stays apart from ''.
import { withTransaction } from '../transaction.js';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { TableRef } from '../node-type.js';
import { quoteIdent, quoteTable, tableColumns, type ColumnInfo } from '../sql.js';
import type { ProjectWarehouse } from '../warehouse/project-warehouse.js';

const CSV_OPTIONS = `format csv, header true, null '\\N', encoding 'UTF8'`;

/** Writes `table` to `file` as CSV; returns its columns. */
export async function exportTable(
  warehouse: ProjectWarehouse,
  table: TableRef,
  file: string,
  signal: AbortSignal,
): Promise<ColumnInfo[]> {
  const columns = await tableColumns(warehouse, table);
  await withTransaction(warehouse, async (client) => {
    await client.query(`set local datestyle = 'ISO, MDY'`);
    const reader = client.query(
      copyTo(`copy (select * from ${quoteTable(table)}) to stdout with (${CSV_OPTIONS})`),
    );
    await pipeline(reader, createWriteStream(file), { signal });
  });
  return columns;
}

/** Creates `table` with `columns` and loads `file` (CSV with a header) into it; returns the row count. */
export async function importTable(
  warehouse: ProjectWarehouse,
  table: TableRef,
  columns: ColumnInfo[],
  file: string,
  signal: AbortSignal,
): Promise<number> {
  return withTransaction(warehouse, async (client) => {
    await client.query(
      `create table ${quoteTable(table)} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`,
    );
    const writer = client.query(copyFrom(`copy ${quoteTable(table)} from stdin with (${CSV_OPTIONS})`));
    await pipeline(createReadStream(file), writer, { signal });
    return writer.rowCount;
  });
}
