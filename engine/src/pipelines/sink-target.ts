// What a sink's target table holds now: its row count, columns and a few rows, read under
// the project's warehouse role (never the owner's), so the editor can show what a re-run would
// replace or add to. A table of another project that was not shared reads as a refusal naming its
// owner, exactly as a run of the pipeline would see it.
import { ForbiddenError, InvalidError } from '../errors.js';
import {
  describeForeignSchema,
  parseTableName,
  quoteIdent,
  quoteTable,
  tableColumns,
  type ColumnInfo,
} from '@tributary/activities';
import type { NodeCatalog } from '../compiler/compile.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import { describeContextFor, type DescribeDeps } from './describe-context.js';

export const SINK_TARGET_MAX_ROWS = 100;

export interface SinkTarget {
  nodeId: string;
  /** `schema.table` as the sink resolves it (unqualified names in the project's schema). */
  table: string;
  exists: boolean;
  rowCount: number | null;
  columns: ColumnInfo[];
  /** Values as Postgres writes them as text (exact numerics, dates without time-zone shifts). */
  rows: Record<string, string | null>[];
}

const problem = (status: 400 | 403, path: string, message: string) =>
  new (status === 400 ? InvalidError : ForbiddenError)(message, [{ path, message }]);

export async function readSinkTarget(
  deps: DescribeDeps,
  catalog: NodeCatalog,
  document: Pipeline,
  nodeId: string,
  limit: number,
): Promise<SinkTarget> {
  const node = document.nodes.find((n) => n.id === nodeId);
  if (!node) throw problem(400, 'nodeId', `Pipeline "${document.id}" has no node "${nodeId}"`);
  // The node's declaration says which warehouse table it publishes into, if any.
  const declareTarget = catalog.get(node.type)?.target;
  if (!declareTarget) {
    throw problem(
      400,
      'nodeId',
      `Node "${nodeId}" is a ${node.type}, which publishes into no warehouse table: it has no target table`,
    );
  }
  const target = declareTarget(node.config ?? {}, nodeId);
  if ('field' in target) throw problem(400, `nodes.${nodeId}.config.${target.field}`, target.message);
  if (target.table.includes('{{')) {
    throw problem(
      400,
      `nodes.${nodeId}.config.table`,
      `Node "${nodeId}": the table name "${target.table}" depends on run params; it is known only in a run`,
    );
  }
  const { warehouse } = describeContextFor(deps, document);
  let ref;
  try {
    ref = parseTableName(target.table, warehouse.defaultSchema);
  } catch (error) {
    throw problem(400, `nodes.${nodeId}.config.table`, `Node "${nodeId}": ${(error as Error).message}`);
  }
  const name = `${ref.schema}.${ref.table}`;
  const refuse = async () => {
    const owner = await warehouse.owners.ownerOf(ref.schema);
    const why = describeForeignSchema(owner, ref.schema, `table ${name}`, document.project);
    return problem(403, `nodes.${nodeId}.config.table`, `Node "${nodeId}": ${why}`);
  };
  // Without USAGE on the schema even looking the table up is refused, so ask that first.
  const usage = await warehouse.query<{ ok: boolean | null }>(
    `select has_schema_privilege(current_user, n.oid, 'USAGE') as ok from pg_namespace n where n.nspname = $1`,
    [ref.schema],
  );
  if (usage.rows[0]?.ok === false) throw await refuse();
  const columns = usage.rows.length ? await tableColumns(warehouse, ref) : [];
  if (columns.length === 0) return { nodeId, table: name, exists: false, rowCount: null, columns, rows: [] };
  if (!(await warehouse.canRead(ref))) throw await refuse();
  const count = await warehouse.query<{ n: string }>(`select count(*) as n from ${quoteTable(ref)}`);
  const asText = columns.map((c) => `${quoteIdent(c.name)}::text as ${quoteIdent(c.name)}`).join(', ');
  const sample = await warehouse.query<Record<string, string | null>>(
    `select ${asText} from ${quoteTable(ref)} limit $1`,
    [Math.max(0, Math.min(SINK_TARGET_MAX_ROWS, Math.trunc(limit)))],
  );
  return {
    nodeId,
    table: name,
    exists: true,
    rowCount: Number(count.rows[0]!.n),
    columns,
    rows: sample.rows,
  };
}
