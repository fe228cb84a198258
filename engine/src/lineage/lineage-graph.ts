// Lineage from pipeline versions: which datasets (warehouse tables, files, URLs, external
// databases) each step reads and writes, stitched across pipelines and projects by table name, and
// for every column a step or table holds, the columns of other datasets it is computed from. Pure:
// the caller hands in the pipelines, the known columns of warehouse tables and the node catalogue,
// whose declarations say what each node reads and writes (`lineage()` in node-type.ts).
import {
  columnLineage,
  defaultSchemaOf,
  parseTableName,
  type DatasetRef,
  type DirectTransformation,
  type IndirectSubtype,
  type LineageContext,
  type NodeLineage,
  type NodeTypeDeclaration,
  type RelationRef,
} from '@tributary/activities';

/** `generated`: rows a node makes itself (source.generate), a dataset of its own so lineage ends there. */
export type DatasetKind = 'table' | 'file' | 'url' | 'external' | 'generated';

export interface LineageNode {
  id: string;
  kind: DatasetKind | 'step';
  name: string;
  project?: string;
  pipelineId?: string;
  nodeId?: string;
  type?: string;
  columns?: string[];
  /** Declared types of a dataset's columns (a file's, an API's), when known. */
  columnTypes?: Record<string, string>;
}

export interface LineageEdge {
  from: string;
  to: string;
}

export interface ColumnSourceOut {
  table: string;
  column: string;
  transformation: DirectTransformation;
}

/** A column that decides another's value or rows without being part of it (OpenLineage INDIRECT). */
export interface IndirectSourceOut {
  table: string;
  column: string;
  subtype: IndirectSubtype;
}

/** What one column of a dataset or step is made of, and what else decides it. */
export interface ColumnEntry {
  sources: ColumnSourceOut[];
  indirect: IndirectSourceOut[];
}

export interface ColumnLineageOut extends ColumnEntry {
  table: string;
  column: string;
}

export interface LineageGraph {
  nodes: Map<string, LineageNode>;
  edges: LineageEdge[];
  /** Keyed by `<dataset id>#<column>`: the columns of other datasets it is computed from. */
  columns: Map<string, ColumnEntry>;
  /** Steps whose column lineage could not be worked out completely, and why. */
  problems: string[];
}

export interface PipelineForLineage {
  id: string;
  project: string;
  nodes: { id: string; type: string; config?: Record<string, unknown> }[];
  edges: { from: string; to: string }[];
  /**
   * The output columns of nodes whose config does not list the columns of what they read (a CSV
   * whose header names them, an API's records), as the last run that knew the step's output or the
   * file itself showed them: the dataset they read gets these columns, so lineage reaches it. And of
   * opaque code that lists no output columns (a run told them): each is derived from every input
   * column, unless the node's mapping names its sources.
   */
  observed?: Record<string, { name: string; type: string }[]>;
}

export interface LineageCatalog {
  /** Known columns of a warehouse table `schema.table`, in order; undefined when unknown. */
  tableColumns(table: string): string[] | undefined;
  /** The type of a column of a warehouse table (`integer`, `text` …), when known. */
  columnType?(table: string, column: string): string | undefined;
  /** The table of a data product. */
  productTable(id: string): string | undefined;
}

type Sources = Map<string, ColumnEntry>;

export const tableId = (name: string) => `table:${name}`;
const stepId = (pipelineId: string, nodeId: string) => `step:${pipelineId}/${nodeId}`;

/** Where a node type's declaration says what it reads and writes (the node catalogue). */
export interface LineageNodeTypes {
  get(type: string): { lineage?: NodeTypeDeclaration['lineage'] } | undefined;
}

/** What a declaration's `lineage()` may look up for a node of `project`. */
export function lineageContext(
  project: string,
  productTable: (id: string) => string | undefined,
): LineageContext {
  return { project, tableName: (table) => qualified(table, project), productTable };
}

/** What a node's declaration says it reads and writes; nothing when its type declares nothing. */
export function lineageOf(
  nodeTypes: LineageNodeTypes,
  node: { type: string; config?: Record<string, unknown> },
  ctx: LineageContext,
): NodeLineage {
  const declare = nodeTypes.get(node.type)?.lineage;
  if (!declare) return {};
  try {
    return declare(node.config ?? {}, ctx);
  } catch {
    // A declaration is given configs as written; one that trips over a malformed config says nothing.
    return {};
  }
}

