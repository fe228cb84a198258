// Saved versions are compiled once per catalogue, params and version: for their validity on reads,
// for their plan on triggers. A new version (or other params, or another catalogue) is compiled on
// its own, so a trigger never runs a stale plan; a draft is never cached.
import { describe, expect, it } from 'vitest';
import { versionHash, type NodeCatalog } from '../compiler/compile.js';
import { PipelineSchema } from '../model/pipeline.schema.js';
import { planFor } from '../runs/start-run.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import { activityCatalog } from './node-catalog.js';
import { PlanCache, planCacheOf } from './plan-cache.js';

const document = (rows: number, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'tributary/v1',
  id: 'counted',
  name: 'Counted',
  params: { day: { type: 'date', default: '2026-01-01' } },
  nodes: [
    {
      id: 'g',
      type: 'source.generate',
      config: { rows, columns: [{ name: 'n', generator: 'sequence' }] },
    },
  ],
  ...extra,
});

const saved = (version: number, doc: unknown) => ({
  pipelineId: 'counted',
  version,
  versionHash: versionHash(PipelineSchema.parse(doc)),
  document: doc,
});

/** The activities' catalogue, counting how often compiling looks a node type up. */
function countingCatalog() {
  const counted = { lookups: 0 };
  const catalog: NodeCatalog = {
    get: (type) => {
      counted.lookups += 1;
      return activityCatalog.get(type);
    },
  };
  return { catalog, counted };
}

describe('the plan cache', () => {
  it('compiles a version once and gives the same validity on every read', () => {
    const { catalog, counted } = countingCatalog();
    const bad = {
      ...document(1),
      nodes: [...document(1).nodes, { id: 'bad', type: 'source.generate', config: { rows: -1 } }],
    };
    const first = planCacheOf(catalog).validity({ versionHash: 'h1', document: bad });
    const lookups = counted.lookups;
    expect(lookups).toBeGreaterThan(0);
    expect(first.valid).toBe(false);
    expect(first.errors.map((e) => e.nodeId)).toContain('bad');
    for (let i = 0; i < 5; i++)
      expect(planCacheOf(catalog).validity({ versionHash: 'h1', document: bad })).toBe(first);
    expect(counted.lookups).toBe(lookups);
    // Another version, or another catalogue, is compiled on its own.
    planCacheOf(catalog).validity({ versionHash: 'h2', document: bad });
    expect(counted.lookups).toBe(lookups * 2);
    expect(planCacheOf(countingCatalog().catalog).validity({ versionHash: 'h1', document: bad })).not.toBe(
      first,
    );
  });

  it('compiles a version with the same params once, and each caller gets its own copy to mark', () => {
    const { catalog, counted } = countingCatalog();
    const cache = new PlanCache(catalog);
    const v1 = saved(1, document(3));
    const a = cache.plan(v1, { day: '2026-02-01' });
    const lookups = counted.lookups;
    // The same params in another key order are the same plan.
    const b = cache.plan({ ...v1 }, { day: '2026-02-01' });
    expect(counted.lookups).toBe(lookups);
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
    if (!a.ok || !b.ok) throw new Error('does not compile');
    expect(b.plan).toEqual(a.plan);
    expect(b.plan).not.toBe(a.plan);
    // A run's marks go on its own copy; the steps are frozen, so no caller can change another's.
    a.plan.branch = 'feature';
    a.plan.keepStaging = true;
    expect(b.plan.branch).toBeUndefined();
    expect(cache.plan(v1, { day: '2026-02-01' }).ok && b.plan.keepStaging).toBe(false);
    expect(() => {
      (a.plan.steps[0]!.config as { rows: number }).rows = 99;
    }).toThrow(TypeError);
  });

  it('never serves a new version, other params or another pipeline the plan of another', () => {
    const cache = new PlanCache(activityCatalog);
    const v1 = saved(1, document(3));
    const first = cache.plan(v1, {});
    expect(first.ok && first.plan.steps[0]!.config.rows).toBe(3);
    expect(first.ok && first.plan.params.day).toBe('2026-01-01');
    // Version 2 changes the config: its plan has the new config and number.
    const second = cache.plan(saved(2, document(7)), {});
    expect(second.ok && [second.plan.pipelineVersion, second.plan.steps[0]!.config.rows]).toEqual([2, 7]);
    // Same number, other content (a pipeline deleted and made again): the hash tells them apart.
    const remade = cache.plan(saved(1, document(5)), {});
    expect(remade.ok && remade.plan.steps[0]!.config.rows).toBe(5);
    // Other params, another plan.
    const other = cache.plan(v1, { day: '2026-03-01' });
    expect(other.ok && other.plan.params.day).toBe('2026-03-01');
    // Another pipeline id with the same document is its own plan.
    const elsewhere = cache.plan({ ...v1, pipelineId: 'other' }, {});
    expect(elsewhere).toEqual(first);
    expect(cache.stats.misses).toBe(5);
    // And the first is still what it was.
    expect(cache.plan(v1, {})).toEqual(first);
    expect(cache.stats.hits).toBe(1);
  });

  it('remembers a version that does not compile with these params, and says why each time', () => {
    const cache = new PlanCache(activityCatalog);
    const v1 = saved(1, document(3));
    const bad = cache.plan(v1, { day: 'not a date' });
    expect(bad.ok).toBe(false);
    expect(cache.plan(v1, { day: 'not a date' })).toEqual(bad);
    expect(cache.stats).toEqual({ hits: 1, misses: 1 });
  });

  it('keeps at most its limit of entries, forgetting the least recently used', () => {
    const cache = new PlanCache(activityCatalog, { maxEntries: 2, maxBytes: 1024 * 1024 });
    const v1 = saved(1, document(1));
    cache.plan(v1, { day: '2026-01-01' });
    cache.plan(v1, { day: '2026-01-02' });
    cache.plan(v1, { day: '2026-01-01' }); // used again: now the newest
    cache.plan(v1, { day: '2026-01-03' }); // forgets 01-02
    expect(cache.stats).toEqual({ hits: 1, misses: 3 });
    cache.plan(v1, { day: '2026-01-01' });
    expect(cache.stats.hits).toBe(2);
    cache.plan(v1, { day: '2026-01-02' });
    expect(cache.stats.misses).toBe(4);
  });

  it('a trigger of a saved version uses the cache; a run of the draft is compiled each time', () => {
    const { catalog, counted } = countingCatalog();
    const doc = document(2);
    const current = { ...saved(4, doc), createdBy: 'a', createdAt: '2026-01-01T00:00:00Z' };
    const pipeline = { id: 'counted', project: 'default', version: 4, current } as unknown as StoredPipeline;
    const runnable = { document: doc, version: 4, draft: false, versionHash: current.versionHash };
    const first = planFor(catalog, pipeline, runnable, {});
    const lookups = counted.lookups;
    const again = planFor(catalog, pipeline, runnable, {});
    expect(counted.lookups).toBe(lookups);
    expect(again).toEqual(first);
    expect(again.pipelineVersion).toBe(4);
    const draft = planFor(catalog, pipeline, { document: document(9), version: 4, draft: true }, {});
    planFor(catalog, pipeline, { document: document(9), version: 4, draft: true }, {});
    expect(counted.lookups).toBe(lookups * 3);
    expect(draft.steps[0]!.config.rows).toBe(9);
  });
});
