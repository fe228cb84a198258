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
  type LineageContext,
  type NodeLineage,
  type NodeTypeDeclaration,
  type RelationRef,
} from '@tributary/activities';
import { parse } from 'libpg-query';

export type DatasetKind = 'table' | 'file' | 'url' | 'external';

export interface LineageNode {
  id: string;
  kind: DatasetKind | 'step';
  name: string;
  project?: string;
  pipelineId?: string;
  nodeId?: string;
  type?: string;
  columns?: string[];
}

export interface LineageEdge {
  from: string;
  to: string;
}

export interface ColumnSourceOut {
  table: string;
  column: string;
  transformation: 'direct' | 'derived';
}

export interface ColumnLineageOut {
  table: string;
  column: string;
  sources: ColumnSourceOut[];
}

export interface LineageGraph {
  nodes: Map<string, LineageNode>;
  edges: LineageEdge[];
  /** Keyed by `<dataset id>#<column>`: the columns of other datasets it is computed from. */
  columns: Map<string, ColumnSourceOut[]>;
  /** Steps whose column lineage could not be worked out completely, and why. */
  problems: string[];
}

export interface PipelineForLineage {
  id: string;
  project: string;
  nodes: { id: string; type: string; config?: Record<string, unknown> }[];
  edges: { from: string; to: string }[];
}

export interface LineageCatalog {
  /** Known columns of a warehouse table `schema.table`, in order; undefined when unknown. */
  tableColumns(table: string): string[] | undefined;
  /** The table of a data product. */
  productTable(id: string): string | undefined;
}

type Sources = Map<string, ColumnSourceOut[]>;

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

/** Schema-qualified tables a SQL statement names (its `{{ inputs.x }}` are steps, not tables). */
async function tablesIn(sql: string): Promise<string[]> {
  const text = sql
    .replace(/\{\{\s*inputs\.[A-Za-z0-9_-]+\s*\}\}/g, 'tributary_input')
    .replace(/\{\{[^}]*\}\}/g, 'null');
  try {
    const tree = await parse(text);
    const found = new Set<string>();
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (value && typeof value === 'object') {
        for (const [key, child] of Object.entries(value)) {
          const ref = child as { schemaname?: string; relname?: string };
          if (key === 'RangeVar' && ref.schemaname && ref.relname)
            found.add(`${ref.schemaname}.${ref.relname}`);
          visit(child);
        }
      }
    };
    visit(tree);
    return [...found];
  } catch {
    return [];
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

const derive = (sources: ColumnSourceOut[]): ColumnSourceOut[] =>
  sources.map((s) => ({ ...s, transformation: 'derived' }));

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
      const declared = lineageOf(nodeTypes, node, ctx(pipeline.project));
      const origin = declared.columns;
      const out: Sources = new Map();

      for (const dataset of declared.reads ?? []) {
        if (dataset.kind === 'table') addTable(dataset.name);
        else addNode({ id: datasetId(dataset), kind: dataset.kind, name: dataset.name });
        graph.edges.push({ from: datasetId(dataset), to: id });
      }
      const read = declared.reads?.[0];
      if (origin?.from === 'read' && read) {
        const known = read.kind === 'table' ? catalog.tableColumns(read.name) : read.columns;
        for (const column of known ?? [])
          out.set(column, [{ table: read.name, column, transformation: 'direct' }]);
      } else if (origin?.from === 'made') {
        for (const column of origin.columns) out.set(column, []);
      } else if (origin?.from === 'sql') {
        for (const table of await tablesIn(origin.sql)) {
          graph.edges.push({ from: addTable(table), to: id });
        }
        const ownSchema = defaultSchemaOf(pipeline.project);
        const lineage = await columnLineage(
          origin.sql,
          (ref: RelationRef) =>
            ref.kind === 'input'
              ? outputs.has(ref.node)
                ? [...outputs.get(ref.node)!.keys()]
                : undefined
              : catalog.tableColumns(`${ref.schema || ownSchema}.${ref.table}`),
          { defaultSchema: ownSchema },
        );
        if (!lineage.complete)
          graph.problems.push(...lineage.problems.map((p: string) => `${pipeline.id}.${node.id}: ${p}`));
        for (const column of lineage.columns) {
          for (const source of column.sources) {
            if (source.relation.kind === 'table') {
              const name = `${source.relation.schema || ownSchema}.${source.relation.table}`;
              graph.edges.push({ from: addTable(name), to: id });
            }
          }
          const sources: ColumnSourceOut[] = [];
          for (const source of column.sources) {
            const through =
              source.relation.kind === 'input'
                ? (outputs.get(source.relation.node)?.get(source.column) ?? [])
                : [
                    {
                      table: `${source.relation.schema || defaultSchemaOf(pipeline.project)}.${source.relation.table}`,
                      column: source.column,
                      transformation: 'direct' as const,
                    },
                  ];
            sources.push(...(source.transformation === 'derived' ? derive(through) : through));
          }
          out.set(column.name, dedupe(sources));
        }
      } else if (origin?.from === 'input') {
        // Passes its input on (a gate) or writes it out (a sink): columns carry through unchanged.
        const input = outputs.get(inputsOf(node.id)[0] ?? '');
        for (const [column, sources] of input ?? []) out.set(column, sources);
      }
      graph.nodes.get(id)!.columns = [...out.keys()];
      outputs.set(node.id, out);

      for (const dataset of declared.writes ?? []) {
        if (dataset.kind === 'table') addTable(dataset.name);
        else addNode({ id: datasetId(dataset), kind: dataset.kind, name: dataset.name });
        graph.edges.push({ from: id, to: datasetId(dataset) });
        const target = graph.nodes.get(datasetId(dataset))!;
        target.columns = [...new Set([...(target.columns ?? []), ...out.keys()])];
        for (const [column, sources] of out) {
          const key = `${datasetId(dataset)}#${column}`;
          graph.columns.set(key, dedupe([...(graph.columns.get(key) ?? []), ...sources]));
        }
      }
    }
  }
  return graph;
}

