// Compiles a pipeline document and run params into an ExecutionPlan. Pure and deterministic: the
// same input gives a byte-identical plan. Every problem is collected, each naming its node, edge
// or path, so the builder can show them all at once.
import {
  configSchemaDigest,
  findMalformedPlaceholders,
  parseConfig,
  findPlaceholders,
  routesOf,
  STEP_FACTS,
  stringsIn,
  type ColumnInfo,
  type ConfigParse,
  type DescribeContext,
  type FactSpec,
  type RouteOutputs,
  type UpstreamScope,
  type ValueType,
  type NodeTypeDeclaration,
} from '@tributary/activities';
import type { z } from 'zod';
import { PLAN_API_VERSION, type ExecutionPlan, type PlanStep } from '../model/plan.js';
import {
  edgeId,
  FAILURE_OUTPUT,
  PipelineSchema,
  type ParamType,
  type Pipeline,
  type PipelineNode,
} from '../model/pipeline.schema.js';
import { missingSecrets } from '../model/notifications.schema.js';
import { canonicalJson, sha256 } from './canonical.js';
import { historyBudgetErrors } from './history-budget.js';
import type { CompileError } from './errors.js';
import { resolveParams } from './params.js';

/**
 * What the platform needs to know of a node type: a connector's declaration (node-type.ts), of
 * which test catalogues may give only what compiling needs.
 */
export interface CatalogEntry {
  kind: 'source' | 'transform' | 'sink';
  config: z.ZodType;
  inputs: { min: number; max: number | null };
  /** The secret names a valid config reads (the declaration's `secrets()`). */
  secrets?(config: Record<string, unknown>): string[];
  /** The warehouse SQL in a config as written (the declaration's `sqlFields()`), checked by validate. */
  sqlFields?(config: unknown): { path: (string | number)[]; sql: string }[];
  /** The output's columns without a run (the declaration's `describe()`), for the builder. */
  describe?(
    ctx: DescribeContext,
    config: unknown,
    inputs: Record<string, ColumnInfo[]>,
  ): Promise<ColumnInfo[]>;
  /** Facts the type's steps offer to conditions besides every step's (the declaration's). */
  conditionFacts?: Record<string, FactSpec>;
  /** A deciding node's outputs (the declaration's `routes`). */
  routes?: RouteOutputs;
  /** The upstream steps a deciding node reads at run time. */
  reads?(config: never): string[];
  /** Checks a valid config against the ancestors' facts and the params (conditions). */
  checkUpstream?(config: never, scope: UpstreamScope): { path: (string | number)[]; message: string }[];
  /** What a config reads and writes outside the pipeline (the declaration's `lineage()`). */
  lineage?: NodeTypeDeclaration['lineage'];
  /** The warehouse table a sink publishes into (the declaration's `target()`). */
  target?: NodeTypeDeclaration['target'];
  /** A Python connector's probe: where its config is, checked against its cached spec on save. */
  probe?: Pick<NonNullable<NodeTypeDeclaration['probe']>, 'nodeConfig'>;
  /** The streams a node reads into tables of their own (the declaration's `streams()`). */
  streams?: NodeTypeDeclaration['streams'];
}
export interface NodeCatalog {
  get(type: string): CatalogEntry | undefined;
}

export interface CompileOptions {
  catalog: NodeCatalog;
  params?: Record<string, unknown>;
  /** False when validating a document that is not about to run: required params may be absent. */
  requireParams?: boolean;
  pipelineVersion?: number | null;
  /**
   * The names of the secrets the pipeline's project has. When given, a node whose config reads a
   * secret not among them is an error; the caller looks them up, so the compiler stays pure.
   */
  knownSecrets?: readonly string[];
  /**
   * The nodes' configs parsed already (parseNodeConfigs of this same document), so a caller that
   * needs them too (validate) parses each config once.
   */
  configs?: NodeConfigs;
}

