// Development branches of a project and their copies of its pipelines. A branch is made by
// recording, per live pipeline, the main version it starts from (copy-on-write: no document is
// copied until the pipeline is saved in the branch). A pipeline created in the branch has no base.
import type pg from 'pg';
import type { Pipeline } from '../model/pipeline.schema.js';
import { ConflictError, isUniqueViolation, NotFoundError } from './errors.js';
import type { StoredPipeline } from './pipelines.store.js';
import { withTransaction } from './transaction.js';

export interface Branch {
  project: string;
  name: string;
  createdBy: string;
  createdAt: string;
  /** Pipelines saved or created in the branch. */
  changedPipelines: number;
}

export interface BranchPipeline {
  pipelineId: string;
  /** The main version copied when the branch was made; null when created in the branch. */
  baseVersion: number | null;
  /** main's current version now (null when main has no such live pipeline). */
  mainVersion: number | null;
  /** The branch's own document; null while it is main's base version untouched. */
  own: Pipeline | null;
  /** What the branch reads: its own document, else the base version's. */
  document: Pipeline;
  revision: number;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
}

interface BranchRow {
  project_id: string;
  name: string;
  created_by: string;
  created_at: Date;
  changed: string;
}

interface PipelineRow {
  pipeline_id: string;
  base_version: number | null;
  main_version: number | null;
  own: Pipeline | null;
  base_document: Pipeline | null;
  revision: number;
  created_by: string | null;
  created_at: Date | null;
  updated_by: string;
  updated_at: Date;
}

const toBranch = (r: BranchRow): Branch => ({
  project: r.project_id,
  name: r.name,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  changedPipelines: Number(r.changed),
});

const toPipeline = (r: PipelineRow): BranchPipeline => ({
  pipelineId: r.pipeline_id,
  baseVersion: r.base_version,
  mainVersion: r.main_version,
  own: r.own,
  document: (r.own ?? r.base_document)!,
  revision: r.revision,
  createdBy: r.created_by ?? r.updated_by,
  createdAt: (r.created_at ?? r.updated_at).toISOString(),
  updatedBy: r.updated_by,
  updatedAt: r.updated_at.toISOString(),
});

const PIPELINE_SELECT = `
  select b.pipeline_id, b.base_version, b.document as own, b.revision, b.updated_by, b.updated_at,
         v.document as base_document, p.created_by, p.created_at,
         case when p.deleted_at is null then p.current_version end as main_version
    from tributary.branch_pipelines b
    left join tributary.pipeline_versions v on v.pipeline_id = b.pipeline_id and v.version = b.base_version
    left join tributary.pipelines p on p.id = b.pipeline_id`;

const BRANCH_SELECT = `
  select br.*, (select count(*) from tributary.branch_pipelines b
                 where b.project_id = br.project_id and b.branch = br.name and b.document is not null) as changed
    from tributary.branches br`;

export class BranchStore {
  constructor(private readonly pool: pg.Pool) {}

  async list(project: string): Promise<Branch[]> {
    const { rows } = await this.pool.query<BranchRow>(
      `${BRANCH_SELECT} where br.project_id = $1 order by br.name`,
      [project],
    );
    return rows.map(toBranch);
  }

  async get(project: string, name: string): Promise<Branch | undefined> {
    const { rows } = await this.pool.query<BranchRow>(
      `${BRANCH_SELECT} where br.project_id = $1 and br.name = $2`,
      [project, name],
    );
    return rows[0] && toBranch(rows[0]);
  }

  async require(project: string, name: string): Promise<Branch> {
    const branch = await this.get(project, name);
    if (!branch) throw new NotFoundError(`Branch "${name}" of project "${project}" does not exist`);
    return branch;
  }

