// The columns of every node's output, for the builder's editor (autocomplete, checks of names): from
// the newest run that kept that step's table, when the step and everything upstream of it are as
// that run ran them; else inferred without running (the node type's `describe`: a file's header
// and sample, a table's catalog, a `LIMIT 0` query over the inputs' columns); else unknown, saying
// why. Inference runs under the project's warehouse role and reads only the project's own files;
// it never resolves a secret, so a node that needs one is known only from a run.
import type { ColumnInfo, DescribeContext } from '@tributary/activities';
import { isPgError, SqlDescribeError, StepError, formatSqlProblem } from '@tributary/activities';
import type pg from 'pg';
import type { RunsClient } from '../client/runs.js';
import { canonicalJson } from '../compiler/canonical.js';
import { parseConfig } from '@tributary/activities';
import type { NodeCatalog, NodeConfigs } from '../compiler/compile.js';
import type { Logger } from '../infra/logger.js';
import type { Pipeline, PipelineNode } from '../model/pipeline.schema.js';
import { stagingSchemaOfRun } from '../model/run-ids.js';
import type { DraftStore } from '../store/drafts.store.js';
import type { PipelineStore } from '../store/pipelines.store.js';
import { KEPT_PREFIX } from '../warehouse/kept-staging.js';
import { describeContextFor, type DescribeDeps } from './describe-context.js';

export interface NodeSchema {
  columns: ColumnInfo[] | null;
  source: 'run' | 'inferred' | 'unknown';
  runId?: string;
  message?: string;
}

export interface OutputSchemaDeps {
  catalog: NodeCatalog;
  /** How to describe under the project's role; undefined when the API has no runner connection. */
  describeContext: DescribeContext | undefined;
  /** Kept outputs of the pipeline's recent runs; undefined for a document not stored as a pipeline. */
  kept: KeptOutputs | undefined;
  log: Logger;
  /** The nodes' configs parsed already (validate's one parse), by position in the document. */
  configs?: NodeConfigs;
}

/** The kept step tables of a stored pipeline's recent runs, and the documents those runs ran. */
export interface KeptOutputs {
  /** Newest first: each run that kept its staging, its step tables' columns, what it ran. */
  runs: { runId: string; pipelineVersion: number; draft?: boolean; tables: Map<string, ColumnInfo[]> }[];
  versionDocument(version: number): Promise<Pipeline | undefined>;
  /** The document a draft run ran, when it was recorded. */
  draftDocument?(runId: string): Promise<Pipeline | undefined>;
}

export interface DocumentSchemaDeps {
  catalog: NodeCatalog;
  describe: DescribeDeps | undefined;
  runs: RunsClient;
  warehousePool: pg.Pool;
  pipelines: PipelineStore;
  /** Where draft runs' documents are kept: with it, draft runs' outputs count too. */
  drafts?: Pick<DraftStore, 'runDocuments'>;
  log: Logger;
}

/**
 * The schemas of a document's nodes. `storedAs` is the stored pipeline it is an edit of (already
 * authorised, same project): its runs' kept outputs are used. Without it, everything is inferred.
 */
export async function documentSchemas(
  deps: DocumentSchemaDeps,
  pipeline: Pipeline,
  storedAs?: string,
  configs?: NodeConfigs,
): Promise<Record<string, NodeSchema>> {
  return outputSchemas(pipeline, {
    catalog: deps.catalog,
    ...(configs ? { configs } : {}),
    describeContext: deps.describe ? describeContextFor(deps.describe, pipeline) : undefined,
    kept: storedAs
      ? await keptOutputs(deps.runs, deps.warehousePool, deps.pipelines, storedAs, deps.drafts)
      : undefined,
    log: deps.log,
  });
}

/** How many recent runs are looked at for kept outputs. */
const RECENT_RUNS = 20;