/** Each node's config as its type's schema parsed it, by position in the document; undefined for an unknown type. */
export type NodeConfigs = readonly (ConfigParse | undefined)[];

/** Parses every node's config with its type's schema: the one parse a compile makes of each. */
export function parseNodeConfigs(pipeline: Pipeline, catalog: NodeCatalog): NodeConfigs {
  return pipeline.nodes.map((node) => {
    const entry = catalog.get(node.type);
    return entry ? parseConfig(entry.config, node.config) : undefined;
  });
}

export type CompileResult = { ok: true; plan: ExecutionPlan } | { ok: false; errors: CompileError[] };

export const STEP_DEFAULTS = {
  maximumAttempts: 3,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 60_000,
  timeoutSeconds: 3_600,
  // Steps heartbeat every 2 s (create-activities.ts); a worker that dies is noticed within 10 s, so
  // its step runs again elsewhere within ~15 s (engine/test/faults/worker-kill.faults.test.ts).
  heartbeatTimeoutSeconds: 10,
  statementTimeoutSeconds: 900,
};

export function compile(document: unknown, options: CompileOptions): CompileResult {
  const parsed = PipelineSchema.safeParse(document);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((issue) => documentError(document, issue)) };
  }
  const pipeline = parsed.data;
  const configs = options.configs ?? parseNodeConfigs(pipeline, options.catalog);
  const errors: CompileError[] = [];
  const nodeIndex = new Map<string, number>();
  pipeline.nodes.forEach((node, i) => {
    if (nodeIndex.has(node.id)) {
      errors.push({
        code: 'duplicate_node_id',
        nodeId: node.id,
        path: `nodes[${i}].id`,
        message: `Node id "${node.id}" is used more than once`,
      });
    } else {
      nodeIndex.set(node.id, i);
    }
  });
  if (pipeline.nodes.length === 0) {
    errors.push({
      code: 'empty_pipeline',
      path: 'nodes',
      message: 'The pipeline has no nodes; add a source to start',
    });
  }

  const upstream = new Map<string, string[]>(pipeline.nodes.map((n) => [n.id, []]));
  const downstream = new Map<string, string[]>(pipeline.nodes.map((n) => [n.id, []]));
  const seenEdges = new Set<string>();
  /** `from->to` → the output of `from` the edge leaves, for edges that name one. */
  const outputs = new Map<string, string>();
  pipeline.edges.forEach((edge, i) => {
    const id = edgeId(edge);
    let ok = true;
    for (const end of ['from', 'to'] as const) {
      if (!nodeIndex.has(edge[end])) {
        ok = false;
        errors.push({
          code: 'edge_unknown_node',
          edgeId: id,
          path: `edges[${i}].${end}`,
          message: `Edge ${id} ${end === 'from' ? 'starts at' : 'ends at'} node "${edge[end]}", which does not exist`,
        });
      }
    }
    const key = `${edge.from}->${edge.to}`;
    if (ok && seenEdges.has(key)) {
      errors.push({
        code: 'duplicate_edge',
        edgeId: id,
        path: `edges[${i}]`,
        message: `Edge from "${edge.from}" to "${edge.to}" appears more than once`,
      });
      ok = false;
    }
    if (ok) {
      seenEdges.add(key);
      upstream.get(edge.to)!.push(edge.from);
      downstream.get(edge.from)!.push(edge.to);
      if (edge.output) outputs.set(key, edge.output);
    }
  });
  checkOutputs(pipeline, options.catalog, configs, nodeIndex, errors);

  const cycle = findCycle(
    pipeline.nodes.map((n) => n.id),
    downstream,
  );
  if (cycle) {
    errors.push({
      code: 'cycle',
      nodeId: cycle[0],
      path: 'edges',
      message: `The graph has a cycle: ${[...cycle, cycle[0]].join(' → ')}`,
    });
  }

  for (const [i, node] of pipeline.nodes.entries()) {
    if (nodeIndex.get(node.id) !== i) continue; // a duplicate, already reported
    const config = configs[i];
    checkNode(node, i, config, pipeline, options.catalog, nodeIndex, upstream, downstream, outputs, errors);
    if (options.knownSecrets && config?.success)
      checkSecrets(node, i, config.data, pipeline, options.catalog, options.knownSecrets, errors);
  }
  if (options.knownSecrets) {
    // A notification channel names secrets as a node does: each must exist in the project.
    for (const missing of missingSecrets(
      pipeline.notifications?.rules ?? [],
      options.knownSecrets,
      'notifications.rules',
    )) {
      errors.push({
        code: 'unknown_secret',
        path: missing.path,
        message: `${missing.path}: ${missing.message}`,
      });
    }
  }

  const { params, errors: paramErrors } = resolveParams(
    pipeline.params,
    options.params ?? {},
    options.requireParams ?? true,
  );
  errors.push(...paramErrors);

  if (errors.length > 0) return { ok: false, errors };
  const plan = buildPlan(pipeline, configs, params, options, upstream, outputs);
  // A run whose history could come near Temporal's limits would fail in the middle: refuse it here.
  const budget = historyBudgetErrors(
    plan.steps.length,
    new TextEncoder().encode(JSON.stringify(plan)).length,
  );
  if (budget.length > 0) return { ok: false, errors: budget };
  return { ok: true, plan };
}

