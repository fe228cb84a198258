// A pipeline on disk: `<dir>/<pipeline-id>/pipeline.yaml` holds the document, and every SQL text in
// a node's config (a field named `sql`) lives in its own `.sql` file that the YAML names as
// `sql: { file: clean.sql }`, so a review of a change reads like the change. A `.sql` file holds
// the SQL followed by one newline; reading strips that newline, so the round trip is exact.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, stringify, isNode } from 'yaml';
import type { NodeCatalog } from '../compiler/compile.js';
import { canonicalJson, sha256 } from '../compiler/canonical.js';
import { PipelineSchema } from '../model/pipeline.schema.js';

export const PIPELINE_FILE = 'pipeline.yaml';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A path into the document as segments: `nodes[1].config.sql` → ['nodes', 1, 'config', 'sql']. */
export function pathSegments(p: string): (string | number)[] {
  return [...p.matchAll(/[^.[\]]+/g)].map(([s]) => (/^\d+$/.test(s) ? Number(s) : s));
}
const pathKey = (segments: readonly (string | number)[]) => segments.join('/');

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
  'disabled',
  'config',
  'retry',
  'timeoutSeconds',
  'statementTimeoutSeconds',
  'continueOnFailure',
  'position',
];
const PARAM_ORDER = ['type', 'description', 'default', 'required', 'sensitive'];
const EDGE_ORDER = ['id', 'from', 'to'];

/** The keys of `value` in `order` first, the rest alphabetically (the store's JSONB loses key order). */
function ordered(value: Json, order: readonly string[]): Json {
  const rest = Object.keys(value)
    .filter((k) => !order.includes(k))
    .sort();
  return Object.fromEntries([...order.filter((k) => k in value), ...rest].map((k) => [k, value[k]] as const));
}

/** Nested config objects: `id` and `name` first (they say what an entry is), the rest sorted. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(ordered(value, ['id', 'name'])).map(([k, v]) => [k, sortedDeep(v)]),
  );
}

/** A config in its connector's field order (the order of its form), nested objects sorted. */
function orderedConfig(config: Json, type: string, catalog: NodeCatalog): Json {
  const shape = (catalog.get(type)?.config as { shape?: Json } | undefined)?.shape;
  return Object.fromEntries(
    Object.entries(ordered(config, shape ? Object.keys(shape) : [])).map(([k, v]) => [k, sortedDeep(v)]),
  );
}

function sqlFileName(nodeId: string, segments: (string | number)[], parent: Json): string {
  if (segments.length === 1) return `${nodeId}.sql`;
  // An assertion's SQL is named after the assertion: `quality.id_not_null.sql`.
  const label =
    typeof parent.name === 'string' && /^[\w-]+$/.test(parent.name)
      ? parent.name
      : segments.slice(0, -1).join('.');
  return `${nodeId}.${label}.sql`;
}

/** Replaces every `sql` string in a config by a file reference, collecting the files. */
function externaliseSql(
  nodeId: string,
  value: unknown,
  segments: (string | number)[],
  files: Map<string, string>,
): unknown {
  if (Array.isArray(value)) return value.map((v, i) => externaliseSql(nodeId, v, [...segments, i], files));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      if (k === 'sql' && typeof v === 'string') {
        let name = sqlFileName(nodeId, [...segments, k], value);
        for (let n = 2; files.has(name); n++) name = name.replace(/(\.\d+)?\.sql$/, `.${n}.sql`);
        files.set(name, `${v}\n`);
        return [k, { file: name }];
      }
      return [k, externaliseSql(nodeId, v, [...segments, k], files)];
    }),
  );
}

/** The files of one pipeline folder (name → content) for a document as the server stores it. */
export function documentToFiles(document: Json, catalog: NodeCatalog): Map<string, string> {
  const sqlFiles = new Map<string, string>();
  const nodes = (Array.isArray(document.nodes) ? document.nodes : []).map((raw) => {
    if (!isObject(raw)) return raw;
    const node = ordered(raw, NODE_ORDER);
    if (isObject(node.config) && typeof node.id === 'string') {
      const config = orderedConfig(node.config, String(node.type), catalog);
      node.config = externaliseSql(node.id, config, [], sqlFiles);
    }
    return node;
  });
  const doc = ordered({ ...document, nodes }, TOP_ORDER);
  // Empty defaults only add noise; the schema puts them back.
  if (isObject(doc.params)) {
    if (Object.keys(doc.params).length === 0) delete doc.params;
    else
      doc.params = Object.fromEntries(
        Object.entries(doc.params).map(([k, v]) => [k, isObject(v) ? ordered(v, PARAM_ORDER) : v]),
      );
  }
  if (Array.isArray(doc.edges)) {
    if (doc.edges.length === 0) delete doc.edges;
    else doc.edges = doc.edges.map((e: unknown) => (isObject(e) ? ordered(e, EDGE_ORDER) : e));
  }
  const files = new Map([[PIPELINE_FILE, stringify(doc, { lineWidth: 0 })]]);
  for (const [name, sql] of sqlFiles) files.set(name, sql);
  return files;
}

/** Writes a pipeline folder, removing `.sql` files the document no longer refers to. */
export async function writePipelineFolder(folder: string, files: Map<string, string>): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (const name of await readdir(folder)) {
    if (name.endsWith('.sql') && !files.has(name)) await rm(path.join(folder, name));
  }
  for (const [name, content] of files) await writeFile(path.join(folder, name), content);
}

