// Maps the canvas (React Flow nodes and edges) to the engine's pipeline document and back, and
// answers graph questions the editor asks (may this edge exist? which nodes feed this one?). Pure.
import type { Edge, Node } from '@xyflow/react';
import type {
  NodeKind,
  PipelineDocument,
  PipelineEdgeDoc,
  PipelineMeta,
  PipelineNodeDoc,
} from './types.ts';

/**
 * A canvas node's data: the document's node but its id and position, which React Flow holds. Every
 * other field of the document's node is carried as it is, so none is lost between open and save.
 */
export type NodeData = Omit<PipelineNodeDoc, 'id' | 'position' | 'config'> & {
  config: Record<string, unknown>;
} & Record<string, unknown>;

/** React Flow's node `type` is the kind, so one component renders every node type of a kind. */
export type FlowNode = Node<NodeData, NodeKind>;
export type FlowEdge = Edge;

export interface FlowGraph {
  meta: PipelineMeta;
  nodes: FlowNode[];
  edges: FlowEdge[];
}

/** A node type's kind, as the node catalogue (GET /api/connectors) declares it. */
export type KindOf = (type: string) => NodeKind;

export const edgeIdOf = (from: string, to: string) => `${from}->${to}`;

/** Nodes without a stored position are laid out left to right in document order. */
function fallbackPosition(index: number) {
  return { x: 80 + index * 260, y: 120 + (index % 2) * 60 };
}

export function fromPipeline(doc: PipelineDocument, kindOf: KindOf): FlowGraph {
  const { nodes, edges, ...meta } = doc;
  const flowNodes: FlowNode[] = nodes.map((node, index) => {
    const { id: _id, position: _position, type, config, ...rest } = node;
    const data: NodeData = { type, config: structuredClone(config ?? {}) };
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined) data[key] = structuredClone(value);
    }
    return {
      id: node.id,
      type: kindOf(node.type),
      position: node.position ? { ...node.position } : fallbackPosition(index),
      data,
    };
  });
  const flowEdges: FlowEdge[] = (edges ?? []).map((edge) => ({
    id: edge.id ?? edgeIdOf(edge.from, edge.to),
    source: edge.from,
    target: edge.to,
  }));
  return { meta: structuredClone(meta), nodes: flowNodes, edges: flowEdges };
}

export function toPipeline(meta: PipelineMeta, nodes: readonly FlowNode[], edges: readonly FlowEdge[]) {
  const docNodes: PipelineNodeDoc[] = nodes.map((node) => {
    const { type, config, ...rest } = node.data;
    const out: PipelineNodeDoc = { id: node.id, type, config: structuredClone(config) };
    for (const [key, value] of Object.entries(rest)) {
      if (value !== undefined && value !== '') (out as Record<string, unknown>)[key] = structuredClone(value);
    }
    // Whole pixels: sub-pixel drags are not worth a new version.
    out.position = { x: Math.round(node.position.x), y: Math.round(node.position.y) };
    return out;
  });
  // An edge keeps an id of its own; one derived from its ends is left for the engine to derive.
  const docEdges: PipelineEdgeDoc[] = edges.map((edge) =>
    edge.id === edgeIdOf(edge.source, edge.target)
      ? { from: edge.source, to: edge.target }
      : { id: edge.id, from: edge.source, to: edge.target },
  );
  const { apiVersion: _apiVersion, ...rest } = meta;
  const doc: PipelineDocument = {
    apiVersion: 'tributary/v1',
    ...structuredClone(rest),
    nodes: docNodes,
    edges: docEdges,
  };
  return doc;
}

/** Direct upstream node ids of `nodeId`, in edge order. */
export function upstreamOf(nodeId: string, edges: readonly { source: string; target: string }[]): string[] {
  return edges.filter((e) => e.target === nodeId).map((e) => e.source);
}

/** A path from `from` to `to` following edges, or null. */
export function pathBetween(
  from: string,
  to: string,
  edges: readonly { source: string; target: string }[],
): string[] | null {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const seen = new Set<string>();
  const walk = (at: string, path: string[]): string[] | null => {
    if (at === to) return path;
    if (seen.has(at)) return null;
    seen.add(at);
    for (const n of next.get(at) ?? []) {
      const found = walk(n, [...path, n]);
      if (found) return found;
    }
    return null;
  };
  return walk(from, [from]);
}

export interface ConnectionCandidate {
  source: string | null;
  target: string | null;
}

/**
 * Why an edge from `source` to `target` may not exist, or null when it may. `maxInputs` gives the
 * input limit of a node type (from the node-type catalogue; null for no limit).
 */