/** The route names a deciding node's valid config offers, or undefined for any other node. */
function nodeRoutes(entry: CatalogEntry, config: ConfigParse | undefined): string[] | undefined {
  if (!entry.routes) return undefined;
  return config?.success ? routesOf(entry.routes, config.data) : undefined;
}

/**
 * Each edge's output must be one its node has: "failure" on any node, a route on a deciding node;
 * and every edge out of a deciding node must say which of its outputs it leaves.
 */
function checkOutputs(
  pipeline: Pipeline,
  catalog: NodeCatalog,
  configs: NodeConfigs,
  nodeIndex: Map<string, number>,
  errors: CompileError[],
): void {
  pipeline.edges.forEach((edge, i) => {
    const fromIndex = nodeIndex.get(edge.from);
    if (fromIndex === undefined || !nodeIndex.has(edge.to)) return;
    const from = pipeline.nodes[fromIndex]!;
    const entry = catalog.get(from.type);
    if (!entry) return; // reported with the node
    const routes = nodeRoutes(entry, configs[fromIndex]);
    const id = edgeId(edge);
    if (edge.output === undefined) {
      if (entry.routes && routes) {
        errors.push({
          code: 'edge_without_output',
          nodeId: from.id,
          edgeId: id,
          path: `edges[${i}].output`,
          message: `Edge ${id} leaves deciding node "${from.id}" (${from.type}) without naming an output; set output to one of ${[...routes, FAILURE_OUTPUT].map((r) => `"${r}"`).join(', ')}`,
        });
      }
      return;
    }
    if (edge.output === FAILURE_OUTPUT) return;
    if (!entry.routes) {
      errors.push({
        code: 'unknown_output',
        nodeId: from.id,
        edgeId: id,
        path: `edges[${i}].output`,
        message: `Edge ${id} leaves output "${edge.output}" of node "${from.id}" (${from.type}), which only has the "${FAILURE_OUTPUT}" output besides its usual one`,
      });
    } else if (routes && !routes.includes(edge.output)) {
      errors.push({
        code: 'unknown_output',
        nodeId: from.id,
        edgeId: id,
        path: `edges[${i}].output`,
        message: `Edge ${id} leaves output "${edge.output}" of node "${from.id}" (${from.type}), which has ${[...routes, FAILURE_OUTPUT].map((r) => `"${r}"`).join(', ')}`,
      });
    }
  });
}

