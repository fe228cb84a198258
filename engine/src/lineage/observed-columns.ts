// The columns of the datasets a pipeline's sources read when their configs do not list them (a CSV
// whose header names them, a JSON file's keys, an API's records, an external table): from the last
// run that kept the step's output table, else from the file itself (the node type's `describe`,
// under the project's warehouse role, reading only the project's own files). Lineage then gives
// those datasets columns, so a column's sources reach the file.
import type { ColumnInfo } from '@tributary/activities';
import type pg from 'pg';
import type { RunsClient } from '../client/runs.js';
import type { NodeCatalog } from '../compiler/compile.js';
import type { Logger } from '../infra/logger.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import { describeContextFor, type DescribeDeps } from '../pipelines/describe-context.js';
import { keptOutputs, outputSchemas } from '../pipelines/output-schemas.js';
import type { PipelineStore } from '../store/pipelines.store.js';
import { lineageContext, lineageOf } from './lineage-graph.js';

export interface ObserveDeps {
  catalog: NodeCatalog;
  /** How to describe a node without a run; undefined when this process has no runner pool or files. */
  describe: DescribeDeps | undefined;
  runs: RunsClient;
  warehousePool: pg.Pool;
  pipelines: PipelineStore;
  log: Logger;
}

/** The nodes of `pipeline` that read a dataset whose columns their config does not say. */
export function unlistedReads(catalog: NodeCatalog, pipeline: Pick<Pipeline, 'project' | 'nodes'>) {
  const ctx = lineageContext(pipeline.project, () => undefined);
  return pipeline.nodes.filter((node) => {
    const declared = lineageOf(catalog, node, ctx);
    const read = declared.reads?.[0];
    return declared.columns?.from === 'read' && read !== undefined && read.kind !== 'table' && !read.columns;
  });
}

/**
 * Those nodes' output columns, as far as they can be told; `storedAs` is the stored pipeline whose
 * runs' kept tables count (none for a document that is not stored).
 */
export async function observedColumns(
  deps: ObserveDeps,
  pipeline: Pipeline,
  storedAs?: string,
): Promise<Record<string, ColumnInfo[]>> {
  const nodes = unlistedReads(deps.catalog, pipeline);
  if (nodes.length === 0) return {};
  // Sources have no inputs: describing them alone describes them as in the whole pipeline.
  const sources: Pipeline = { ...pipeline, nodes, edges: [] };
  const schemas = await outputSchemas(sources, {
    catalog: deps.catalog,
    describeContext: deps.describe ? describeContextFor(deps.describe, sources) : undefined,
    kept: storedAs
      ? await keptOutputs(deps.runs, deps.warehousePool, deps.pipelines, storedAs).catch((error: unknown) => {
          deps.log.warn('kept outputs unreadable for lineage', {
            pipeline: storedAs,
            error: (error as Error)?.message,
          });
          return undefined;
        })
      : undefined,
    log: deps.log,
  });
  return Object.fromEntries(
    Object.entries(schemas).flatMap(([id, schema]) => (schema.columns ? [[id, schema.columns]] : [])),
  );
}