/** A problem with local files, naming the file (and line, node and field where known). */
export interface FileProblem {
  file: string;
  line?: number;
  nodeId?: string;
  field?: string;
  message: string;
}

export interface LocalPipeline {
  /** The folder name, relative to the pulled directory. */
  folder: string;
  /** The document with SQL files read in; undefined when the YAML could not be read. */
  document?: Json;
  problems: FileProblem[];
  /** Where a document path came from: `nodes/1/config/sql` → `clean.sql`; else pipeline.yaml. */
  fileOf(documentPath: string): string;
  lineOf(documentPath: string): number | undefined;
}

/** Reads `<root>/<folder>/pipeline.yaml` and the SQL files it refers to. */
export async function readPipelineFolder(root: string, folder: string): Promise<LocalPipeline> {
  const yamlFile = path.join(folder, PIPELINE_FILE);
  const text = await readFile(path.join(root, yamlFile), 'utf8');
  const lineCounter = new LineCounter();
  const parsed = parseDocument(text, { lineCounter, prettyErrors: false });
  const sources = new Map<string, string>();
  const problems: FileProblem[] = [];
  const lineOf = (documentPath: string) => {
    const segments = pathSegments(documentPath);
    // The deepest part of the path that exists in the YAML: a missing field is reported at its parent.
    for (let n = segments.length; n >= 0; n--) {
      const node = parsed.getIn(segments.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const pipeline: LocalPipeline = {
    folder,
    problems,
    fileOf: (documentPath) => sources.get(pathKey(pathSegments(documentPath))) ?? yamlFile,
    lineOf: (documentPath) =>
      sources.has(pathKey(pathSegments(documentPath))) ? undefined : lineOf(documentPath),
  };
  if (parsed.errors.length > 0) {
    for (const error of parsed.errors) {
      problems.push({ file: yamlFile, line: lineCounter.linePos(error.pos[0]).line, message: error.message });
    }
    return pipeline;
  }
  const document: unknown = parsed.toJS();
  if (!isObject(document)) {
    problems.push({
      file: yamlFile,
      line: 1,
      message: 'must be a pipeline document (a mapping with apiVersion, id, nodes, …)',
    });
    return pipeline;
  }
  const nodes = Array.isArray(document.nodes) ? document.nodes : [];
  for (const [i, node] of nodes.entries()) {
    if (!isObject(node) || !isObject(node.config)) continue;
    node.config = await resolveSqlFiles(node.config, ['nodes', i, 'config'], {
      root,
      folder,
      nodeId: typeof node.id === 'string' ? node.id : undefined,
      sources,
      problems,
      lineOf,
    });
  }
  pipeline.document = document;
  return pipeline;
}

interface ResolveContext {
  root: string;
  folder: string;
  nodeId: string | undefined;
  sources: Map<string, string>;
  problems: FileProblem[];
  lineOf(documentPath: string): number | undefined;
}

async function resolveSqlFiles(
  value: unknown,
  segments: (string | number)[],
  ctx: ResolveContext,
): Promise<unknown> {
  if (Array.isArray(value)) {
    return Promise.all(value.map((v, i) => resolveSqlFiles(v, [...segments, i], ctx)));
  }
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    const at = [...segments, k];
    if (k === 'sql' && isObject(v) && 'file' in v) {
      out[k] = await readSqlFile(v.file, at, ctx);
    } else {
      out[k] = await resolveSqlFiles(v, at, ctx);
    }
  }
  return out;
}

async function readSqlFile(file: unknown, at: (string | number)[], ctx: ResolveContext): Promise<unknown> {
  const documentPath = at
    .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
    .join('')
    .slice(1);
  const problem = (message: string) =>
    ctx.problems.push({
      file: path.join(ctx.folder, PIPELINE_FILE),
      ...(ctx.lineOf(documentPath) ? { line: ctx.lineOf(documentPath)! } : {}),
      ...(ctx.nodeId ? { nodeId: ctx.nodeId } : {}),
      field: at.slice(2).join('.'),
      message,
    });
  // Only files next to pipeline.yaml: a pipeline folder must be complete on its own.
  if (typeof file !== 'string' || path.basename(file) !== file || !file.endsWith('.sql')) {
    problem(`"file" must name a .sql file in the same folder, e.g. { file: ${ctx.nodeId ?? 'node'}.sql }`);
    return undefined;
  }
  try {
    const sql = await readFile(path.join(ctx.root, ctx.folder, file), 'utf8');
    ctx.sources.set(pathKey(at), path.join(ctx.folder, file));
    return sql.endsWith('\n') ? sql.slice(0, -1) : sql;
  } catch (error) {
    problem(
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `refers to ${file}, which does not exist in ${ctx.folder}/`
        : `cannot read ${file}: ${(error as Error).message}`,
    );
    return undefined;
  }
}

/** The folders under `root` that hold a pipeline.yaml, sorted. */
export async function listPipelineFolders(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const folders: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const names = await readdir(path.join(root, entry.name));
    if (names.includes(PIPELINE_FILE)) folders.push(entry.name);
  }
  return folders.sort();
}

/**
 * What a document is, independent of YAML layout and of defaults spelled out or not: the hash of
 * the document as the server would store it (positions included, since a save keeps them).
 */
export function contentHash(document: unknown): string {
  const parsed = PipelineSchema.safeParse(document);
  return sha256(canonicalJson(parsed.success ? parsed.data : document));
}