const CONDITION_TYPES: Record<ParamType, ValueType> = {
  string: 'string',
  number: 'number',
  integer: 'number',
  boolean: 'boolean',
  date: 'string',
  timestamp: 'string',
};

/** What a node's conditions may read: its ancestors' facts and the pipeline's params. */
function upstreamScope(
  node: PipelineNode,
  pipeline: Pipeline,
  catalog: NodeCatalog,
  nodeIndex: Map<string, number>,
  upstream: Map<string, string[]>,
): UpstreamScope {
  const steps = new Map<string, Record<string, FactSpec>>();
  for (const id of collectAncestors(node.id, upstream)) {
    const ancestor = pipeline.nodes[nodeIndex.get(id)!];
    if (!ancestor || ancestor.disabled) continue;
    steps.set(id, { ...STEP_FACTS, ...catalog.get(ancestor.type)?.conditionFacts });
  }
  const params = Object.fromEntries(
    Object.entries(pipeline.params).map(([name, spec]) => [name, CONDITION_TYPES[spec.type]]),
  );
  return { steps, params };
}

function documentError(document: unknown, issue: z.core.$ZodIssue): CompileError {
  const path = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  const error: CompileError = {
    code: 'invalid_document',
    path: path || '(document)',
    message: `${path || 'document'}: ${issue.message}`,
  };
  // Name the node when the problem is inside one, so the builder can highlight it.
  if (issue.path[0] === 'nodes' && typeof issue.path[1] === 'number') {
    const node = (document as { nodes?: { id?: unknown }[] })?.nodes?.[issue.path[1]];
    if (typeof node?.id === 'string') error.nodeId = node.id;
  }
  return error;
}

