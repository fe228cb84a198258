// Pipelines and their immutable versions. Every save is a new version row; the pipeline row only
// points at the current one. Deleting is soft, so runs keep naming versions that still exist.
import type pg from 'pg';
import type { Pipeline } from '../model/pipeline.schema.js';
import { ConflictError, isForeignKeyViolation, isUniqueViolation, NotFoundError } from './errors.js';
import { withTransaction } from './transaction.js';

export interface PipelineSummary {
  id: string;
  project: string;
  name: string;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface PipelineVersion {
  pipelineId: string;
  version: number;
  versionHash: string;
  document: Pipeline;
  createdBy: string;
  createdAt: string;
  /** What the publisher said about it; null when nothing was said. */
  message?: string | null;
}

export interface StoredPipeline extends PipelineSummary {
  current: PipelineVersion;
}

export class ProjectMissingError extends Error {}

interface PipelineRow {
  id: string;
  project_id: string;
  name: string;
  current_version: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}
interface VersionRow {
  pipeline_id: string;
  version: number;
  version_hash: string;
  document: Pipeline;
  created_by: string;
  created_at: Date;
  message: string | null;
}

const toSummary = (r: PipelineRow): PipelineSummary => ({
  id: r.id,
  project: r.project_id,
  name: r.name,
  version: r.current_version,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});
const toVersion = (r: VersionRow): PipelineVersion => ({
  pipelineId: r.pipeline_id,
  version: r.version,
  versionHash: r.version_hash,
  document: r.document,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  message: r.message ?? null,
});

export interface ListPipelines {
  /** Only these projects (a project-limited token); null for all. */
  projects: string[] | null;
  project?: string;
  /** Case-insensitive substring of the id or the name. */
  q?: string;
  /** The last id of the previous page. */
  after?: string;
  limit: number;
}

export class PipelineStore {
  constructor(private readonly pool: pg.Pool) {}

