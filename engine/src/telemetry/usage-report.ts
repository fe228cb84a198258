// Usage aggregated over the runs a visibility query finds (pipeline runs started in a time range,
// optionally of some projects), grouped by project, pipeline, actor, trigger, node type or day.
import type { Client } from '@temporalio/client';
import { RunNotFoundError, type RunsClient } from '../client/runs.js';
import { INTERPRETER_WORKFLOW } from '../model/run-contract.js';
import { readUsageFacts } from '../runs/run-reads.js';
import type { CreditRates } from './credit-rates.js';
import { priceUsage, type RunUsage } from './run-usage.js';

export const USAGE_GROUPS = ['project', 'pipeline', 'actor', 'trigger', 'nodeType', 'day'] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];

export interface UsageGroup {
  key: string;
  runs: number;
  steps: number;
  /** Sum of the runs' wall times; null when grouping by node type (steps of one run overlap). */
  wallSeconds: number | null;
  activitySeconds: number;
  attempts: number;
  retries: number;
  rowsIn: number;
  rowsOut: number;
  bytes: number;
  credits: number;
  /** The group's usage broken down by the report's `split` (a chart stacks them), when asked. */
  splits?: Omit<UsageGroup, 'splits'>[];
}

export interface UsageReport {
  groupBy: UsageGroupBy;
  split: UsageGroupBy | null;
  from: string;
  to: string;
  creditRates: CreditRates;
  runs: number;
  /** True when more runs matched than `maxRuns`; narrow the range. */
  truncated: boolean;
  totals: Omit<UsageGroup, 'key'>;
  groups: UsageGroup[];
}

export interface UsageQuery {
  groupBy: UsageGroupBy;
  /** Break each group down again (e.g. each day by project); not under `nodeType`, whose groups are steps. */
  split?: UsageGroupBy;
  from: Date;
  to: Date;
  /** Only these projects; undefined for every project. */
  projects?: string[];
  maxRuns?: number;
}

export interface UsageDeps {
  temporal: Client;
  /** Its records answer for closed runs, whose history may be gone. */
  runs: Pick<RunsClient, 'records'>;
  rates: CreditRates;
  cache?: UsageCache;
}

const DEFAULT_MAX_RUNS = 5000;
const HISTORY_CONCURRENCY = 4;

/** Quotes a value for a visibility query. */
export const visibilityLiteral = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export async function usageReport(deps: UsageDeps, query: UsageQuery): Promise<UsageReport> {
  const clauses = [
    `WorkflowType = '${INTERPRETER_WORKFLOW}'`,
    `StartTime >= ${visibilityLiteral(query.from.toISOString())}`,
    `StartTime < ${visibilityLiteral(query.to.toISOString())}`,
  ];
  if (query.projects) {
    // No project at all matches nothing; `IN ()` would be a syntax error.
    if (query.projects.length === 0) return emptyReport(deps, query);
    clauses.push(`TributaryProject IN (${query.projects.map(visibilityLiteral).join(', ')})`);
  }
  const maxRuns = query.maxRuns ?? DEFAULT_MAX_RUNS;
  // Closed runs from their records (their history may be gone), the others from visibility.
  const recorded =
    (await deps.runs.records?.usages({
      startedFrom: query.from,
      startedTo: query.to,
      ...(query.projects ? { projects: query.projects } : {}),
    })) ?? new Map();
  const runIds = [...recorded.keys()];
  let truncated = runIds.length > maxRuns;
  runIds.length = Math.min(runIds.length, maxRuns);
  for await (const execution of deps.temporal.workflow.list({ query: clauses.join(' AND ') })) {
    if (recorded.has(execution.workflowId)) continue;
    if (runIds.length === maxRuns) {
      truncated = true;
      break;
    }
    runIds.push(execution.workflowId);
  }
  const found = await mapLimit(runIds, HISTORY_CONCURRENCY, (runId) => {
    const facts = recorded.get(runId);
    if (facts) return Promise.resolve(priceUsage(facts, deps.rates));
    return usageOfRun(deps, runId).catch((error: unknown) => {
      // A run whose history expired (retention) between the list and the fetch is simply gone.
      if (error instanceof RunNotFoundError) return null;
      throw error;
    });
  });
  // Sums of floats depend on their order: one order, whichever source each run came from.
  const usages = found
    .filter((u): u is RunUsage => u !== null)
    .sort((a, b) =>
      a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.runId < b.runId ? 1 : -1,
    );
  return {
    ...aggregate(usages, query.groupBy, query.split),
    ...header(deps, query),
    runs: usages.length,
    truncated,
  };
}