function checkNode(
  node: PipelineNode,
  index: number,
  config: ConfigParse | undefined,
  pipeline: Pipeline,
  catalog: NodeCatalog,
  nodeIndex: Map<string, number>,
  upstream: Map<string, string[]>,
  downstream: Map<string, string[]>,
  outputs: Map<string, string>,
  errors: CompileError[],
): void {
  const at = `nodes[${index}]`;
  const label = `Node "${node.id}"`;
  const ins = upstream.get(node.id)!;
  // Edges out of the failure output lead to steps that clean up or alert: a sink may have them.
  const outs = downstream.get(node.id)!.filter((to) => outputs.get(`${node.id}->${to}`) !== FAILURE_OUTPUT);

  // A disabled node is left out of the plan, so nothing enabled may read from it.
  for (const source of ins) {
    const from = pipeline.nodes[nodeIndex.get(source)!];
    if (from?.disabled && !node.disabled) {
      errors.push({
        code: 'disabled_dependency',
        nodeId: node.id,
        path: `${at}`,
        message: `${label} depends on "${source}", which is disabled; enable it or remove the edge`,
      });
    }
  }

  const entry = catalog.get(node.type);
  if (!entry) {
    errors.push({
      code: 'unknown_node_type',
      nodeId: node.id,
      path: `${at}.type`,
      message: `${label} has unknown type "${node.type}"`,
    });
    return;
  }
  if (entry.kind === 'source' && ins.length > 0) {
    errors.push({
      code: 'source_with_inputs',
      nodeId: node.id,
      path: `${at}`,
      message: `${label} is a source and cannot have inputs (from ${ins.join(', ')})`,
    });
  }
  if (entry.kind === 'sink' && outs.length > 0) {
    errors.push({
      code: 'sink_with_outputs',
      nodeId: node.id,
      path: `${at}`,
      message: `${label} is a sink and cannot feed other nodes (${outs.join(', ')})`,
    });
  }
  if (entry.kind !== 'source' && ins.length < entry.inputs.min) {
    errors.push({
      code: 'missing_input',
      nodeId: node.id,
      path: `${at}`,
      message: `${label} needs at least ${entry.inputs.min} input${entry.inputs.min === 1 ? '' : 's'}; connect an upstream node`,
    });
  }
  if (entry.inputs.max !== null && ins.length > entry.inputs.max && entry.kind !== 'source') {
    errors.push({
      code: 'too_many_inputs',
      nodeId: node.id,
      path: `${at}`,
      message: `${label} takes at most ${entry.inputs.max} input${entry.inputs.max === 1 ? '' : 's'}, but has ${ins.length}`,
    });
  }

  if (config && !config.success) {
    for (const issue of config.issues) {
      const field = issue.path.map(String).join('.');
      errors.push({
        code: 'invalid_config',
        nodeId: node.id,
        path: `${at}.config${field ? `.${field}` : ''}`,
        message: `${label}, field "${field || '(config)'}": ${issue.message}`,
      });
    }
  } else if (config && entry.checkUpstream) {
    // Conditions are checked against what is known where the node stands: its ancestors and the params.
    const scope = upstreamScope(node, pipeline, catalog, nodeIndex, upstream);
    for (const problem of entry.checkUpstream(config.data as never, scope)) {
      const field = problem.path.map(String).join('.');
      errors.push({
        code: 'invalid_condition',
        nodeId: node.id,
        path: `${at}.config${field ? `.${field}` : ''}`,
        message: `${label}, field "${field}": ${problem.message}`,
      });
    }
  }

  for (const [text, path] of stringsIn(node.config)) {
    const where = `${at}.config.${path.join('.')}`;
    for (const bad of findMalformedPlaceholders(text)) {
      errors.push({
        code: 'invalid_placeholder',
        nodeId: node.id,
        path: where,
        message: `${label}: "${bad}" is not a placeholder; use {{ inputs.<node> }} or {{ params.<name> }}`,
      });
    }
    for (const p of findPlaceholders(text)) {
      if (p.namespace === 'inputs') {
        if (ins.includes(p.name) && outputs.get(`${p.name}->${node.id}`) === FAILURE_OUTPUT) {
          errors.push({
            code: 'unknown_input_reference',
            nodeId: node.id,
            path: where,
            message: `${label} refers to {{ inputs.${p.name} }}, but it runs only when "${p.name}" failed, which leaves no output to read`,
          });
        } else if (ins.includes(p.name) && p.stream !== undefined) {
          // `{{ inputs.<node>.<stream> }}`: the node must read that stream into a table of its own.
          const from = pipeline.nodes[nodeIndex.get(p.name)!]!;
          const streams = catalog.get(from.type)?.streams?.(from.config as Record<string, unknown>);
          if (!streams?.includes(p.stream)) {
            errors.push({
              code: 'unknown_input_reference',
              nodeId: node.id,
              path: where,
              message: streams
                ? `${label} refers to {{ inputs.${p.name}.${p.stream} }}, but "${p.name}" reads no stream "${p.stream}" (it reads: ${streams.join(', ')})`
                : `${label} refers to {{ inputs.${p.name}.${p.stream} }}, but "${p.name}" has one output table, not streams; write {{ inputs.${p.name} }}`,
            });
          }
        } else if (!ins.includes(p.name)) {
          errors.push({
            code: 'unknown_input_reference',
            nodeId: node.id,
            path: where,
            // Walking the ancestors is quadratic over a long chain: only a wrong reference pays for it.
            message: collectAncestors(node.id, upstream).has(p.name)
              ? `${label} refers to {{ inputs.${p.name} }}, but "${p.name}" is not directly connected to it; add an edge`
              : `${label} refers to {{ inputs.${p.name} }}, but "${p.name}" is not an upstream node`,
          });
        }
      } else if (p.namespace === 'params') {
        if (p.stream !== undefined) {
          errors.push({
            code: 'invalid_placeholder',
            nodeId: node.id,
            path: where,
            message: `${label}: "${p.text}" is not a placeholder; use {{ params.<name> }}`,
          });
        } else if (!(p.name in pipeline.params)) {
          errors.push({
            code: 'undeclared_param',
            nodeId: node.id,
            path: where,
            message: `${label} uses {{ params.${p.name} }}, but the pipeline declares no param "${p.name}"`,
          });
        }
      } else {
        errors.push({
          code: 'invalid_placeholder',
          nodeId: node.id,
          path: where,
          message: `${label}: unknown placeholder namespace in "${p.text}"; use inputs or params`,
        });
      }
    }
  }
}