  /** Makes the branch: every live pipeline of the project, at its current main version. */
  async create(project: string, name: string, actor: string): Promise<Branch> {
    try {
      await withTransaction(this.pool, async (client) => {
        await client.query(
          'insert into tributary.branches (project_id, name, created_by) values ($1, $2, $3)',
          [project, name, actor],
        );
        await client.query(
          `insert into tributary.branch_pipelines (project_id, branch, pipeline_id, base_version, revision, updated_by)
           select project_id, $2, id, current_version, current_version, $3
             from tributary.pipelines where project_id = $1 and deleted_at is null`,
          [project, name, actor],
        );
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`Branch "${name}" of project "${project}" already exists`);
      throw error;
    }
    return (await this.get(project, name))!;
  }

  /** Removes the branch, its pipeline copies and its incremental state (its schemas are the caller's). */
  async delete(project: string, name: string): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query(
        `delete from tributary.node_state s using tributary.branch_pipelines b
          where b.project_id = $1 and b.branch = $2 and s.pipeline_id = b.pipeline_id and s.branch = $2`,
        [project, name],
      );
      await client.query('delete from tributary.branches where project_id = $1 and name = $2', [
        project,
        name,
      ]);
    });
  }

  /** The project whose branch of this name holds a pipeline made in it (ids are unique on main only). */
  async projectHolding(branch: string, id: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ project_id: string }>(
      'select project_id from tributary.branch_pipelines where branch = $1 and pipeline_id = $2 order by project_id limit 1',
      [branch, id],
    );
    return rows[0]?.project_id;
  }

  async pipelines(project: string, branch: string): Promise<BranchPipeline[]> {
    const { rows } = await this.pool.query<PipelineRow>(
      `${PIPELINE_SELECT} where b.project_id = $1 and b.branch = $2 order by b.pipeline_id`,
      [project, branch],
    );
    return rows.map(toPipeline);
  }

  async pipeline(project: string, branch: string, id: string): Promise<BranchPipeline | undefined> {
    const { rows } = await this.pool.query<PipelineRow>(
      `${PIPELINE_SELECT} where b.project_id = $1 and b.branch = $2 and b.pipeline_id = $3`,
      [project, branch, id],
    );
    return rows[0] && toPipeline(rows[0]);
  }

  async requirePipeline(project: string, branch: string, id: string): Promise<BranchPipeline> {
    const found = await this.pipeline(project, branch, id);
    if (!found) {
      throw new NotFoundError(
        `Pipeline "${id}" is not in branch "${branch}" of project "${project}" (it was made on main after the branch, or does not exist)`,
      );
    }
    return found;
  }

  /**
   * Saves the branch's copy. With `expectedRevision`, refuses (409) when another save came first.
   * A document equal to what the branch has is not saved again: `created` is false.
   */
  async save(
    project: string,
    branch: string,
    document: Pipeline,
    actor: string,
    expectedRevision?: number,
  ): Promise<boolean> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ revision: number; same: boolean }>(
        `select b.revision, coalesce(b.document, v.document) = $4::jsonb as same
           from tributary.branch_pipelines b
           left join tributary.pipeline_versions v on v.pipeline_id = b.pipeline_id and v.version = b.base_version
          where b.project_id = $1 and b.branch = $2 and b.pipeline_id = $3
          for update of b`,
        [project, branch, document.id, JSON.stringify(document)],
      );
      const current = rows[0];
      if (!current) throw new NotFoundError(`Pipeline "${document.id}" is not in branch "${branch}"`);
      if (expectedRevision !== undefined && expectedRevision !== current.revision) {
        throw new ConflictError(
          `Pipeline "${document.id}" is at version ${current.revision} in branch "${branch}", not ${expectedRevision} (If-Match): ` +
            'someone saved in between; reload it and apply your change again',
        );
      }
      if (current.same) return false;
      await client.query(
        `update tributary.branch_pipelines set document = $4, revision = revision + 1, updated_by = $5, updated_at = now()
          where project_id = $1 and branch = $2 and pipeline_id = $3`,
        [project, branch, document.id, JSON.stringify(document), actor],
      );
      return true;
    });
  }

  /** A pipeline that exists only in the branch until it is merged. */
  async createPipeline(project: string, branch: string, document: Pipeline, actor: string): Promise<void> {
    const taken = await this.pool.query('select 1 from tributary.pipelines where id = $1', [document.id]);
    if (taken.rowCount) {
      throw new ConflictError(
        `Pipeline "${document.id}" already exists on main (or was deleted there and its id stays reserved); choose another id`,
      );
    }
    try {
      await this.pool.query(
        `insert into tributary.branch_pipelines (project_id, branch, pipeline_id, base_version, document, revision, updated_by)
         values ($1, $2, $3, null, $4, 1, $5)`,
        [project, branch, document.id, JSON.stringify(document), actor],
      );
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`Pipeline "${document.id}" already exists in branch "${branch}"`);
      throw error;
    }
  }

  /** Every pipeline of the project on main and in the branch, side by side (no locks: a preview). */
  async compareWithMain(project: string, branch: string): Promise<MainAndBranch[]> {
    const { rows } = await this.pool.query<MainAndBranchRow>(MAIN_AND_BRANCH_SELECT, [project, branch]);
    return rows.map(toMainAndBranch);
  }

  /**
   * Brings the branch up to date with main in one transaction: the branch row and its copies are
   * locked against saves, main's pipelines of the project against new versions, then `plan` (which
   * may refuse by throwing: nothing is then changed) says what to do with each pipeline.
   */
  async updateFromMain<T extends { steps: UpdateStep[] }>(
    project: string,
    branch: string,
    actor: string,
    plan: (pipelines: MainAndBranch[]) => T,
  ): Promise<T> {
    return withTransaction(this.pool, async (client) => {
      const locked = await client.query(
        'select 1 from tributary.branches where project_id = $1 and name = $2 for update',
        [project, branch],
      );
      if (!locked.rowCount)
        throw new NotFoundError(`Branch "${branch}" of project "${project}" does not exist`);
      await client.query(
        'select 1 from tributary.branch_pipelines where project_id = $1 and branch = $2 for update',
        [project, branch],
      );
      await client.query('select 1 from tributary.pipelines where project_id = $1 for share', [project]);
      const { rows } = await client.query<MainAndBranchRow>(MAIN_AND_BRANCH_SELECT, [project, branch]);
      const planned = plan(rows.map(toMainAndBranch));
      for (const step of planned.steps) {
        const key = [project, branch, step.pipelineId];
        if (step.action === 'remove') {
          await client.query(
            'delete from tributary.branch_pipelines where project_id = $1 and branch = $2 and pipeline_id = $3',
            key,
          );
        } else if (step.action === 'add') {
          await client.query(
            `insert into tributary.branch_pipelines (project_id, branch, pipeline_id, base_version, revision, updated_by)
             values ($1, $2, $3, $4, $4, $5)`,
            [...key, step.mainVersion, actor],
          );
        } else {
          // The revision only grows, so an If-Match taken before the update is refused after it.
          await client.query(
            `update tributary.branch_pipelines
                set base_version = $4, revision = greatest(revision + 1, $4), updated_by = $5, updated_at = now()
                    ${step.action === 'take-main' ? ', document = null' : ''}
              where project_id = $1 and branch = $2 and pipeline_id = $3`,
            [...key, step.mainVersion, actor],
          );
        }
      }
      return planned;
    });
  }

  /** After a merge: the branch's copy is main's new version, unchanged in the branch. */
  async rebase(
    project: string,
    branch: string,
    id: string,
    mainVersion: number,
    actor: string,
  ): Promise<void> {
    await this.pool.query(
      `update tributary.branch_pipelines
          set base_version = $4, document = null, revision = $4, updated_by = $5, updated_at = now()
        where project_id = $1 and branch = $2 and pipeline_id = $3`,
      [project, branch, id, mainVersion, actor],
    );
  }
}