const datasetId = (dataset: DatasetRef) =>
  dataset.kind === 'table' ? tableId(dataset.name) : `${dataset.kind}:${dataset.name}`;

/** `table` or `schema.table` as the project's steps resolve it. */
function qualified(table: string | undefined, project: string): string | undefined {
  if (!table) return undefined;
  try {
    const ref = parseTableName(table, defaultSchemaOf(project));
    return `${ref.schema}.${ref.table}`;
  } catch {
    return undefined;
  }
}

function topological(pipeline: PipelineForLineage): PipelineForLineage['nodes'] {
  const done = new Set<string>();
  const order: PipelineForLineage['nodes'] = [];
  const byId = new Map(pipeline.nodes.map((n) => [n.id, n]));
  const visit = (id: string, path: Set<string>) => {
    if (done.has(id) || path.has(id) || !byId.has(id)) return;
    path.add(id);
    for (const edge of pipeline.edges) if (edge.to === id) visit(edge.from, path);
    done.add(id);
    order.push(byId.get(id)!);
  };
  for (const node of pipeline.nodes) visit(node.id, new Set());
  return order;
}

/** Upstream sources seen through one more step: a copy keeps them, an expression derives, an aggregate aggregates. */
const through = (sources: ColumnSourceOut[], how: DirectTransformation): ColumnSourceOut[] =>
  how === 'direct'
    ? sources
    : sources.map((s) => ({
        ...s,
        transformation:
          how === 'aggregation' || s.transformation === 'aggregation' ? 'aggregation' : 'derived',
      }));
const NO_ENTRY: ColumnEntry = { sources: [], indirect: [] };