/** Each secret a node's config reads must exist in the project; the error names the field. */
function checkSecrets(
  node: PipelineNode,
  index: number,
  config: Record<string, unknown>,
  pipeline: Pipeline,
  catalog: NodeCatalog,
  known: readonly string[],
  errors: CompileError[],
): void {
  const entry = catalog.get(node.type);
  if (!entry?.secrets) return;
  const have = new Set(known);
  for (const name of entry.secrets(config)) {
    // A name made from a param is only known when the run's params are.
    if (have.has(name) || findPlaceholders(name).length > 0) continue;
    const field = [...stringsIn(node.config)].find(([text]) => text === name)?.[1].join('.') ?? '';
    errors.push({
      code: 'unknown_secret',
      nodeId: node.id,
      path: `nodes[${index}].config${field ? `.${field}` : ''}`,
      message:
        `Node "${node.id}" (${node.type}), field "${field || '(config)'}": secret "${name}" does not exist ` +
        `in project "${pipeline.project}"; add it under Settings → Secrets`,
    });
  }
}

function collectAncestors(id: string, upstream: Map<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const stack = [...(upstream.get(id) ?? [])];
  while (stack.length) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(upstream.get(next) ?? []));
  }
  return seen;
}

/**
 * Returns the nodes on one cycle, in order, or undefined for a DAG. Depth-first with a stack of its
 * own rather than recursion: a long chain would otherwise overflow the call stack.
 */
export function findCycle(ids: string[], downstream: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  for (const root of ids) {
    if (state.has(root)) continue;
    // The path from the root, each node with how many of its successors it has visited.
    const path: string[] = [root];
    const visited: number[] = [0];
    state.set(root, 'open');
    while (path.length > 0) {
      const top = path.length - 1;
      const id = path[top]!;
      const next = (downstream.get(id) ?? [])[visited[top]!++];
      if (next === undefined) {
        path.pop();
        visited.pop();
        state.set(id, 'done');
      } else if (state.get(next) === 'open') {
        return path.slice(path.indexOf(next));
      } else if (!state.has(next)) {
        state.set(next, 'open');
        path.push(next);
        visited.push(0);
      }
    }
  }
  return undefined;
}