  async list(filter: ListPipelines): Promise<PipelineSummary[]> {
    const pattern = filter.q ? `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const result = await this.pool.query<PipelineRow>(
      `select * from tributary.pipelines
        where deleted_at is null
          and ($1::text[] is null or project_id = any($1))
          and ($2::text is null or project_id = $2)
          and ($3::text is null or id ilike $3 or name ilike $3)
          and ($4::text is null or id > $4)
        order by id
        limit $5`,
      [filter.projects, filter.project ?? null, pattern, filter.after ?? null, filter.limit],
    );
    return result.rows.map(toSummary);
  }

  /** The pipeline with its current version; undefined when it does not exist or was deleted. */
  async get(id: string): Promise<StoredPipeline | undefined> {
    const result = await this.pool.query<PipelineRow & { v: VersionRow }>(
      `select p.*, to_jsonb(v) as v
         from tributary.pipelines p
         join tributary.pipeline_versions v on v.pipeline_id = p.id and v.version = p.current_version
        where p.id = $1 and p.deleted_at is null`,
      [id],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return { ...toSummary(row), current: toVersion({ ...row.v, created_at: new Date(row.v.created_at) }) };
  }

  async require(id: string): Promise<StoredPipeline> {
    const pipeline = await this.get(id);
    if (!pipeline) throw new NotFoundError(`Pipeline "${id}" does not exist`);
    return pipeline;
  }

  async create(document: Pipeline, versionHash: string, actor: string): Promise<StoredPipeline> {
    try {
      await withTransaction(this.pool, async (client) => {
        await client.query(
          `insert into tributary.pipelines (id, project_id, name, current_version, created_by)
           values ($1, $2, $3, 1, $4)`,
          [document.id, document.project, document.name, actor],
        );
        await insertVersion(client, document, 1, versionHash, actor);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        const deleted = await this.pool.query(
          'select 1 from tributary.pipelines where id = $1 and deleted_at is not null',
          [document.id],
        );
        throw new ConflictError(
          deleted.rowCount
            ? `Pipeline "${document.id}" was deleted and its id stays reserved for its run history; choose another id`
            : `Pipeline "${document.id}" already exists; PUT /api/pipelines/${document.id} saves a new version`,
        );
      }
      if (isForeignKeyViolation(error))
        throw new ProjectMissingError(`Project "${document.project}" does not exist`);
      throw error;
    }
    return (await this.get(document.id))!;
  }

  /**
   * Saves `document` as the next version. With `expectedVersion`, refuses (409) when another save
   * came first. A document equal to the current version's is not saved again: `created` is false.
   */
  async addVersion(
    id: string,
    document: Pipeline,
    versionHash: string,
    actor: string,
    expectedVersion?: number,
    message?: string,
  ): Promise<{ pipeline: StoredPipeline; created: boolean }> {
    const created = await withTransaction(this.pool, async (client) => {
      const locked = await client.query<{ current_version: number; same: boolean }>(
        `select p.current_version, v.document = $2::jsonb as same
           from tributary.pipelines p
           join tributary.pipeline_versions v on v.pipeline_id = p.id and v.version = p.current_version
          where p.id = $1 and p.deleted_at is null
          for update of p`,
        [id, JSON.stringify(document)],
      );
      const current = locked.rows[0];
      if (!current) throw new NotFoundError(`Pipeline "${id}" does not exist`);
      if (expectedVersion !== undefined && expectedVersion !== current.current_version) {
        throw new ConflictError(
          `Pipeline "${id}" is at version ${current.current_version}, not ${expectedVersion} (If-Match): ` +
            'someone saved in between; reload it and apply your change again',
        );
      }
      if (current.same) return false;
      const next = current.current_version + 1;
      await insertVersion(client, document, next, versionHash, actor, message);
      await client.query(
        'update tributary.pipelines set current_version = $2, name = $3, updated_at = now() where id = $1',
        [id, next, document.name],
      );
      return true;
    });
    return { pipeline: (await this.get(id))!, created };
  }

  /** Names of pipelines by id, deleted ones too (their runs outlive them). */
  async namesOf(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const result = await this.pool.query<{ id: string; name: string }>(
      'select id, name from tributary.pipelines where id = any($1)',
      [[...new Set(ids)]],
    );
    return new Map(result.rows.map((r) => [r.id, r.name]));
  }

  /** The project of a pipeline, deleted or not (its runs outlive it). */
  async projectOf(id: string): Promise<string | undefined> {
    const result = await this.pool.query<{ project_id: string }>(
      'select project_id from tributary.pipelines where id = $1',
      [id],
    );
    return result.rows[0]?.project_id;
  }

  /** Marks the pipeline deleted and removes its draft (a draft is no history worth keeping). */
  async softDelete(id: string): Promise<boolean> {
    const result = await this.pool.query(
      `with draft as (delete from tributary.pipeline_drafts where pipeline_id = $1)
       update tributary.pipelines set deleted_at = now(), updated_at = now() where id = $1 and deleted_at is null`,
      [id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Every version, newest first, without documents. */
  async versions(id: string): Promise<Omit<PipelineVersion, 'document'>[]> {
    const result = await this.pool.query<VersionRow>(
      `select pipeline_id, version, version_hash, created_by, created_at, message
         from tributary.pipeline_versions where pipeline_id = $1 order by version desc`,
      [id],
    );
    return result.rows.map((r) => ({
      pipelineId: r.pipeline_id,
      version: r.version,
      versionHash: r.version_hash,
      createdBy: r.created_by,
      createdAt: r.created_at.toISOString(),
      message: r.message,
    }));
  }

  async version(id: string, version: number): Promise<PipelineVersion | undefined> {
    const result = await this.pool.query<VersionRow>(
      'select * from tributary.pipeline_versions where pipeline_id = $1 and version = $2',
      [id, version],
    );
    return result.rows[0] && toVersion(result.rows[0]);
  }

  async requireVersion(id: string, version: number): Promise<PipelineVersion> {
    const found = await this.version(id, version);
    if (!found) throw new NotFoundError(`Pipeline "${id}" has no version ${version}`);
    return found;
  }
}

async function insertVersion(
  client: pg.PoolClient,
  document: Pipeline,
  version: number,
  versionHash: string,
  actor: string,
  message?: string,
): Promise<void> {
  await client.query(
    `insert into tributary.pipeline_versions (pipeline_id, version, document, version_hash, created_by, message)
     values ($1, $2, $3, $4, $5, $6)`,
    [document.id, version, JSON.stringify(document), versionHash, actor, message ?? null],
  );
}
