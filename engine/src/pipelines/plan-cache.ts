// Compiled plans and validities of saved pipeline versions, kept in memory so that reads and
// triggers of a pipeline do not compile it again. A saved version never changes, and what a compile
// reads is all in the key: the version's hash (its whole document but node positions, which no plan
// holds), its number and pipeline id (written into the plan), the params given, and the catalogue
// (one cache each). The operator's run limits are applied to a copy after the cache (RunsClient,
// ScheduleService), so they are not part of it. Drafts change with every keystroke: never cached.
import { LRUCache } from 'lru-cache';
import { canonicalJson } from '../compiler/canonical.js';
import { compile, type CompileResult, type NodeCatalog } from '../compiler/compile.js';
import type { ExecutionPlan } from '../model/plan.js';
import { validity, type Validity } from './pipeline-compile.js';

/** A saved version as the stores give it: its hash covers everything compiling reads. */
export interface SavedVersion {
  pipelineId: string;
  version: number;
  versionHash: string;
  document: unknown;
}

export interface PlanCacheLimits {
  /** How many plans and validities are kept at most. */
  maxEntries: number;
  /** Their total size at most, counted as the length of their JSON (a plan is at most a few MB). */
  maxBytes: number;
}

export const PLAN_CACHE_LIMITS: PlanCacheLimits = { maxEntries: 1_000, maxBytes: 64 * 1024 * 1024 };

type Entry = { kind: 'plan'; result: CompileResult } | { kind: 'validity'; result: Validity };

export class PlanCache {
  private readonly entries: LRUCache<string, Entry>;
  /** How many answers came from the cache and how many were compiled (for tests and benches). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly catalog: NodeCatalog,
    limits: PlanCacheLimits = PLAN_CACHE_LIMITS,
  ) {
    this.entries = new LRUCache<string, Entry>({
      max: limits.maxEntries,
      maxSize: limits.maxBytes,
      sizeCalculation: (entry) => Math.max(1, JSON.stringify(entry.result).length),
    });
  }

  /**
   * The plan of a saved version with these params (as a run is started: every param required). The
   * plan is shared by every caller: each gets its own copy of the top level to set a run's marks on
   * (branch, keepStaging); the steps are frozen.
   */
  plan(version: SavedVersion, params: Record<string, unknown>): CompileResult {
    const key = JSON.stringify([
      'plan',
      version.pipelineId,
      version.version,
      version.versionHash,
      canonicalJson(params),
    ]);
    const entry = this.remembered(key, () => ({
      kind: 'plan',
      result: frozen(
        compile(version.document, {
          catalog: this.catalog,
          params,
          requireParams: true,
          pipelineVersion: version.version,
        }),
      ),
    }));
    const result = (entry as Extract<Entry, { kind: 'plan' }>).result;
    return result.ok ? { ok: true, plan: { ...result.plan } as ExecutionPlan } : result;
  }

  /** Whether a saved version compiles (params may be absent): what reads of a pipeline show. */
  validity(version: Pick<SavedVersion, 'versionHash' | 'document'>): Validity {
    const key = JSON.stringify(['validity', version.versionHash]);
    const entry = this.remembered(key, () => ({
      kind: 'validity',
      result: frozen(validity(version.document, this.catalog)),
    }));
    return (entry as Extract<Entry, { kind: 'validity' }>).result;
  }

  private remembered(key: string, make: () => Entry): Entry {
    const known = this.entries.get(key);
    if (known) {
      this.stats.hits++;
      return known;
    }
    this.stats.misses++;
    const made = make();
    this.entries.set(key, made);
    return made;
  }
}

const caches = new WeakMap<NodeCatalog, PlanCache>();

/** The plan cache of a catalogue: every compile against it shares one. */
export function planCacheOf(catalog: NodeCatalog): PlanCache {
  let cache = caches.get(catalog);
  if (!cache) caches.set(catalog, (cache = new PlanCache(catalog)));
  return cache;
}

/** Freezes a value and everything in it: a cached answer is never changed by one of its callers. */
function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) frozen(inner);
  }
  return value;
}
