// A run as OpenLineage run events (START, then COMPLETE or FAIL or ABORT), with every dataset it
// read and wrote, their schema facet (with column types where known) and, for outputs, the column
// lineage facet (DIRECT and INDIRECT transformations), so Marquez or any OpenLineage consumer can
// take Tributary's runs. Pure: a function of the run's data, the pipeline and its lineage graph, so
// events of a live run and of a closed run's record come out the same.
import type {
  ColumnEntry,
  IndirectSourceOut,
  LineageCatalog,
  LineageGraph,
  PipelineForLineage,
} from './lineage-graph.js';

const SPEC = 'https://openlineage.io/spec';
export const PRODUCER = 'https://github.com/tributary-dev/tributary';
export const RUN_EVENT_SCHEMA = `${SPEC}/2-0-2/OpenLineage.json#/$defs/RunEvent`;
const SCHEMA_FACET = `${SPEC}/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet`;
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

type Transformation = { type: 'DIRECT' | 'INDIRECT'; subtype: string };

const DIRECT: Record<string, Transformation> = {
  direct: { type: 'DIRECT', subtype: 'IDENTITY' },
  derived: { type: 'DIRECT', subtype: 'TRANSFORMATION' },
  aggregation: { type: 'DIRECT', subtype: 'AGGREGATION' },
};

/** The event's name for a dataset of the graph. */
function datasetName(id: string, graph: LineageGraph, ns: Namespaces): { namespace: string; name: string } {
  const node = graph.nodes.get(id);
  if (!node) return { namespace: 'tributary', name: id };
  if (node.kind === 'table')
    return { namespace: ns.warehouse.namespace, name: `${ns.warehouse.database}.${node.name}` };
  const [scheme] = id.split(':');
  return { namespace: `tributary-${scheme}`, name: node.name };
}

function datasetOf(id: string, graph: LineageGraph, catalog: LineageCatalog, ns: Namespaces): Dataset {
  const node = graph.nodes.get(id)!;
  const facets: Record<string, unknown> = {};
  const columns = node.kind === 'table' ? (catalog.tableColumns(node.name) ?? node.columns) : node.columns;
  if (columns && columns.length > 0) {
    facets.schema = {
      _producer: PRODUCER,
      _schemaURL: SCHEMA_FACET,
      fields: columns.map((name) => {
        const type = node.kind === 'table' ? catalog.columnType?.(node.name, name) : node.columnTypes?.[name];
        return { name, ...(type ? { type } : {}) };
      }),
    };
  }
  return { ...datasetName(id, graph, ns), facets };
}

/**
 * The column lineage facet of one output dataset: per column its DIRECT sources and the INDIRECT
 * ones only it has; what decides every column (joins, filters, grouping, sorting of the rows) once,
 * as the dataset's.
 */
function columnLineageFacet(
  entries: [string, ColumnEntry][],
  ref: (table: string) => { namespace: string; name: string },
): Record<string, unknown> | undefined {
  const key = (s: IndirectSourceOut) => `${s.table}#${s.column}#${s.subtype}`;
  const common =
    entries.length === 0
      ? []
      : entries[0]![1].indirect.filter((s) =>
          entries.every(([, e]) => e.indirect.some((t) => key(t) === key(s))),
        );
  const commonKeys = new Set(common.map(key));
  const inputFields = (list: { table: string; column: string; transformation: Transformation }[]) => {
    const byField = new Map<
      string,
      { namespace: string; name: string; field: string; transformations: Transformation[] }
    >();
    for (const { table, column, transformation } of list) {
      const dataset = ref(table);
      const k = `${dataset.namespace}\u0000${dataset.name}\u0000${column}`;
      const field = byField.get(k) ?? { ...dataset, field: column, transformations: [] };
      if (
        !field.transformations.some(
          (t) => t.type === transformation.type && t.subtype === transformation.subtype,
        )
      )
        field.transformations.push(transformation);
      byField.set(k, field);
    }
    return [...byField.values()];
  };
  const fields: Record<string, unknown> = {};
  for (const [column, entry] of entries) {
    const list = [
      ...entry.sources.map((s) => ({
        table: s.table,
        column: s.column,
        transformation: DIRECT[s.transformation]!,
      })),
      ...entry.indirect
        .filter((s) => !commonKeys.has(key(s)))
        .map((s) => ({
          table: s.table,
          column: s.column,
          transformation: { type: 'INDIRECT' as const, subtype: s.subtype },
        })),
    ];
    if (list.length > 0) fields[column] = { inputFields: inputFields(list) };
  }
  if (Object.keys(fields).length === 0 && common.length === 0) return undefined;
  return {
    _producer: PRODUCER,
    _schemaURL: COLUMN_LINEAGE_FACET,
    fields,
    ...(common.length > 0
      ? {
          dataset: inputFields(
            common.map((s) => ({
              table: s.table,
              column: s.column,
              transformation: { type: 'INDIRECT', subtype: s.subtype },
            })),
          ),
        }
      : {}),
  };
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
  // Column sources name datasets by their name; the event names them by namespace and name.
  const byName = new Map<string, string>();
  for (const node of graph.nodes.values()) if (node.kind !== 'step') byName.set(node.name, node.id);
  const ref = (table: string) =>
    byName.has(table) ? datasetName(byName.get(table)!, graph, ns) : { namespace: 'tributary', name: table };
  const toDataset = (id: string) => datasetOf(id, graph, catalog, ns);
  const outputDatasets = [...outputs].map((id) => {
    const dataset = toDataset(id);
    const entries: [string, ColumnEntry][] = [];
    for (const [k, entry] of graph.columns) {
      const at = k.lastIndexOf('#');
      if (k.slice(0, at) === id) entries.push([k.slice(at + 1), entry]);
    }
    const facet = columnLineageFacet(entries, ref);
    if (facet) dataset.facets.columnLineage = facet;
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
