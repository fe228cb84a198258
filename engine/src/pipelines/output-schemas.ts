// The columns of every node's output, for the builder's editor (autocomplete, checks of names): from
// the newest run that knew that step's output — the table it kept, or the columns the step reported
// (types that cannot describe themselves, e.g. Python steps, report them after every run) — when the
// step and everything upstream of it are as that run ran them; else inferred without running (the
// node type's `describe`: a file's header and sample, a table's catalog, a `LIMIT 0` query over the
// inputs' columns); else unknown, saying why. Inference runs under the project's warehouse role and
// reads only the project's own files; it never resolves a secret, so a node that needs one is known
// only from a run.
import type { ColumnInfo, DescribeContext } from '@tributary/activities';
import { isPgError, SqlDescribeError, StepError, formatSqlProblem } from '@tributary/activities';
import type pg from 'pg';
import { RunNotFoundError, type RunsClient } from '../client/runs.js';
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
  /** Why the columns are unknown; or, for a run's, that it reported only the first of them. */
  message?: string;
}

export interface OutputSchemaDeps {
  catalog: NodeCatalog;
  /** How to describe under the project's role; undefined when the API has no runner connection. */
  describeContext: DescribeContext | undefined;
  /** What the pipeline's recent runs knew of its outputs; undefined for a document not stored as a pipeline. */
  runs: RunOutputs | undefined;
  log: Logger;
  /** The nodes' configs parsed already (validate's one parse), by position in the document. */
  configs?: NodeConfigs;
  /** Only these nodes are answered for (and what they need); all of them when absent. */
  only?: ReadonlySet<string>;
}

/** The outputs of a stored pipeline's recent runs, and the documents those runs ran. */
export interface RunOutputs {
  /** Newest first: the runs whose outputs may be known. */
  runs: RunOutput[];
  versionDocument(version: number): Promise<Pipeline | undefined>;
  /** The document a draft run ran, when it was recorded. */
  draftDocument?(runId: string): Promise<Pipeline | undefined>;
}

export interface RunOutput {
  runId: string;
  pipelineVersion: number;
  draft?: boolean;
  /** Its kept step tables' columns (a run that kept its staging), read from the warehouse catalog. */
  tables: Map<string, ColumnInfo[]>;
  /**
   * The columns its steps reported (run detail, `columns`), read only when asked for: a step that
   * succeeded, node id → columns and, when it had more than it reported, how many.
   */
  reported?: () => Promise<Map<string, { columns: ColumnInfo[]; total?: number }>>;
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
    runs: storedAs
      ? await runOutputs(deps.runs, deps.warehousePool, deps.pipelines, storedAs, deps.drafts, deps.log)
      : undefined,
    log: deps.log,
  });
}