export async function outputSchemas(
  pipeline: Pipeline,
  deps: OutputSchemaDeps,
): Promise<Record<string, NodeSchema>> {
  const nodes = new Map(pipeline.nodes.map((n) => [n.id, n]));
  const upstream = new Map<string, string[]>(pipeline.nodes.map((n) => [n.id, []]));
  for (const edge of pipeline.edges) {
    if (nodes.has(edge.from) && nodes.has(edge.to)) upstream.get(edge.to)!.push(edge.from);
  }
  const fresh = await freshness(pipeline, upstream, deps.kept);
  const parsed = new Map(pipeline.nodes.map((node, i) => [node, deps.configs?.[i]]));
  const results = new Map<string, Promise<NodeSchema>>();

  // `path` holds the nodes being described downstream of this one: meeting one again is a cycle
  // (checked before the memo, whose pending promise would then wait on itself).
  const schemaOf = (id: string, path: ReadonlySet<string>): Promise<NodeSchema> => {
    if (path.has(id)) return Promise.resolve(unknown('it is on a cycle of the graph'));
    let result = results.get(id);
    if (!result) {
      result = describeNode(nodes.get(id)!, new Set([...path, id]));
      results.set(id, result);
    }
    return result;
  };

  const describeNode = async (node: PipelineNode, path: ReadonlySet<string>): Promise<NodeSchema> => {
    const entry = deps.catalog.get(node.type);
    if (!entry) return unknown(`unknown node type "${node.type}"`);
    if (entry.kind === 'sink') return unknown('a sink writes outside the pipeline; it has no output table');
    const kept = fresh.get(node.id);
    if (kept) return { columns: kept.columns, source: 'run', runId: kept.runId };
    if (!entry.describe) {
      return unknown(
        `${node.type} is read when the pipeline runs: its columns are known once a run keeps its output ` +
          '("settings": { "keepStaging": true })',
      );
    }
    if (!deps.describeContext) return unknown('this server cannot reach the warehouse to describe it');
    const config = parsed.get(node) ?? parseConfig(entry.config, node.config);
    if (!config.success) {
      const issue = config.issues[0]!;
      return unknown(`its config is not valid (${issue.path.join('.') || 'config'}: ${issue.message})`);
    }
    const inputs: Record<string, ColumnInfo[]> = {};
    for (const input of upstream.get(node.id)!) {
      const schema = await schemaOf(input, path);
      if (!schema.columns) return unknown(`the columns of its input "${input}" are not known`);
      inputs[input] = schema.columns;
    }
    try {
      const columns = await entry.describe(deps.describeContext, config.data, inputs);
      return { columns, source: 'inferred' };
    } catch (error) {
      if (error instanceof SqlDescribeError) return unknown(formatSqlProblem(error.problem));
      if (error instanceof StepError || isPgError(error)) return unknown(error.message);
      deps.log.warn('describing a node failed', { node: node.id, error: (error as Error)?.message });
      return unknown('its columns could not be found without a run');
    }
  };

  const entries = await Promise.all(
    pipeline.nodes.map(async (n) => [n.id, await schemaOf(n.id, new Set())] as const),
  );
  return Object.fromEntries(entries);
}

const unknown = (message: string): NodeSchema => ({ columns: null, source: 'unknown', message });

/**
 * Each node whose kept table (in the newest run that has one) still describes it: the run ran the
 * same node (type, config, inputs) and every node upstream of it is fresh too.
 */
async function freshness(
  pipeline: Pipeline,
  upstream: Map<string, string[]>,
  kept: KeptOutputs | undefined,
): Promise<Map<string, { runId: string; columns: ColumnInfo[] }>> {
  const found = new Map<string, { runId: string; columns: ColumnInfo[] }>();
  if (!kept || kept.runs.length === 0) return found;
  // What a candidate's run ran: a version (shared by its runs), or a draft run's own document.
  const versions = new Map<string, Promise<Map<string, string> | undefined>>();
  const signaturesOf = (candidate: { runId: string; version: number; draft: boolean }) => {
    const key = candidate.draft ? `run:${candidate.runId}` : `v:${candidate.version}`;
    let signatures = versions.get(key);
    if (!signatures) {
      const document = candidate.draft
        ? (kept.draftDocument?.(candidate.runId) ?? Promise.resolve(undefined))
        : kept.versionDocument(candidate.version);
      signatures = document.then((doc) => doc && nodeSignatures(doc));
      versions.set(key, signatures);
    }
    return signatures;
  };
  const current = nodeSignatures(pipeline);
  const candidates = new Map<
    string,
    { runId: string; version: number; draft: boolean; columns: ColumnInfo[] }
  >();
  for (const node of pipeline.nodes) {
    const run = kept.runs.find((r) => r.tables.has(node.id));
    if (run)
      candidates.set(node.id, {
        runId: run.runId,
        version: run.pipelineVersion,
        draft: run.draft === true,
        columns: run.tables.get(node.id)!,
      });
  }
  const memo = new Map<string, Promise<boolean>>();
  const isFresh = (id: string, seen: Set<string>): Promise<boolean> => {
    const known = memo.get(id);
    if (known) return known;
    const result = (async () => {
      const candidate = candidates.get(id);
      if (!candidate || seen.has(id)) return false;
      const then = await signaturesOf(candidate);
      if (then?.get(id) !== current.get(id)) return false;
      const next = new Set([...seen, id]);
      for (const input of upstream.get(id) ?? []) if (!(await isFresh(input, next))) return false;
      return true;
    })();
    memo.set(id, result);
    return result;
  };
  for (const [id, candidate] of candidates) {
    if (await isFresh(id, new Set())) found.set(id, { runId: candidate.runId, columns: candidate.columns });
  }
  return found;
}