export async function buildLineage(
  pipelines: readonly PipelineForLineage[],
  catalog: LineageCatalog,
  nodeTypes: LineageNodeTypes,
): Promise<LineageGraph> {
  const graph: LineageGraph = { nodes: new Map(), edges: [], columns: new Map(), problems: [] };
  const ctx = (project: string) => lineageContext(project, (id) => catalog.productTable(id));
  const addNode = (node: LineageNode) => {
    const existing = graph.nodes.get(node.id);
    graph.nodes.set(node.id, { ...existing, ...node, columns: node.columns ?? existing?.columns });
  };
  const addTable = (name: string) => {
    const id = tableId(name);
    if (!graph.nodes.has(id)) {
      const cols = catalog.tableColumns(name);
      addNode({ id, kind: 'table', name, ...(cols ? { columns: cols } : {}) });
      // A table's own columns are where lineage ends unless a step wrote them.
    }
    return id;
  };

  for (const pipeline of pipelines) {
    // What each node's output holds, column by column, in terms of datasets outside the pipeline.
    const outputs = new Map<string, Sources>();
    const inputsOf = (nodeId: string) => pipeline.edges.filter((e) => e.to === nodeId).map((e) => e.from);
    for (const node of topological(pipeline)) {
      const id = stepId(pipeline.id, node.id);
      addNode({
        id,
        kind: 'step',
        name: `${pipeline.id}.${node.id}`,
        project: pipeline.project,
        pipelineId: pipeline.id,
        nodeId: node.id,
        type: node.type,
      });
      for (const upstream of inputsOf(node.id))
        graph.edges.push({ from: stepId(pipeline.id, upstream), to: id });
      const declared = withObserved(
        lineageOf(nodeTypes, node, ctx(pipeline.project)),
        pipeline.observed?.[node.id],
      );
      const origin = declared.columns;
      const out: Sources = new Map();

      for (const dataset of declared.reads ?? []) {
        if (dataset.kind === 'table') addTable(dataset.name);
        else
          addNode({
            id: datasetId(dataset),
            kind: dataset.kind,
            name: dataset.name,
            ...(dataset.columns ? { columns: dataset.columns } : {}),
            ...(dataset.columnTypes ? { columnTypes: dataset.columnTypes } : {}),
          });
        graph.edges.push({ from: datasetId(dataset), to: id });
      }
      const read = declared.reads?.[0];
      if (origin?.from === 'read' && read) {
        const known = read.kind === 'table' ? catalog.tableColumns(read.name) : read.columns;
        for (const column of known ?? [])
          out.set(column, {
            sources: [{ table: read.name, column, transformation: 'direct' }],
            indirect: [],
          });
      } else if (origin?.from === 'made') {
        // Rows the node makes: a dataset of their own, so a column's lineage reaches where it was made.
        const made = { id: `generated:${pipeline.id}/${node.id}`, name: `${pipeline.id}/${node.id}` };
        addNode({
          id: made.id,
          kind: 'generated',
          name: made.name,
          columns: origin.columns,
          ...(origin.columnTypes ? { columnTypes: origin.columnTypes } : {}),
        });
        graph.edges.push({ from: made.id, to: id });
        for (const column of origin.columns)
          out.set(column, {
            sources: [{ table: made.name, column, transformation: 'direct' }],
            indirect: [],
          });
      } else if (origin?.from === 'sql') {
        const ownSchema = defaultSchemaOf(pipeline.project);
        const tableName = (ref: RelationRef & { kind: 'table' }) => `${ref.schema || ownSchema}.${ref.table}`;
        const lineage = await columnLineage(
          origin.sql,
          (ref: RelationRef) =>
            ref.kind === 'input'
              ? outputs.has(ref.node)
                ? [...outputs.get(ref.node)!.keys()]
                : undefined
              : catalog.tableColumns(tableName(ref)),
          // The step's search path on main: the project's own schema.
          { searchPath: [ownSchema] },
        );
        if (!lineage.complete)
          graph.problems.push(...lineage.problems.map((p: string) => `${pipeline.id}.${node.id}: ${p}`));
        // Every table the query reads, wherever it names it (WHERE, JOIN, subqueries …), is an input.
        for (const relation of lineage.relations)
          if (relation.kind === 'table') graph.edges.push({ from: addTable(tableName(relation)), to: id });
        // A column of an input or table, as what it is made of outside this pipeline.
        const entryOf = (relation: RelationRef, column: string): ColumnEntry =>
          relation.kind === 'input'
            ? (outputs.get(relation.node)?.get(column) ?? NO_ENTRY)
            : { sources: [{ table: tableName(relation), column, transformation: 'direct' }], indirect: [] };
        const indirectOf = (list: { relation: RelationRef; column: string; subtype: IndirectSubtype }[]) =>
          list.flatMap(({ relation, column, subtype }) => {
            const entry = entryOf(relation, column);
            return [
              ...entry.sources.map((s) => ({ table: s.table, column: s.column, subtype })),
              ...entry.indirect,
            ];
          });
        const rowLevel = indirectOf(lineage.indirect);
        for (const column of lineage.columns) {
          const sources: ColumnSourceOut[] = [];
          const indirect: IndirectSourceOut[] = [...rowLevel, ...indirectOf(column.indirect ?? [])];
          for (const source of column.sources) {
            const entry = entryOf(source.relation, source.column);
            sources.push(...through(entry.sources, source.transformation));
            indirect.push(...entry.indirect);
          }
          out.set(column.name, { sources: dedupe(sources), indirect: dedupeIndirect(indirect) });
        }
      } else if (origin?.from === 'code') {
        // Opaque code: a column is derived from what its mapping names, else from all its inputs.
        const entryOfRef = (ref: string): ColumnEntry => {
          const dot = ref.indexOf('.');
          return outputs.get(ref.slice(0, dot))?.get(ref.slice(dot + 1)) ?? NO_ENTRY;
        };
        const everything = inputsOf(node.id).flatMap((input) => [...(outputs.get(input)?.values() ?? [])]);
        for (const column of new Set([...origin.columns, ...Object.keys(origin.mapping ?? {})])) {
          const named = origin.mapping?.[column];
          const entries = named ? named.map(entryOfRef) : everything;
          out.set(column, {
            sources: dedupe(
              through(
                entries.flatMap((e) => e.sources),
                'derived',
              ),
            ),
            indirect: dedupeIndirect(entries.flatMap((e) => e.indirect)),
          });
        }
      } else if (origin?.from === 'input') {
        // Passes its input on (a gate) or writes it out (a sink): columns carry through unchanged.
        const input = outputs.get(inputsOf(node.id)[0] ?? '');
        for (const [column, entry] of input ?? []) out.set(column, entry);
      }
      graph.nodes.get(id)!.columns = [...out.keys()];
      outputs.set(node.id, out);

      for (const dataset of declared.writes ?? []) {
        if (dataset.kind === 'table') addTable(dataset.name);
        else addNode({ id: datasetId(dataset), kind: dataset.kind, name: dataset.name });
        graph.edges.push({ from: id, to: datasetId(dataset) });
        const target = graph.nodes.get(datasetId(dataset))!;
        target.columns = [...new Set([...(target.columns ?? []), ...out.keys()])];
        for (const [column, entry] of out) {
          const key = `${datasetId(dataset)}#${column}`;
          const known = graph.columns.get(key) ?? NO_ENTRY;
          graph.columns.set(key, {
            sources: dedupe([...known.sources, ...entry.sources]),
            indirect: dedupeIndirect([...known.indirect, ...entry.indirect]),
          });
        }
      }
    }
  }
  return graph;
}

