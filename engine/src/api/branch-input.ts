// `?branch=NAME` on the pipeline routes: parsing it, and loading a pipeline as a branch sees it
// (authorised on the branch's project, like a main pipeline on its own).
import { z } from 'zod';
import { branchName } from '../branches/branch-name.js';
import { branchView } from '../branches/branch-service.js';
import type { BranchPipeline } from '../store/branches.store.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { ApiContext } from './context.js';
import { badRequest, notFound } from './problem.js';

export const BranchQuery = z.object({ branch: branchName.optional() });

export interface InBranch {
  project: string;
  branch: string;
  copy: BranchPipeline;
  pipeline: StoredPipeline;
}

/**
 * The branch's copy of a pipeline. The project is main's pipeline's, or (for one made in the
 * branch) the project whose branch of that name has it.
 */
export async function loadInBranch(
  deps: ApiContext,
  branch: string,
  id: string,
  authorize: (project: string) => void,
): Promise<InBranch> {
  const project = (await deps.pipelines.projectOf(id)) ?? (await deps.branches.projectHolding(branch, id));
  if (!project) throw notFound(`Pipeline "${id}" in branch "${branch}"`);
  authorize(project);
  await deps.branches.require(project, branch);
  const copy = await deps.branches.requirePipeline(project, branch, id);
  return { project, branch, copy, pipeline: branchView(project, copy) };
}

/** Refuses `?branch` where a route acts on main's history only. */
export function mainOnly(branch: string | undefined, what: string): void {
  if (branch === undefined) return;
  const message = `branch: ${what} works on main only; a branch keeps one copy of each pipeline, not versions or drafts`;
  throw badRequest(message, [{ in: 'query', path: 'branch', message }]);
}

/**
 * The pipelines of a branch, as GET /pipelines lists main's. A branch belongs to one project: name
 * it with `?project=` unless the token reaches only one.
 */
export async function listInBranch(
  deps: ApiContext,
  branch: string,
  query: { project?: string | undefined; q?: string | undefined; cursor?: string | undefined; limit: number },
  reach: string[] | null,
) {
  const project = query.project ?? (reach?.length === 1 ? reach[0] : undefined);
  if (!project) {
    const message = 'project: a branch belongs to one project; name it with ?project=';
    throw badRequest(message, [{ in: 'query', path: 'project', message }]);
  }
  if (reach !== null && !reach.includes(project))
    throw notFound(`Branch "${branch}" of project "${project}"`);
  await deps.branches.require(project, branch);
  const needle = query.q?.toLowerCase();
  const items = (await deps.branches.pipelines(project, branch))
    .map((copy) => branchView(project, copy))
    .filter((p) => !needle || p.id.includes(needle) || p.name.toLowerCase().includes(needle))
    .filter((p) => !query.cursor || p.id > query.cursor)
    .slice(0, query.limit)
    .map(({ current: _current, ...summary }) => summary);
  return { items, nextCursor: items.length === query.limit ? items.at(-1)!.id : null };
}
