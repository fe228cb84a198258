// A line diff for the side-by-side version view: longest common subsequence over lines, turned
// into aligned rows (left = older version, right = newer). Pure.

export interface DiffRow {
  left: string | null;
  right: string | null;
  kind: 'same' | 'removed' | 'added' | 'changed';
}

export function lineDiff(before: string, after: string): DiffRow[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: length of the LCS of a[i..] and b[j..]
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const raw: DiffRow[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      raw.push({ left: a[i]!, right: b[j]!, kind: 'same' });
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      raw.push({ left: null, right: b[j]!, kind: 'added' });
      j++;
    } else {
      raw.push({ left: a[i]!, right: null, kind: 'removed' });
      i++;
    }
  }
  // Between two unchanged lines, pair removals with additions (in either order): those lines changed.
  const rows: DiffRow[] = [];
  for (let k = 0; k < raw.length;) {
    if (raw[k]!.kind === 'same') {
      rows.push(raw[k]!);
      k++;
      continue;
    }
    const removed: string[] = [];
    const added: string[] = [];
    for (; k < raw.length && raw[k]!.kind !== 'same'; k++) {
      if (raw[k]!.kind === 'removed') removed.push(raw[k]!.left!);
      else added.push(raw[k]!.right!);
    }
    for (let x = 0; x < Math.max(removed.length, added.length); x++) {
      const left = removed[x] ?? null;
      const right = added[x] ?? null;
      rows.push({
        left,
        right,
        kind: left !== null && right !== null ? 'changed' : left !== null ? 'removed' : 'added',
      });
    }
  }
  return rows;
}

const TOP_ORDER = [
  'apiVersion',
  'id',
  'name',
  'project',
  'description',
  'params',
  'settings',
  'nodes',
  'edges',
];
const NODE_ORDER = [
  'id',
  'type',
  'name',
  'description',
  'config',
  'retry',
  'timeoutSeconds',
  'continueOnFailure',
  'disabled',
  'position',
];
const EDGE_ORDER = ['id', 'from', 'to'];

function ordered(value: unknown, order: readonly string[] | null): unknown {
  if (Array.isArray(value)) return value.map((v) => ordered(v, null));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort((a, b) => {
    const ia = order ? order.indexOf(a) : -1;
    const ib = order ? order.indexOf(b) : -1;
    if (ia >= 0 || ib >= 0) return (ia < 0 ? 999 : ia) - (ib < 0 ? 999 : ib);
    return a.localeCompare(b);
  });
  return Object.fromEntries(keys.map((k) => [k, ordered(obj[k], null)]));
}

/**
 * A pipeline document as pretty JSON in one canonical key order, so two versions compare line by
 * line however their store ordered the keys.
 */
export function canonicalJson(document: object): string {
  const doc = document as { nodes?: unknown[]; edges?: unknown[] };
  const top = ordered({ ...doc, nodes: undefined, edges: undefined }, TOP_ORDER) as Record<string, unknown>;
  const result = {
    ...top,
    nodes: (doc.nodes ?? []).map((n) => ordered(n, NODE_ORDER)),
    edges: (doc.edges ?? []).map((e) => ordered(e, EDGE_ORDER)),
  };
  return JSON.stringify(result, null, 2);
}

/**
 * The canonical document as text to read and compare: JSON, except that a string of several lines
 * (SQL, Python) is shown as its lines under `key: |`, so a diff shows the changed line of SQL rather
 * than one escaped string that differs somewhere.
 */
export function readableDocument(document: object): string {
  const blocks: string[] = [];
  const json = JSON.stringify(
    JSON.parse(canonicalJson(document)),
    (_key, value: unknown) => {
      if (typeof value === 'string' && value.includes('\n')) {
        blocks.push(value);
        return `\u0000block:${blocks.length - 1}`;
      }
      return value;
    },
    2,
  );
  return json
    .split('\n')
    .flatMap((line) => {
      const found = /^(\s*)(.*?)"\\u0000block:(\d+)",?$/.exec(line);
      if (!found) return [line];
      const [, indent, prefix, index] = found;
      const body = blocks[Number(index)]!.replace(/\n$/, '').split('\n');
      return [`${indent}${prefix}|`, ...body.map((l) => `${indent}    ${l}`)];
    })
    .join('\n');
}