/**
 * A node's declared lineage, with the dataset it reads given the columns a run or the file showed
 * when its config names none (a warehouse table's come from the catalog instead); for opaque code
 * that lists no output columns, the columns a run reported (its mapping, if any, still applies).
 */
function withObserved(
  declared: NodeLineage,
  observed: { name: string; type: string }[] | undefined,
): NodeLineage {
  const origin = declared.columns;
  if (origin?.from === 'code') {
    if (origin.columns.length > 0 || !observed?.length) return declared;
    return { ...declared, columns: { ...origin, columns: observed.map((c) => c.name) } };
  }
  const read = declared.reads?.[0];
  if (
    declared.columns?.from !== 'read' ||
    !read ||
    read.kind === 'table' ||
    read.columns ||
    !observed?.length
  )
    return declared;
  return {
    ...declared,
    reads: [
      {
        ...read,
        columns: observed.map((c) => c.name),
        columnTypes: Object.fromEntries(observed.map((c) => [c.name, c.type])),
      },
      ...declared.reads!.slice(1),
    ],
  };
}

const RANK: Record<DirectTransformation, number> = { direct: 0, derived: 1, aggregation: 2 };

function dedupe(sources: ColumnSourceOut[]): ColumnSourceOut[] {
  const seen = new Map<string, ColumnSourceOut>();
  for (const source of sources) {
    const key = `${source.table}#${source.column}`;
    const known = seen.get(key);
    // Reached several ways (a copy and an expression): the furthest from a copy tells.
    if (!known || RANK[source.transformation] > RANK[known.transformation]) seen.set(key, source);
  }
  return [...seen.values()];
}

function dedupeIndirect(sources: IndirectSourceOut[]): IndirectSourceOut[] {
  const seen = new Map<string, IndirectSourceOut>();
  for (const s of sources) seen.set(`${s.table}#${s.column}#${s.subtype}`, s);
  return [...seen.values()];
}

/** Graphs of separate pipelines as one: datasets are stitched by id, a dataset's column entries merged. */
export function mergeLineage(graphs: Iterable<LineageGraph>): LineageGraph {
  const merged: LineageGraph = { nodes: new Map(), edges: [], columns: new Map(), problems: [] };
  for (const graph of graphs) {
    for (const [id, node] of graph.nodes) {
      const existing = merged.nodes.get(id);
      merged.nodes.set(
        id,
        existing && node.kind !== 'step'
          ? {
              ...existing,
              ...node,
              columns: [...new Set([...(existing.columns ?? []), ...(node.columns ?? [])])],
            }
          : node,
      );
    }
    merged.edges.push(...graph.edges);
    for (const [key, entry] of graph.columns) {
      const known = merged.columns.get(key);
      merged.columns.set(
        key,
        known
          ? {
              sources: dedupe([...known.sources, ...entry.sources]),
              indirect: dedupeIndirect([...known.indirect, ...entry.indirect]),
            }
          : entry,
      );
    }
    merged.problems.push(...graph.problems);
  }
  return merged;
}

/** All of a graph, as the API gives it. */
export function graphView(graph: LineageGraph) {
  return {
    nodes: [...graph.nodes.values()],
    edges: dedupeEdges(graph.edges),
    columns: [...graph.columns.entries()].map(([key, entry]) => {
      const at = key.lastIndexOf('#');
      const dataset = key.slice(0, at);
      return { table: graph.nodes.get(dataset)?.name ?? dataset, column: key.slice(at + 1), ...entry };
    }),
    problems: graph.problems,
  };
}

export interface LineageQuery {
  table: string;
  column?: string;
  direction: 'up' | 'down' | 'both';
  depth: number;
}

/**
 * The part of the graph around one dataset (and optionally one column), `depth` datasets away:
 * steps between datasets cost nothing, each dataset reached counts one (a 0-1 breadth-first walk).
 */
