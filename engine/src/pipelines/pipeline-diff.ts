// What changed between two pipeline versions: nodes added, removed or changed (down to config
// fields), edges added or removed, and params, settings and metadata changes.
import type { Pipeline, PipelineNode } from '../model/pipeline.schema.js';

export interface Change {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

export interface PipelineDiff {
  nodes: {
    added: { id: string; type: string }[];
    removed: { id: string; type: string }[];
    changed: { id: string; type: string; changes: Change[] }[];
  };
  edges: { added: string[]; removed: string[] };
  params: Change[];
  settings: Change[];
  metadata: Change[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const join = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** Leaf-level differences of two JSON values; arrays compare index by index. */
export function deepDiff(a: unknown, b: unknown, path = ''): Change[] {
  if (a === undefined && b === undefined) return [];
  if (a === undefined) return [{ path, kind: 'added', to: b }];
  if (b === undefined) return [{ path, kind: 'removed', from: a }];
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => deepDiff(a[k], b[k], join(path, k)));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) =>
      deepDiff(a[i], b[i], join(path, i)),
    ).flat();
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path, kind: 'changed', from: a, to: b }];
}

function nodeChanges(a: PipelineNode, b: PipelineNode): Change[] {
  const { position: pa, ...restA } = a;
  const { position: pb, ...restB } = b;
  const changes = deepDiff(restA, restB);
  // Moving a node on the canvas is one change, not one per coordinate.
  if (JSON.stringify(pa) !== JSON.stringify(pb)) {
    changes.push({ path: 'position', kind: pa ? (pb ? 'changed' : 'removed') : 'added', from: pa, to: pb });
  }
  return changes;
}

export function diffPipelines(from: Pipeline, to: Pipeline): PipelineDiff {
  const before = new Map(from.nodes.map((n) => [n.id, n]));
  const after = new Map(to.nodes.map((n) => [n.id, n]));
  const edgeKeys = (p: Pipeline) => new Set(p.edges.map((e) => `${e.from}->${e.to}`));
  const edgesBefore = edgeKeys(from);
  const edgesAfter = edgeKeys(to);
  return {
    nodes: {
      added: to.nodes.filter((n) => !before.has(n.id)).map((n) => ({ id: n.id, type: n.type })),
      removed: from.nodes.filter((n) => !after.has(n.id)).map((n) => ({ id: n.id, type: n.type })),
      changed: to.nodes
        .filter((n) => before.has(n.id))
        .map((n) => ({ id: n.id, type: n.type, changes: nodeChanges(before.get(n.id)!, n) }))
        .filter((n) => n.changes.length > 0),
    },
    edges: {
      added: [...edgesAfter].filter((e) => !edgesBefore.has(e)),
      removed: [...edgesBefore].filter((e) => !edgesAfter.has(e)),
    },
    params: deepDiff(from.params, to.params, 'params'),
    settings: deepDiff(from.settings, to.settings, 'settings'),
    metadata: (['name', 'description', 'project'] as const).flatMap((k) => deepDiff(from[k], to[k], k)),
  };
}