/** A run's usage; closed runs never change, so their usage is cached. */
export async function usageOfRun(deps: UsageDeps, runId: string): Promise<RunUsage> {
  const cached = deps.cache?.get(runId, deps.rates);
  if (cached) return cached;
  const usage = priceUsage(await readUsageFacts(deps, runId), deps.rates);
  if (usage.endedAt) deps.cache?.set(runId, deps.rates, usage);
  return usage;
}

function header(deps: UsageDeps, query: UsageQuery) {
  return {
    groupBy: query.groupBy,
    split: query.split ?? null,
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    creditRates: deps.rates,
  };
}

function emptyReport(deps: UsageDeps, query: UsageQuery): UsageReport {
  return { ...aggregate([], query.groupBy, query.split), ...header(deps, query), runs: 0, truncated: false };
}

export function aggregate(
  usages: RunUsage[],
  groupBy: UsageGroupBy,
  split?: UsageGroupBy,
): { totals: Omit<UsageGroup, 'key'>; groups: UsageGroup[] } {
  if (split && groupBy === 'nodeType')
    throw new RangeError('usage grouped by node type cannot be split: its groups are steps, not runs');
  const groups = new Map<string, UsageGroup & { runIds: Set<string>; members: RunUsage[] }>();
  const group = (key: string) => {
    let g = groups.get(key);
    if (!g) {
      g = { key, ...zero(groupBy === 'nodeType' ? null : 0), runIds: new Set(), members: [] };
      groups.set(key, g);
    }
    return g;
  };
  const totals = zero(0);
  for (const run of usages) {
    addRun(totals, run);
    if (groupBy === 'nodeType') {
      for (const step of run.steps) {
        const g = group(step.nodeType);
        g.runIds.add(run.runId);
        g.steps += 1;
        g.activitySeconds += step.activitySeconds;
        g.attempts += step.attempts;
        g.retries += step.retries;
        g.rowsIn += step.rowsIn;
        g.rowsOut += step.rowsOut;
        g.bytes += step.bytes;
        g.credits += step.credits;
      }
      continue;
    }
    const key =
      groupBy === 'project'
        ? run.project
        : groupBy === 'pipeline'
          ? run.pipelineId
          : groupBy === 'actor'
            ? run.actor
            : groupBy === 'trigger'
              ? run.trigger
              : run.startedAt.slice(0, 10);
    const g = group(key);
    g.runIds.add(run.runId);
    g.members.push(run);
    addRun(g, run);
  }
  const tidy = <T extends Omit<UsageGroup, 'key'>>(g: T): T => ({
    ...g,
    wallSeconds: g.wallSeconds === null ? null : round(g.wallSeconds),
    activitySeconds: round(g.activitySeconds),
    credits: round(g.credits),
  });
  return {
    totals: tidy({ ...totals, runs: usages.length }),
    groups: [...groups.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ runIds, members, ...g }) =>
        tidy({
          ...g,
          runs: runIds.size,
          ...(split ? { splits: aggregate(members, split).groups } : {}),
        }),
      ),
  };
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

function zero(wall: number | null): Omit<UsageGroup, 'key'> {
  return {
    runs: 0,
    steps: 0,
    wallSeconds: wall,
    activitySeconds: 0,
    attempts: 0,
    retries: 0,
    rowsIn: 0,
    rowsOut: 0,
    bytes: 0,
    credits: 0,
  };
}

function addRun(g: Omit<UsageGroup, 'key'>, run: RunUsage): void {
  g.steps += run.steps.length;
  if (g.wallSeconds !== null) g.wallSeconds += run.wallSeconds ?? 0;
  g.activitySeconds += run.activitySeconds;
  g.attempts += run.attempts;
  g.retries += run.retries;
  g.rowsIn += run.rowsIn;
  g.rowsOut += run.rowsOut;
  g.bytes += run.bytes;
  g.credits += run.credits;
}

/** Closed runs' usage by run id and credit model; bounded, oldest entries go first. */
export class UsageCache {
  private readonly entries = new Map<string, RunUsage>();
  constructor(private readonly capacity = 5000) {}

  private static key(runId: string, rates: CreditRates) {
    return `${runId}\n${JSON.stringify(rates)}`;
  }

  get(runId: string, rates: CreditRates): RunUsage | undefined {
    return this.entries.get(UsageCache.key(runId, rates));
  }

  set(runId: string, rates: CreditRates, usage: RunUsage): void {
    const key = UsageCache.key(runId, rates);
    this.entries.delete(key);
    this.entries.set(key, usage);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** Runs `fn` over items with at most `limit` at once, keeping the order of results. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(lanes);
  return results;
}