function buildPlan(
  pipeline: Pipeline,
  configs: NodeConfigs,
  params: ExecutionPlan['params'],
  options: CompileOptions,
  upstream: Map<string, string[]>,
  outputs: Map<string, string>,
): ExecutionPlan {
  const enabled = pipeline.nodes.filter((n) => !n.disabled);
  const parsed = new Map(pipeline.nodes.map((node, i) => [node, configs[i]]));
  const schemas: Record<string, string> = {};
  const steps: PlanStep[] = topologicalOrder(enabled, upstream).map((node) => {
    const entry = options.catalog.get(node.type)!;
    const found = parsed.get(node);
    // A plan is built only when every config parsed.
    if (!found?.success) throw new Error(`config of node "${node.id}" was not parsed`);
    const config = found.data;
    const digest = configSchemaDigest(entry.config);
    if (digest !== null) schemas[node.type] = digest;
    // Only steps that route or are routed carry the fields, so every other plan is as it was.
    const after = Object.fromEntries(
      upstream
        .get(node.id)!
        .flatMap((from) => {
          const output = outputs.get(`${from}->${node.id}`);
          return output === undefined ? [] : [[from, output] as const];
        })
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    const routing = {
      ...(entry.routes ? { routes: routesOf(entry.routes, config) } : {}),
      ...(Object.keys(after).length > 0 ? { after } : {}),
      ...(entry.reads ? { reads: entry.reads(config as never) } : {}),
    };
    return {
      id: node.id,
      type: node.type,
      kind: entry.kind,
      name: node.name ?? node.id,
      // The parsed config carries the type's defaults, so the activity sees exactly what was checked
      // and, its schema being the one named in configSchemas, uses it without parsing it again.
      config,
      dependsOn: [...upstream.get(node.id)!].sort(),
      retry: {
        maximumAttempts: node.retry?.maxAttempts ?? STEP_DEFAULTS.maximumAttempts,
        initialIntervalMs:
          (node.retry?.initialIntervalSeconds ?? STEP_DEFAULTS.initialIntervalMs / 1000) * 1000,
        backoffCoefficient: node.retry?.backoffCoefficient ?? STEP_DEFAULTS.backoffCoefficient,
        maximumIntervalMs: (node.retry?.maxIntervalSeconds ?? STEP_DEFAULTS.maximumIntervalMs / 1000) * 1000,
      },
      timeoutSeconds: node.timeoutSeconds ?? STEP_DEFAULTS.timeoutSeconds,
      heartbeatTimeoutSeconds: STEP_DEFAULTS.heartbeatTimeoutSeconds,
      statementTimeoutSeconds: node.statementTimeoutSeconds ?? STEP_DEFAULTS.statementTimeoutSeconds,
      continueOnFailure: node.continueOnFailure ?? false,
      ...routing,
    };
  });
  return {
    apiVersion: PLAN_API_VERSION,
    pipelineId: pipeline.id,
    project: pipeline.project,
    pipelineVersion: options.pipelineVersion ?? null,
    versionHash: versionHash(pipeline),
    params,
    sensitiveParams: Object.keys(pipeline.params)
      .filter((k) => pipeline.params[k]!.sensitive)
      .sort(),
    maxParallel: pipeline.settings.maxParallel,
    concurrency: pipeline.settings.concurrency,
    keepStaging: pipeline.settings.keepStaging,
    steps,
    ...(Object.keys(schemas).length > 0 ? { configSchemas: sortedRecord(schemas) } : {}),
  };
}

const sortedRecord = (record: Record<string, string>) =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));

/** sha256 of the canonical document; editor-only metadata (positions) does not change it. */
export function versionHash(pipeline: Pipeline): string {
  const withoutLayout = {
    ...pipeline,
    nodes: pipeline.nodes.map(({ position: _position, ...rest }) => rest),
  };
  return sha256(canonicalJson(withoutLayout));
}

/**
 * Kahn's algorithm; ties keep the document's order (the ready node first in the document goes
 * next), so the result is deterministic. The ready nodes wait in a min-heap of document positions,
 * and each edge is followed once: O((n + e) log n), where picking by scanning was O(n²).
 */
function topologicalOrder(nodes: PipelineNode[], upstream: Map<string, string[]>): PipelineNode[] {
  const position = new Map(nodes.map((n, i) => [n.id, i]));
  const remaining = nodes.map((n) => upstream.get(n.id)!.filter((u) => position.has(u)).length);
  const dependents: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    for (const u of upstream.get(n.id)!) {
      const from = position.get(u);
      if (from !== undefined) dependents[from]!.push(i);
    }
  });
  const ready = new MinHeap();
  for (const [i, count] of remaining.entries()) if (count === 0) ready.push(i);
  const order: PipelineNode[] = [];
  while (ready.size > 0) {
    const next = ready.pop();
    order.push(nodes[next]!);
    for (const d of dependents[next]!) if (--remaining[d]! === 0) ready.push(d);
  }
  return order;
}

class MinHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }
  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const child = left + 1 < items.length && items[left + 1]! < items[left]! ? left + 1 : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
