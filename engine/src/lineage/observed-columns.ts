// The columns of the datasets a pipeline's sources read when their configs do not list them (a CSV
// whose header names them, a JSON file's keys, an API's records, an external table): from the last
// run that knew the step's output (its kept table, or the columns the step reported), else from the
// file itself (the node type's `describe`, under the project's warehouse role, reading only the
// project's own files). Lineage then gives those datasets columns, so a column's sources reach the
// file. The same for opaque code (transform.python) that does not list its output columns: a run
// tells them, and lineage derives each from every input column unless the node maps it.
import type { ColumnInfo } from '@tributary/activities';
import type pg from 'pg';
import type { RunsClient } from '../client/runs.js';
import type { NodeCatalog } from '../compiler/compile.js';
import type { Logger } from '../infra/logger.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import { describeContextFor, type DescribeDeps } from '../pipelines/describe-context.js';
import { outputSchemas, runOutputs } from '../pipelines/output-schemas.js';
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

/** The nodes of `pipeline` whose opaque code lists no output columns (a run tells them). */
export function unlistedCode(catalog: NodeCatalog, pipeline: Pick<Pipeline, 'project' | 'nodes'>) {
  const ctx = lineageContext(pipeline.project, () => undefined);
  return pipeline.nodes.filter((node) => {
    const origin = lineageOf(catalog, node, ctx).columns;
    return origin?.from === 'code' && origin.columns.length === 0;
  });
}

/**
 * Those nodes' output columns, as far as they can be told; `storedAs` is the stored pipeline whose
 * runs count (none for a document that is not stored).
 */
export async function observedColumns(
  deps: ObserveDeps,
  pipeline: Pipeline,
  storedAs?: string,
): Promise<Record<string, ColumnInfo[]>> {
  const nodes = [...unlistedReads(deps.catalog, pipeline), ...unlistedCode(deps.catalog, pipeline)];
  if (nodes.length === 0) return {};
  // The whole document, so a run's output counts only where the node's upstream is as that run had
  // it; only these nodes are answered (sources are described alone, as they have no inputs; code is
  // known only from a run, so its inputs are never described for it).
  const schemas = await outputSchemas(pipeline, {
    catalog: deps.catalog,
    only: new Set(nodes.map((n) => n.id)),
    describeContext: deps.describe ? describeContextFor(deps.describe, pipeline) : undefined,
    runs: storedAs
      ? await runOutputs(deps.runs, deps.warehousePool, deps.pipelines, storedAs, undefined, deps.log).catch(
          (error: unknown) => {
            deps.log.warn('run outputs unreadable for lineage', {
              pipeline: storedAs,
              error: (error as Error)?.message,
            });
            return undefined;
          },
        )
      : undefined,
    log: deps.log,
  });
  return Object.fromEntries(
    Object.entries(schemas).flatMap(([id, schema]) => (schema.columns ? [[id, schema.columns]] : [])),
  );
}