/** One pipeline as main has it now beside the branch's copy (either side may lack it). */
export interface MainAndBranch {
  pipelineId: string;
  /** false: made on main after the branch (or before it was tracked): the branch has no copy. */
  inBranch: boolean;
  baseVersion: number | null;
  /** The branch's own document; null while the copy is its base version untouched. */
  own: Pipeline | null;
  revision: number | null;
  /** main's live version now and its document; null when main has no live pipeline of that id. */
  mainVersion: number | null;
  mainDocument: Pipeline | null;
}

/** What bringing a branch up to date does to one pipeline's copy. */
export type UpdateStep =
  /** The copy becomes main's version (the branch's own document, if any, is dropped). */
  | { pipelineId: string; action: 'take-main'; mainVersion: number }
  /** The branch's own document stays, now based on main's version (a merge no longer conflicts). */
  | { pipelineId: string; action: 'keep-branch'; mainVersion: number }
  /** A pipeline made on main after the branch gets a copy at main's version. */
  | { pipelineId: string; action: 'add'; mainVersion: number }
  /** A pipeline deleted on main leaves the branch. */
  | { pipelineId: string; action: 'remove' };

const MAIN_AND_BRANCH_SELECT = `
  select coalesce(b.pipeline_id, p.id) as pipeline_id, b.pipeline_id is not null as in_branch,
         b.base_version, b.document as own, b.revision,
         p.current_version as main_version, v.document as main_document
    from (select * from tributary.branch_pipelines where project_id = $1 and branch = $2) b
    full join (select * from tributary.pipelines where project_id = $1 and deleted_at is null) p
      on p.id = b.pipeline_id
    left join tributary.pipeline_versions v on v.pipeline_id = p.id and v.version = p.current_version
   order by 1`;

interface MainAndBranchRow {
  pipeline_id: string;
  in_branch: boolean;
  base_version: number | null;
  own: Pipeline | null;
  revision: number | null;
  main_version: number | null;
  main_document: Pipeline | null;
}

const toMainAndBranch = (r: MainAndBranchRow): MainAndBranch => ({
  pipelineId: r.pipeline_id,
  inBranch: r.in_branch,
  baseVersion: r.base_version,
  own: r.own,
  revision: r.revision,
  mainVersion: r.main_version,
  mainDocument: r.main_document,
});

/** A branch's copy in the shape of a stored main pipeline, so views and compiling treat both alike. */
export function asStoredPipeline(project: string, copy: BranchPipeline, versionHash: string): StoredPipeline {
  return {
    id: copy.pipelineId,
    project,
    name: copy.document.name,
    version: copy.revision,
    createdBy: copy.createdBy,
    createdAt: copy.createdAt,
    updatedAt: copy.updatedAt,
    current: {
      pipelineId: copy.pipelineId,
      version: copy.revision,
      versionHash,
      document: copy.document,
      createdBy: copy.updatedBy,
      createdAt: copy.updatedAt,
    },
  };
}