export function queryLineage(graph: LineageGraph, query: LineageQuery) {
  const start = query.table.includes(':') ? query.table : tableId(query.table);
  const keep = new Set<string>([start]);
  const { forwardOf, backwardOf, columnsOf } = indexOf(graph);
  const walk = (forward: boolean) => {
    const next = forward ? forwardOf : backwardOf;
    const level = new Map<string, number>([[start, 0]]);
    const deque = [start];
    while (deque.length > 0) {
      const id = deque.shift()!;
      const here = level.get(id)!;
      for (const there of next.get(id) ?? []) {
        const cost = graph.nodes.get(there)?.kind === 'step' ? 0 : 1;
        const at = here + cost;
        if (at > query.depth || (level.get(there) ?? Infinity) <= at) continue;
        level.set(there, at);
        keep.add(there);
        if (cost === 0) deque.unshift(there);
        else deque.push(there);
      }
    }
  };
  if (query.direction !== 'down') walk(false);
  if (query.direction !== 'up') walk(true);
  const nodes = [...keep].map((id) => graph.nodes.get(id)).filter((n): n is LineageNode => n !== undefined);
  const edges = dedupeEdges(
    [...keep].flatMap((from) =>
      (forwardOf.get(from) ?? []).filter((to) => keep.has(to)).map((to) => ({ from, to })),
    ),
  );
  let columns: ColumnLineageOut[] = [...keep].flatMap((id) => columnsOf.get(id) ?? []);
  if (query.column) columns = columnsAround(columns, query.table, query.column, query.direction);
  // Only the problems of the steps shown: each problem starts with its step's name.
  const steps = nodes.filter((n) => n.kind === 'step').map((n) => `${n.name}: `);
  const problems = graph.problems.filter((p) => steps.some((step) => p.startsWith(step)));
  return { nodes, edges, columns, problems };
}

interface GraphIndex {
  forwardOf: Map<string, string[]>;
  backwardOf: Map<string, string[]>;
  /** A dataset's column entries, by dataset id. */
  columnsOf: Map<string, ColumnLineageOut[]>;
}
// A graph is not changed once built (the lineage index replaces it), so its index is kept with it.
const indexes = new WeakMap<LineageGraph, GraphIndex>();

function indexOf(graph: LineageGraph): GraphIndex {
  let index = indexes.get(graph);
  if (index) return index;
  index = { forwardOf: new Map(), backwardOf: new Map(), columnsOf: new Map() };
  for (const edge of graph.edges) {
    const forward = index.forwardOf.get(edge.from);
    if (forward) forward.push(edge.to);
    else index.forwardOf.set(edge.from, [edge.to]);
    const backward = index.backwardOf.get(edge.to);
    if (backward) backward.push(edge.from);
    else index.backwardOf.set(edge.to, [edge.from]);
  }
  for (const [key, entry] of graph.columns) {
    const at = key.lastIndexOf('#');
    const dataset = key.slice(0, at);
    const list = index.columnsOf.get(dataset) ?? [];
    list.push({ table: graph.nodes.get(dataset)?.name ?? dataset, column: key.slice(at + 1), ...entry });
    index.columnsOf.set(dataset, list);
  }
  indexes.set(graph, index);
  return index;
}

/** The column entries on the paths into (up) and out of (down) one column. */
function columnsAround(
  all: ColumnLineageOut[],
  table: string,
  column: string,
  direction: LineageQuery['direction'],
): ColumnLineageOut[] {
  const key = (t: string, c: string) => `${t}#${c}`;
  const byKey = new Map(all.map((c) => [key(c.table, c.column), c]));
  const kept = new Set<string>();
  const up = (k: string) => {
    const entry = byKey.get(k);
    if (!entry || kept.has(k)) return;
    kept.add(k);
    for (const s of entry.sources) up(key(s.table, s.column));
  };
  const down = (k: string) => {
    for (const entry of all) {
      const here = key(entry.table, entry.column);
      if (!kept.has(here) && entry.sources.some((s) => key(s.table, s.column) === k)) {
        kept.add(here);
        down(here);
      }
    }
  };
  if (direction !== 'down') up(key(table, column));
  if (direction !== 'up') {
    if (byKey.has(key(table, column))) kept.add(key(table, column));
    down(key(table, column));
  }
  return all.filter((c) => kept.has(key(c.table, c.column)));
}

function dedupeEdges(edges: LineageEdge[]): LineageEdge[] {
  const seen = new Set<string>();
  return edges.filter((e) => {
    const k = `${e.from}>${e.to}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
