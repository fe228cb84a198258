// Where pipeline work happens: main, or a development branch. `?branch=` is resolved once per request
// into a Workspace that reads, lists, creates, saves and runs pipelines there, so routes have one path
// for both. What drafts, publishing, history and merging mean in each is declared here once (the
// capabilities), and the API hands them to the builder, whose toolbar follows them.
import { InvalidError, NotFoundError, type FieldProblem } from '../errors.js';
import { branchView, createInBranch, saveInBranch } from '../branches/branch-service.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import type { BranchPipeline, BranchStore } from '../store/branches.store.js';
import type { PipelineSummary, StoredPipeline } from '../store/pipelines.store.js';
import { templateOriginOf, type TemplateOriginView } from '../templates/template-origin.store.js';
import { createPipeline } from './create-pipeline.js';
import type { PipelineServices } from './pipeline-services.js';
import { savePipeline, type Saved } from './save-pipeline.js';

export interface WorkspaceServices extends PipelineServices {
  branches: BranchStore;
}

/** A branch copy's relation to main. */
export interface BranchInfo {
  name: string;
  baseVersion: number | null;
  mainVersion: number | null;
  changed: boolean;
}

/** A pipeline as a workspace sees it: main's current version, or the branch's copy. */
export interface WorkspacePipeline {
  pipeline: StoredPipeline;
  /** null on main. */
  branch: BranchInfo | null;
}

/** What each of the editor's actions does in a workspace; the builder's toolbar follows it. */
export interface WorkspaceCapabilities {
  /** The branch; null on main. */
  branch: string | null;
  /** Where the editor's autosave goes: main's draft (published later) or the branch's copy itself. */
  save: 'draft' | 'copy';
  /** Publishing the draft as the next version, and discarding it (main only: a branch has no draft). */
  publish: boolean;
  discard: boolean;
  /** Whether a run can be of the draft (`draft: true`); in a branch a run is of the branch's copy. */
  runDraft: boolean;
  /** Versions, rollback and deleting (main only: a branch keeps one copy of each pipeline). */
  history: boolean;
  /** Merging into main (and bringing the branch up to date with it). */
  merge: boolean;
  /** What save, run and merge do here, in the words the builder shows. */
  says: { save: string; run: string; merge: string | null };
}

export type WorkspaceFeature = 'drafts' | 'history';

export interface ListFilter {
  /** The projects the caller may read; null: all. */
  projects: string[] | null;
  project?: string | undefined;
  q?: string | undefined;
  after?: string | undefined;
  limit: number;
}

export interface Workspace {
  readonly branch: string | null;
  readonly capabilities: WorkspaceCapabilities;
  /** Refuses (400 naming `branch`) what this workspace does not have: drafts or history in a branch. */
  require(feature: WorkspaceFeature, what: string): void;
  list(filter: ListFilter): Promise<PipelineSummary[]>;
  /** The pipeline as this workspace sees it; `authorize` is called with its project before anything else. */
  load(id: string, authorize: (project: string) => void): Promise<WorkspacePipeline>;
  /** The template it came from and the editor's draft (main only). */
  extras(
    found: WorkspacePipeline,
  ): Promise<{ template?: TemplateOriginView; draft: PipelineDraftInfo | null }>;
  create(document: Pipeline, actor: string): Promise<WorkspacePipeline>;
  save(
    found: WorkspacePipeline,
    document: Pipeline,
    actor: string,
    expectedVersion?: number,
  ): Promise<WorkspacePipeline & Omit<Saved, 'pipeline'>>;
  /** Checks what a run asks for against what runs here (a branch runs its copy: no version, no draft). */
  checkRun(request: { version?: number | undefined; draft?: boolean | undefined }): void;
}

export interface PipelineDraftInfo {
  baseVersion: number;
  updatedBy: string;
  updatedAt: string;
}

const MAIN: WorkspaceCapabilities = {
  branch: null,
  save: 'draft',
  publish: true,
  discard: true,
  runDraft: true,
  history: true,
  merge: false,
  says: {
    save: 'Edits are saved to a draft; Publish makes the draft the next version, which triggers run',
    run: 'Runs the draft (or the published version when there is no draft)',
    merge: null,
  },
};

const branchCapabilities = (branch: string): WorkspaceCapabilities => ({
  branch,
  save: 'copy',
  publish: false,
  discard: false,
  runDraft: false,
  history: false,
  merge: true,
  says: {
    save: `Edits are saved to branch ${branch}'s copy; main is untouched`,
    run: `Runs branch ${branch}'s copy; its sinks write the branch's tables, not main's`,
    merge: `Review branch ${branch}'s changes, bring it up to date with main, and merge it into main`,
  },
});

/** The workspace `?branch=` names; main without one. Nothing is read until it is used. */
export function openWorkspace(services: WorkspaceServices, branch: string | undefined): Workspace {
  return branch ? new BranchWorkspace(services, branch) : new MainWorkspace(services);
}

class MainWorkspace implements Workspace {
  readonly branch = null;
  readonly capabilities = MAIN;
  constructor(private readonly services: WorkspaceServices) {}

  require(): void {}

  list(filter: ListFilter): Promise<PipelineSummary[]> {
    return this.services.pipelines.list({
      projects: filter.projects,
      ...(filter.project ? { project: filter.project } : {}),
      ...(filter.q ? { q: filter.q } : {}),
      ...(filter.after ? { after: filter.after } : {}),
      limit: filter.limit,
    });
  }