/** What makes a node's output what it is: its type, config, inputs and whether it runs. */
function nodeSignatures(pipeline: Pipeline): Map<string, string> {
  const inputs = new Map<string, string[]>();
  for (const edge of pipeline.edges) inputs.set(edge.to, [...(inputs.get(edge.to) ?? []), edge.from]);
  return new Map(
    pipeline.nodes.map((n) => [
      n.id,
      canonicalJson({
        type: n.type,
        config: n.config,
        disabled: n.disabled ?? false,
        inputs: [...(inputs.get(n.id) ?? [])].sort(),
      }),
    ]),
  );
}

/**
 * The kept staging of the pipeline's recent runs, read from the warehouse catalog as its owner
 * (the run's staging belongs to the pipeline's project, whose pipeline this is).
 */
export async function keptOutputs(
  runs: RunsClient,
  warehouse: pg.Pool,
  pipelines: PipelineStore,
  pipelineId: string,
  drafts?: Pick<DraftStore, 'runDocuments'>,
): Promise<KeptOutputs> {
  // A branch run ran its branch's copy, which main's versions do not hold: only main's runs count.
  // A draft run counts when the document it ran was recorded (121_draft_run_documents.sql): the
  // editor runs the draft, and its panels should know the columns that run produced.
  const listed = (await runs.list({ pipelineId, limit: RECENT_RUNS })).runs.filter(
    (r) => r.pipelineId === pipelineId && !r.branch,
  );
  const draftDocuments = drafts
    ? await drafts.runDocuments(
        pipelineId,
        listed.filter((r) => r.draft).map((r) => r.runId),
      )
    : new Map<string, Pipeline>();
  const recent = listed.filter((r) => !r.draft || draftDocuments.has(r.runId));
  const bySchema = new Map(
    recent.flatMap((r) => {
      const schema = stagingSchemaOfRun(r.runId);
      return schema ? [[schema, r] as const] : [];
    }),
  );
  const tables = new Map<string, Map<string, ColumnInfo[]>>();
  if (bySchema.size > 0) {
    const { rows } = await warehouse.query<{ schema: string; table: string; name: string; type: string }>(
      `select n.nspname as schema, c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type
         from pg_namespace n
         join pg_class c on c.relnamespace = n.oid and c.relkind in ('r', 'p')
         join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = any($1) and obj_description(n.oid, 'pg_namespace') like $2
        order by n.nspname, c.relname, a.attnum`,
      [[...bySchema.keys()], `${KEPT_PREFIX}%`],
    );
    for (const row of rows) {
      const runTables = tables.get(row.schema) ?? new Map<string, ColumnInfo[]>();
      tables.set(row.schema, runTables);
      runTables.set(row.table, [...(runTables.get(row.table) ?? []), { name: row.name, type: row.type }]);
    }
  }
  return {
    runs: [...bySchema.entries()]
      .filter(([schema]) => tables.has(schema))
      .map(([schema, run]) => ({
        runId: run.runId,
        pipelineVersion: run.pipelineVersion,
        draft: run.draft,
        tables: tables.get(schema)!,
      })),
    versionDocument: async (version) => (await pipelines.version(pipelineId, version))?.document,
    draftDocument: (runId) => Promise.resolve(draftDocuments.get(runId)),
  };
}