function dedupe(sources: ColumnSourceOut[]): ColumnSourceOut[] {
  const seen = new Map<string, ColumnSourceOut>();
  for (const source of sources) {
    const key = `${source.table}#${source.column}`;
    const known = seen.get(key);
    // Reached both directly and through an expression: it is derived.
    if (!known || source.transformation === 'derived')
      seen.set(key, known && known.transformation === 'derived' ? known : source);
  }
  return [...seen.values()];
}

export interface LineageQuery {
  table: string;
  column?: string;
  direction: 'up' | 'down' | 'both';
  depth: number;
}

/** The part of the graph around one table (and optionally one column), `depth` datasets away. */
export function queryLineage(graph: LineageGraph, query: LineageQuery) {
  const start = tableId(query.table);
  const keep = new Set<string>([start]);
  const walk = (forward: boolean) => {
    let frontier = [start];
    // Each dataset hop passes through one step: two node hops per level of depth.
    for (let hop = 0; hop < query.depth * 2 && frontier.length > 0; hop++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const edge of graph.edges) {
          const [here, there] = forward ? [edge.from, edge.to] : [edge.to, edge.from];
          if (here === id && !keep.has(there)) {
            keep.add(there);
            next.push(there);
          }
        }
      }
      frontier = next;
    }
  };
  if (query.direction !== 'down') walk(false);
  if (query.direction !== 'up') walk(true);
  const nodes = [...keep].map((id) => graph.nodes.get(id)).filter((n): n is LineageNode => n !== undefined);
  const edges = dedupeEdges(graph.edges.filter((e) => keep.has(e.from) && keep.has(e.to)));
  const tables = new Set(nodes.filter((n) => n.kind !== 'step').map((n) => n.name));
  let columns: ColumnLineageOut[] = [...graph.columns.entries()]
    .map(([key, sources]) => {
      const [dataset, column] = [key.slice(0, key.lastIndexOf('#')), key.slice(key.lastIndexOf('#') + 1)];
      return { table: graph.nodes.get(dataset)?.name ?? dataset, column, sources };
    })
    .filter((c) => tables.has(c.table));
  if (query.column) columns = columnsAround(columns, query.table, query.column, query.direction);
  return { nodes, edges, columns, problems: graph.problems };
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
