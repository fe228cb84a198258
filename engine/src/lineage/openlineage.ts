// A run as OpenLineage run events (START, then COMPLETE or FAIL or ABORT), with its input and output
// datasets, their schema facet and, for outputs, the column lineage facet, so Marquez or any
// OpenLineage consumer can take Tributary's runs.
import type { LineageCatalog, LineageGraph, PipelineForLineage } from './lineage-graph.js';
import { tableId } from './lineage-graph.js';

const SPEC = 'https://openlineage.io/spec';
export const PRODUCER = 'https://github.com/tributary-dev/tributary';
const RUN_EVENT_SCHEMA = `${SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent`;
const SCHEMA_FACET = `${SPEC}/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet`;
const COLUMN_LINEAGE_FACET = `${SPEC}/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet`;
const ERROR_FACET = `${SPEC}/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet`;

export interface RunForLineage {
  /** Temporal's run id of the execution: a UUID, as OpenLineage wants. */
  uuid: string;
  project: string;
  pipelineId: string;
  status: string;
  startedAt: string;
  endedAt: string | null;
  /** The first step error, for a failed run. */
  error: string | null;
}

interface Dataset {
  namespace: string;
  name: string;
  facets: Record<string, unknown>;
}

/** OpenLineage's naming: a warehouse table is `<database>.<schema>.<table>` in `postgres://host:port`. */
export interface Namespaces {
  warehouse: { namespace: string; database: string };
}

function datasetOf(id: string, graph: LineageGraph, catalog: LineageCatalog, ns: Namespaces): Dataset {
  const node = graph.nodes.get(id)!;
  const facets: Record<string, unknown> = {};
  const columns = node.kind === 'table' ? (catalog.tableColumns(node.name) ?? node.columns) : node.columns;
  if (columns && columns.length > 0) {
    facets.schema = {
      _producer: PRODUCER,
      _schemaURL: SCHEMA_FACET,
      fields: columns.map((name) => ({ name })),
    };
  }
  if (node.kind === 'table') {
    return { namespace: ns.warehouse.namespace, name: `${ns.warehouse.database}.${node.name}`, facets };
  }
  const [scheme] = id.split(':');
  return { namespace: `tributary-${scheme}`, name: node.name, facets };
}

export function runEvents(
  run: RunForLineage,
  pipeline: PipelineForLineage,
  graph: LineageGraph,
  catalog: LineageCatalog,
  ns: Namespaces,
): Record<string, unknown>[] {
  const steps = new Set(pipeline.nodes.map((n) => `step:${pipeline.id}/${n.id}`));
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  for (const edge of graph.edges) {
    if (steps.has(edge.to) && !steps.has(edge.from)) inputs.add(edge.from);
    if (steps.has(edge.from) && !steps.has(edge.to)) outputs.add(edge.to);
  }
  const toDataset = (id: string) => datasetOf(id, graph, catalog, ns);
  const outputDatasets = [...outputs].map((id) => {
    const dataset = toDataset(id);
    const fields: Record<string, unknown> = {};
    for (const [key, sources] of graph.columns) {
      const at = key.lastIndexOf('#');
      if (key.slice(0, at) !== id || sources.length === 0) continue;
      fields[key.slice(at + 1)] = {
        inputFields: sources.map((source) => {
          const input = graph.nodes.has(tableId(source.table)) ? toDataset(tableId(source.table)) : undefined;
          return {
            namespace: input?.namespace ?? 'tributary-file',
            name: input?.name ?? source.table,
            field: source.column,
            transformations: [
              source.transformation === 'direct'
                ? { type: 'DIRECT', subtype: 'IDENTITY' }
                : { type: 'DIRECT', subtype: 'TRANSFORMATION' },
            ],
          };
        }),
      };
    }
    if (Object.keys(fields).length > 0) {
      dataset.facets.columnLineage = { _producer: PRODUCER, _schemaURL: COLUMN_LINEAGE_FACET, fields };
    }
    return dataset;
  });
  const base = {
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA,
    job: { namespace: `tributary.${run.project}`, name: run.pipelineId, facets: {} },
    inputs: [...inputs].map(toDataset),
    outputs: outputDatasets,
  };
  const events: Record<string, unknown>[] = [
    { ...base, eventType: 'START', eventTime: run.startedAt, run: { runId: run.uuid, facets: {} } },
  ];
  if (run.endedAt) {
    const eventType = run.status.startsWith('succeeded')
      ? 'COMPLETE'
      : run.status === 'cancelled'
        ? 'ABORT'
        : 'FAIL';
    const facets =
      eventType === 'FAIL' && run.error
        ? {
            errorMessage: {
              _producer: PRODUCER,
              _schemaURL: ERROR_FACET,
              message: run.error,
              programmingLanguage: 'SQL',
            },
          }
        : {};
    events.push({ ...base, eventType, eventTime: run.endedAt, run: { runId: run.uuid, facets } });
  }
  return events;
}
