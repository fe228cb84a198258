// Lineage kept up to date instead of rebuilt per request: each pipeline's own graph is built once
// per version and kept; a request asks Postgres only which versions are current (one small query),
// rebuilds the pipelines published, added or deleted since, and re-merges only when something
// changed. The warehouse's columns (which `*` and source tables need) are reloaded at most every
// `catalogTtlMs`; when they changed, every pipeline's graph is rebuilt once.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  buildLineage,
  mergeLineage,
  type LineageCatalog,
  type LineageGraph,
  type LineageNodeTypes,
  type PipelineForLineage,
} from './lineage-graph.js';
import { loadCatalogRows } from './lineage-service.js';
import type { Pipeline } from '../model/pipeline.schema.js';

/** Pipelines whose sources' columns are looked up at once (each may read a file or list runs). */
const OBSERVE_CONCURRENCY = 4;

/** Where the index reads from; Postgres in the platform, in-memory in the bench. */
export interface LineageSource {
  /** Every live pipeline and its current version. */
  versions(): Promise<{ id: string; version: number }[]>;
  /** Those pipelines' documents at those versions. */
  documents(wanted: { id: string; version: number }[]): Promise<PipelineForLineage[]>;
  /** The warehouse catalog, with a fingerprint that changes when it does. */
  catalog(): Promise<{ catalog: LineageCatalog; fingerprint: string }>;
}

export class LineageIndex {
  private readonly fragments = new Map<string, { version: number; graph: LineageGraph }>();
  private merged: LineageGraph | undefined;
  private catalog: { catalog: LineageCatalog; fingerprint: string; at: number } | undefined;
  private refreshing: Promise<LineageGraph> | undefined;

  constructor(
    private readonly source: LineageSource,
    private readonly nodeTypes: LineageNodeTypes,
    private readonly catalogTtlMs = 10_000,
  ) {}

  /** The organisation's lineage as of now. Concurrent callers share one refresh. */
  graph(): Promise<LineageGraph> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<LineageGraph> {
    let changed = false;
    if (!this.catalog || Date.now() - this.catalog.at > this.catalogTtlMs) {
      const next = await this.source.catalog();
      if (this.catalog?.fingerprint !== next.fingerprint) {
        this.fragments.clear();
        changed = true;
      }
      this.catalog = { ...next, at: Date.now() };
    }
    const current = await this.source.versions();
    const live = new Set(current.map((p) => p.id));
    for (const id of this.fragments.keys()) {
      if (!live.has(id)) {
        this.fragments.delete(id);
        changed = true;
      }
    }
    const stale = current.filter((p) => this.fragments.get(p.id)?.version !== p.version);
    if (stale.length > 0) {
      changed = true;
      const versionOf = new Map(stale.map((p) => [p.id, p.version]));
      for (const pipeline of await this.source.documents(stale)) {
        const graph = await buildLineage([pipeline], this.catalog.catalog, this.nodeTypes);
        this.fragments.set(pipeline.id, { version: versionOf.get(pipeline.id)!, graph });
      }
    }
    if (changed || !this.merged) this.merged = mergeLineage([...this.fragments.values()].map((f) => f.graph));
    return this.merged;
  }
}

/**
 * The index's source in the platform: pipelines and versions in Postgres, columns from the warehouse.
 * `observe` gives the columns of datasets whose configs do not list them (observed-columns.ts); they
 * are looked up once per pipeline version, a few pipelines at a time.
 */
export function postgresLineageSource(
  platform: pg.Pool,
  warehouse: pg.Pool,
  observe?: (document: Pipeline) => Promise<PipelineForLineage['observed']>,
): LineageSource {
  // By pipeline: the version looked up and what was found (an older version's is replaced).
  const observedOf = new Map<string, { version: number; found: Promise<PipelineForLineage['observed']> }>();
  const observeOnce = (document: Pipeline, version: number) => {
    let entry = observedOf.get(document.id);
    if (entry?.version !== version) {
      entry = { version, found: observe!(document).catch(() => undefined) };
      observedOf.set(document.id, entry);
    }
    return entry.found;
  };
  return {
    async versions() {
      const { rows } = await platform.query<{ id: string; version: number }>(
        'select id, current_version as version from tributary.pipelines where deleted_at is null',
      );
      return rows;
    },
    async documents(wanted) {
      const { rows } = await platform.query<{
        id: string;
        project_id: string;
        version: number;
        document: Pipeline;
      }>(
        `select p.id, p.project_id, w.version, v.document
           from unnest($1::text[], $2::int[]) as w(id, version)
           join tributary.pipelines p on p.id = w.id
           join tributary.pipeline_versions v on v.pipeline_id = w.id and v.version = w.version`,
        [wanted.map((w) => w.id), wanted.map((w) => w.version)],
      );
      const observed = new Map<string, PipelineForLineage['observed']>();
      if (observe) {
        const queue = [...rows];
        const worker = async () => {
          for (let row = queue.shift(); row; row = queue.shift())
            observed.set(row.id, await observeOnce(row.document, row.version));
        };
        await Promise.all(Array.from({ length: OBSERVE_CONCURRENCY }, worker));
      }
      return rows.map((r) => {
        const seen = observed.get(r.id);
        return {
          id: r.id,
          project: r.project_id,
          nodes: r.document.nodes,
          edges: r.document.edges ?? [],
          ...(seen && Object.keys(seen).length > 0 ? { observed: seen } : {}),
        };
      });
    },
    async catalog() {
      const { catalog, rows } = await loadCatalogRows(platform, warehouse);
      return { catalog, fingerprint: createHash('sha256').update(JSON.stringify(rows)).digest('hex') };
    },
  };
}