export function connectionProblem(
  nodes: readonly FlowNode[],
  edges: readonly FlowEdge[],
  connection: ConnectionCandidate,
  maxInputs: (type: string) => number | null = () => null,
): string | null {
  const { source, target } = connection;
  if (!source || !target) return 'Connect an output handle to an input handle';
  if (source === target) return `"${source}" cannot feed itself`;
  const from = nodes.find((n) => n.id === source);
  const to = nodes.find((n) => n.id === target);
  if (!from || !to) return 'Both ends must be nodes on the canvas';
  if (from.type === 'sink') return `"${source}" is a sink: it has no output to connect`;
  if (to.type === 'source') return `"${target}" is a source: it takes no inputs`;
  if (edges.some((e) => e.source === source && e.target === target))
    return `"${source}" already feeds "${target}"`;
  const limit = maxInputs(to.data.type);
  const current = edges.filter((e) => e.target === target).length;
  if (limit !== null && current >= limit)
    return `"${target}" takes at most ${limit} input${limit === 1 ? '' : 's'}`;
  const back = pathBetween(target, source, edges);
  if (back) return `That would make a cycle: ${[...back, target].join(' → ')}`;
  return null;
}

/** A slug id from a base (`<kind>.<name>` → `<name>`), unique among `taken`. */
export function uniqueNodeId(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  let stem = base
    .toLowerCase()
    .replace(/^(source|transform|sink)\./, '')
    .replace(/[^a-z0-9_-]+/g, '_')
    .replace(/^[^a-z]+/, '');
  if (!stem) stem = 'node';
  stem = stem.slice(0, 56);
  if (!used.has(stem)) return stem;
  for (let i = 2; ; i++) {
    const id = `${stem}_${i}`;
    if (!used.has(id)) return id;
  }
}

export const SLUG = /^[a-z][a-z0-9_-]{0,62}$/;

/** A slug from free text: "Orders daily!" → "orders-daily". */
export function slugify(text: string): string {
  const slug = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 63);
  return slug;
}

/** Pasted nodes get fresh ids where taken (edges and `{{ inputs.x }}` follow) and are moved by `offset`. */
export function pasteFragment(
  fragment: Pick<PipelineDocument, 'nodes' | 'edges'>,
  existingIds: Iterable<string>,
  offset: { x: number; y: number },
  kindOf: KindOf,
): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const taken = new Set(existingIds);
  const renamed = new Map<string, string>();
  for (const node of fragment.nodes) {
    const id = taken.has(node.id) ? uniqueNodeId(node.id, taken) : node.id;
    taken.add(id);
    renamed.set(node.id, id);
  }
  const graph = fromPipeline(
    {
      apiVersion: 'tributary/v1',
      id: 'clipboard',
      name: 'clipboard',
      nodes: fragment.nodes.map((n) => ({
        ...n,
        id: renamed.get(n.id)!,
        config: renameInputRefs(n.config ?? {}, renamed),
      })),
      edges: (fragment.edges ?? [])
        .filter((e) => renamed.has(e.from) && renamed.has(e.to))
        .map((e) => ({ from: renamed.get(e.from)!, to: renamed.get(e.to)! })),
    },
    kindOf,
  );
  return {
    nodes: graph.nodes.map((n) => ({
      ...n,
      position: { x: n.position.x + offset.x, y: n.position.y + offset.y },
      selected: true,
    })),
    edges: graph.edges,
  };
}

/** Rewrites `{{ inputs.old }}` to `{{ inputs.new }}` in every string of a config. */
export function renameInputRefs(
  config: Record<string, unknown>,
  renamed: ReadonlyMap<string, string>,
): Record<string, unknown> {
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.replace(/\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}/g, (all, id: string) =>
        renamed.has(id) && renamed.get(id) !== id ? all.replace(id, renamed.get(id)!) : all,
      );
    }
    if (Array.isArray(value)) return value.map(visit);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    return value;
  };
  return visit(config) as Record<string, unknown>;
}

/** The document fragment of some nodes and the edges among them (for copy). */
export function fragmentOf(nodes: readonly FlowNode[], edges: readonly FlowEdge[]) {
  const ids = new Set(nodes.map((n) => n.id));
  const doc = toPipeline(
    { apiVersion: 'tributary/v1', id: 'clipboard', name: 'clipboard' },
    nodes,
    edges.filter((e) => ids.has(e.source) && ids.has(e.target)),
  );
  return { apiVersion: doc.apiVersion, nodes: doc.nodes, edges: doc.edges ?? [] };
}

/** Reads clipboard text as a fragment (a whole pipeline or `{nodes, edges}`), or null. */
export function parseFragment(text: string): Pick<PipelineDocument, 'nodes' | 'edges'> | null {
  try {
    const value = JSON.parse(text) as Partial<PipelineDocument>;
    if (!value || !Array.isArray(value.nodes)) return null;
    const nodes = value.nodes.filter(
      (n): n is PipelineNodeDoc => !!n && typeof n.id === 'string' && typeof n.type === 'string',
    );
    if (nodes.length === 0) return null;
    return { nodes, edges: Array.isArray(value.edges) ? value.edges : [] };
  } catch {
    return null;
  }
}