  async load(id: string, authorize: (project: string) => void): Promise<WorkspacePipeline> {
    const pipeline = await this.services.pipelines.require(id);
    authorize(pipeline.project);
    return { pipeline, branch: null };
  }

  async extras(found: WorkspacePipeline) {
    const [template, draft] = await Promise.all([
      templateOriginOf(this.services.pool, found.pipeline.id),
      this.services.drafts.get(found.pipeline.id),
    ]);
    return { ...(template ? { template } : {}), draft: draftInfo(draft) };
  }

  async create(document: Pipeline, actor: string): Promise<WorkspacePipeline> {
    return { pipeline: await createPipeline(this.services, document, actor), branch: null };
  }

  async save(found: WorkspacePipeline, document: Pipeline, actor: string, expectedVersion?: number) {
    const { pipeline, ...saved } = await savePipeline(this.services, {
      current: found.pipeline,
      document,
      actor,
      expectedVersion,
    });
    return { pipeline, branch: null, ...saved };
  }

  checkRun(): void {}
}

class BranchWorkspace implements Workspace {
  readonly capabilities: WorkspaceCapabilities;
  constructor(
    private readonly services: WorkspaceServices,
    readonly branch: string,
  ) {
    this.capabilities = branchCapabilities(branch);
  }

  require(feature: WorkspaceFeature, what: string): void {
    const message =
      feature === 'drafts'
        ? `branch: ${what} belong to main (a branch is its own draft space: save there)`
        : `branch: ${what} works on main only; a branch keeps one copy of each pipeline, not versions or drafts`;
    throw new InvalidError(message, [{ in: 'query', path: 'branch', message }]);
  }

  /** A branch belongs to one project: named with `project`, or the one the caller reaches. */
  async list(filter: ListFilter): Promise<PipelineSummary[]> {
    const project = filter.project ?? (filter.projects?.length === 1 ? filter.projects[0] : undefined);
    if (!project) {
      const message = 'project: a branch belongs to one project; name it with ?project=';
      throw new InvalidError(message, [{ in: 'query', path: 'project', message }]);
    }
    if (filter.projects !== null && !filter.projects.includes(project))
      throw new NotFoundError(`Branch "${this.branch}" of project "${project}" does not exist`);
    await this.services.branches.require(project, this.branch);
    const needle = filter.q?.toLowerCase();
    return (await this.services.branches.pipelines(project, this.branch))
      .map((copy) => branchView(project, copy))
      .filter((p) => !needle || p.id.includes(needle) || p.name.toLowerCase().includes(needle))
      .filter((p) => !filter.after || p.id > filter.after)
      .slice(0, filter.limit)
      .map(({ current: _current, ...summary }) => summary);
  }

  /**
   * The branch's copy. The project is main's pipeline's, or (for one made in the branch) the project
   * whose branch of that name has it.
   */
  async load(id: string, authorize: (project: string) => void): Promise<WorkspacePipeline> {
    const { pipelines, branches } = this.services;
    const project = (await pipelines.projectOf(id)) ?? (await branches.projectHolding(this.branch, id));
    if (!project) throw new NotFoundError(`Pipeline "${id}" in branch "${this.branch}" does not exist`);
    authorize(project);
    await branches.require(project, this.branch);
    return this.seen(project, await branches.requirePipeline(project, this.branch, id));
  }

  /** A branch is its own draft space: its copy has no draft, and no template link of its own. */
  async extras() {
    return { draft: null };
  }

  async create(document: Pipeline, actor: string): Promise<WorkspacePipeline> {
    await this.services.branches.require(document.project, this.branch);
    await createInBranch(this.services, { project: document.project, branch: this.branch, document, actor });
    return this.reload(document.project, document.id);
  }

  /** Overwrites the branch's copy; main and its schedule are untouched. */
  async save(found: WorkspacePipeline, document: Pipeline, actor: string, expectedVersion?: number) {
    const project = found.pipeline.project;
    const { created } = await saveInBranch(this.services, {
      project,
      branch: this.branch,
      document,
      actor,
      expectedRevision: expectedVersion,
    });
    return { ...(await this.reload(project, document.id)), created };
  }

  checkRun(request: { version?: number | undefined; draft?: boolean | undefined }): void {
    const field = request.version !== undefined ? 'version' : request.draft ? 'draft' : undefined;
    if (!field) return;
    const message = `${field}: in a branch the run is of the branch's copy (a branch is its own draft space); leave ${field} out`;
    const problem: FieldProblem = { in: 'body', path: field, message };
    throw new InvalidError(message, [problem]);
  }

  private async reload(project: string, id: string): Promise<WorkspacePipeline> {
    return this.seen(project, await this.services.branches.requirePipeline(project, this.branch, id));
  }

  private seen(project: string, copy: BranchPipeline): WorkspacePipeline {
    return {
      pipeline: branchView(project, copy),
      branch: {
        name: this.branch,
        baseVersion: copy.baseVersion,
        mainVersion: copy.mainVersion,
        changed: copy.own !== null,
      },
    };
  }
}

const draftInfo = (draft: { baseVersion: number; updatedBy: string; updatedAt: string } | undefined) =>
  draft ? { baseVersion: draft.baseVersion, updatedBy: draft.updatedBy, updatedAt: draft.updatedAt } : null;