/** How many recent runs are looked at for their outputs. */
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
  const fromRun = fromRuns(pipeline, upstream, deps.runs, (node) => {
    const entry = deps.catalog.get(node.type);
    // Only the types that cannot describe themselves report their columns (create-activities.ts).
    return entry !== undefined && entry.kind !== 'sink' && !entry.describe;
  });
  const parsed = new Map(pipeline.nodes.map((node, i) => [node, deps.configs?.[i]]));
  const results = new Map<string, Promise<NodeSchema>>();

  // A node on a cycle is answered at once, so a node waits (on the memo) only for its upstream, never
  // on itself, however the waits interleave.
  const cyclic = onCycles(upstream);
  const schemaOf = (id: string): Promise<NodeSchema> => {
    if (cyclic.has(id)) return Promise.resolve(unknown('it is on a cycle of the graph'));
    let result = results.get(id);
    if (!result) {
      result = describeNode(nodes.get(id)!);
      results.set(id, result);
    }
    return result;
  };

  const describeNode = async (node: PipelineNode): Promise<NodeSchema> => {
    const entry = deps.catalog.get(node.type);
    if (!entry) return unknown(`unknown node type "${node.type}"`);
    if (entry.kind === 'sink') return unknown('a sink writes outside the pipeline; it has no output table');
    const known = await fromRun(node.id);
    if (known) {
      return {
        columns: known.columns,
        source: 'run',
        runId: known.runId,
        ...(known.total !== undefined
          ? { message: `the run reported the first ${known.columns.length} of its ${known.total} columns` }
          : {}),
      };
    }
    if (!entry.describe) {
      return unknown(
        `${node.type} tells its columns only by running: they are known after a run in which this ` +
          'step, as it is now, succeeded',
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
      const schema = await schemaOf(input);
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
    pipeline.nodes
      .filter((n) => !deps.only || deps.only.has(n.id))
      .map(async (n) => [n.id, await schemaOf(n.id)] as const),
  );
  return Object.fromEntries(entries);
}

const unknown = (message: string): NodeSchema => ({ columns: null, source: 'unknown', message });

/** The nodes that reach themselves through their inputs. */
function onCycles(upstream: Map<string, string[]>): Set<string> {
  const cyclic = new Set<string>();
  for (const start of upstream.keys()) {
    const seen = new Set<string>();
    const stack = [...(upstream.get(start) ?? [])];
    for (let at = stack.pop(); at !== undefined; at = stack.pop()) {
      if (at === start) {
        cyclic.add(start);
        break;
      }
      if (seen.has(at)) continue;
      seen.add(at);
      stack.push(...(upstream.get(at) ?? []));
    }
  }
  return cyclic;
}

/**
 * A node's output as the newest run knew it in which the node and everything upstream of it were
 * as the document has them now (type, config, inputs, whether disabled): the table that run kept,
 * else the columns the step reported (for the types `reports` says report them). Asked per node,
 * lazily: a run's reported columns are read only for a node whose upstream that run ran unchanged.
 */
function fromRuns(
  pipeline: Pipeline,
  upstream: Map<string, string[]>,
  outputs: RunOutputs | undefined,
  reports: (node: PipelineNode) => boolean,
): (id: string) => Promise<{ runId: string; columns: ColumnInfo[]; total?: number } | undefined> {
  if (!outputs || outputs.runs.length === 0) return () => Promise.resolve(undefined);
  const nodes = new Map(pipeline.nodes.map((n) => [n.id, n]));
  const current = nodeSignatures(pipeline);
  // What a run ran: a version (shared by its runs), or a draft run's own document.
  const documents = new Map<string, Promise<Map<string, string> | undefined>>();
  const documentKey = (run: RunOutput) => (run.draft ? `run:${run.runId}` : `v:${run.pipelineVersion}`);
  const signaturesOf = (run: RunOutput) => {
    const key = documentKey(run);
    let signatures = documents.get(key);
    if (!signatures) {
      const document = run.draft
        ? (outputs.draftDocument?.(run.runId) ?? Promise.resolve(undefined))
        : outputs.versionDocument(run.pipelineVersion);
      signatures = document.then((doc) => doc && nodeSignatures(doc));
      documents.set(key, signatures);
    }
    return signatures;
  };
  const reported = new Map<string, ReturnType<NonNullable<RunOutput['reported']>>>();
  const reportedBy = (run: RunOutput) => {
    let found = reported.get(run.runId);
    if (!found) {
      found = run.reported!();
      reported.set(run.runId, found);
    }
    return found;
  };
  // Whether a node and everything upstream of it are in a run's document as they are now, by the
  // document's key: each node is compared once per document, however many nodes below ask.
  const unchanged = new Map<string, Map<string, boolean>>();
  const unchangedIn = (key: string, then: Map<string, string>, id: string): boolean => {
    let known = unchanged.get(key);
    if (!known) {
      known = new Map();
      unchanged.set(key, known);
    }
    const answers = known;
    const visit = (at: string, path: Set<string>): boolean => {
      const answer = answers.get(at);
      if (answer !== undefined) return answer;
      if (path.has(at)) return false; // on a cycle: never claimed (its columns are unknown anyway)
      path.add(at);
      let same = then.get(at) === current.get(at);
      for (const input of upstream.get(at) ?? []) if (same && !visit(input, path)) same = false;
      path.delete(at);
      answers.set(at, same);
      return same;
    };
    return visit(id, new Set());
  };
  return async (id) => {
    const node = nodes.get(id);
    if (!node) return undefined;
    const reportsColumns = reports(node);
    for (const run of outputs.runs) {
      const kept = run.tables.get(id);
      if (!kept && !(reportsColumns && run.reported)) continue;
      const then = await signaturesOf(run);
      if (!then || !unchangedIn(documentKey(run), then, id)) continue;
      if (kept) return { runId: run.runId, columns: kept };
      const step = (await reportedBy(run)).get(id);
      if (step)
        return {
          runId: run.runId,
          columns: step.columns,
          ...(step.total !== undefined ? { total: step.total } : {}),
        };
    }
    return undefined;
  };
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
 * What the pipeline's recent runs knew of their outputs: their kept staging, read from the warehouse
 * catalog as its owner (the run's staging belongs to the pipeline's project, whose pipeline this
 * is), and the columns their steps reported, from each run's detail when first asked for.
 */
export async function runOutputs(
  runs: Pick<RunsClient, 'list' | 'get'>,
  warehouse: pg.Pool,
  pipelines: PipelineStore,
  pipelineId: string,
  drafts?: Pick<DraftStore, 'runDocuments'>,
  log?: Logger,
): Promise<RunOutputs> {
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
  const schemaOf = new Map(
    recent.flatMap((r) => {
      const schema = stagingSchemaOfRun(r.runId);
      return schema ? [[r.runId, schema] as const] : [];
    }),
  );
  const tables = new Map<string, Map<string, ColumnInfo[]>>();
  if (schemaOf.size > 0) {
    const { rows } = await warehouse.query<{ schema: string; table: string; name: string; type: string }>(
      `select n.nspname as schema, c.relname as table, a.attname as name, format_type(a.atttypid, a.atttypmod) as type
         from pg_namespace n
         join pg_class c on c.relnamespace = n.oid and c.relkind in ('r', 'p')
         join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = any($1) and obj_description(n.oid, 'pg_namespace') like $2
        order by n.nspname, c.relname, a.attnum`,
      [[...schemaOf.values()], `${KEPT_PREFIX}%`],
    );
    for (const row of rows) {
      const runTables = tables.get(row.schema) ?? new Map<string, ColumnInfo[]>();
      tables.set(row.schema, runTables);
      runTables.set(row.table, [...(runTables.get(row.table) ?? []), { name: row.name, type: row.type }]);
    }
  }
  // A run whose steps may have reported columns: one that ran to its end (a failed run's steps that
  // succeeded did too). A running or cancelled run's detail is a query to its workflow: not asked.
  const ended = (status: string) =>
    status === 'succeeded' || status === 'succeeded_with_warnings' || status === 'failed';
  return {
    runs: recent
      .map((run): RunOutput => {
        const schema = schemaOf.get(run.runId);
        return {
          runId: run.runId,
          pipelineVersion: run.pipelineVersion,
          draft: run.draft,
          tables: (schema && tables.get(schema)) || new Map(),
          ...(ended(run.status) ? { reported: () => reportedColumns(runs, run.runId, log) } : {}),
        };
      })
      .filter((run) => run.tables.size > 0 || run.reported),
    versionDocument: async (version) => (await pipelines.version(pipelineId, version))?.document,
    draftDocument: (runId) => Promise.resolve(draftDocuments.get(runId)),
  };
}

/** The columns a run's steps reported, by node id: only of steps that succeeded in it. */
async function reportedColumns(
  runs: Pick<RunsClient, 'get'>,
  runId: string,
  log: Logger | undefined,
): Promise<Map<string, { columns: ColumnInfo[]; total?: number }>> {
  // A run whose history is gone (or unreadable) before its record was written tells nothing: its
  // steps' columns are then not known from it, which an answer of the editor can live with.
  const detail = await runs.get(runId).catch((error: unknown) => {
    if (!(error instanceof RunNotFoundError))
      log?.warn('a run detail was unreadable for output columns', {
        runId,
        error: (error as Error)?.message,
      });
    return undefined;
  });
  return new Map(
    Object.entries(detail?.progress?.steps ?? {}).flatMap(([id, step]) =>
      step.status === 'succeeded' && step.columns
        ? [
            [
              id,
              {
                columns: step.columns,
                ...(step.columnsTotal !== undefined ? { total: step.columnsTotal } : {}),
              },
            ] as const,
          ]
        : [],
    ),
  );
}
