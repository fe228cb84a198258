// Bringing a branch up to date with main. Pipelines the branch did not change take main's latest
// version (new ones on main arrive, deleted ones leave); one changed on both sides is a conflict the
// caller resolves per pipeline (keep the branch's or take main's). All of it in one transaction.
import { ConflictError, InvalidError, type FieldProblem } from '../errors.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import { diffPipelines, type PipelineDiff } from '../pipelines/pipeline-diff.js';
import type { AuditLog } from '../audit/audit-log.store.js';
import type { BranchStore, MainAndBranch, UpdateStep } from '../store/branches.store.js';

export type UpdateChange = 'updated' | 'added' | 'removed';

export interface UpdateConflict {
  pipelineId: string;
  /** The main version the branch started from; null for a pipeline made in the branch. */
  baseVersion: number | null;
  /** main's version now; null when main deleted it. */
  mainVersion: number | null;
  main: Pipeline | null;
  /** The branch's copy and its revision (its version in the branch). */
  branch: Pipeline;
  branchVersion: number;
  /** From main's version to the branch's. */
  diff: PipelineDiff;
}

export interface UpdatePreview {
  upToDate: boolean;
  /** What an update does to pipelines the branch did not change. */
  changes: {
    pipelineId: string;
    change: UpdateChange;
    baseVersion: number | null;
    mainVersion: number | null;
  }[];
  conflicts: UpdateConflict[];
}

/** The user's word on a pipeline changed on both sides, for the main version they saw. */
export interface UpdateChoice {
  take: 'main' | 'branch';
  mainVersion: number | null;
}

export interface UpdateResult {
  applied: {
    pipelineId: string;
    change: UpdateChange | 'took-main' | 'kept-branch';
    baseVersion: number | null;
    mainVersion: number | null;
  }[];
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Sorts every pipeline into what an update does with it; untouched ones are left out. */
export function classify(pipelines: MainAndBranch[]): UpdatePreview {
  const changes: UpdatePreview['changes'] = [];
  const conflicts: UpdateConflict[] = [];
  for (const p of pipelines) {
    const { pipelineId, baseVersion, mainVersion } = p;
    if (!p.inBranch) {
      changes.push({ pipelineId, change: 'added', baseVersion: null, mainVersion });
      continue;
    }
    if (p.own === null) {
      // Untouched in the branch: it follows main, wherever main went.
      if (mainVersion === null) changes.push({ pipelineId, change: 'removed', baseVersion, mainVersion });
      else if (mainVersion !== baseVersion)
        changes.push({ pipelineId, change: 'updated', baseVersion, mainVersion });
      continue;
    }
    // Changed in the branch: only main moving on (or taking a new pipeline's id) is a conflict.
    if (baseVersion === mainVersion) continue;
    if (mainVersion !== null && same(p.own, p.mainDocument)) {
      // Both sides made the same change: the copy is main's version now.
      changes.push({ pipelineId, change: 'updated', baseVersion, mainVersion });
      continue;
    }
    conflicts.push({
      pipelineId,
      baseVersion,
      mainVersion,
      main: p.mainDocument,
      branch: p.own,
      branchVersion: p.revision!,
      diff: diffPipelines(p.mainDocument ?? { ...p.own, nodes: [], edges: [] }, p.own),
    });
  }
  return { upToDate: changes.length === 0 && conflicts.length === 0, changes, conflicts };
}

/**
 * The steps of an update with the caller's choices. Refuses, changing nothing, when a conflict has
 * no choice (409 listing each with both versions), a choice was made over another main version
 * than main's now (409), or a choice names a pipeline that is not in conflict (400).
 */
export function planUpdate(
  preview: UpdatePreview,
  choices: Record<string, UpdateChoice>,
): UpdateResult & { steps: UpdateStep[] } {
  const conflicting = new Map(preview.conflicts.map((c) => [c.pipelineId, c]));
  const invalid: FieldProblem[] = Object.keys(choices)
    .filter((id) => !conflicting.has(id))
    .map((id) => ({
      in: 'body',
      path: `choices.${id}`,
      message: `choices.${id}: pipeline "${id}" is not changed on both sides, so there is nothing to choose`,
    }));
  for (const [id, choice] of Object.entries(choices)) {
    if (choice.take === 'branch' && conflicting.get(id)?.mainVersion === null)
      invalid.push({
        in: 'body',
        path: `choices.${id}`,
        message: `choices.${id}: main deleted pipeline "${id}", so the branch's copy cannot be kept over it; choose "main" (the branch drops it)`,
      });
  }
  if (invalid.length) throw new InvalidError(invalid.map((e) => e.message).join('; '), invalid);

  const unresolved: FieldProblem[] = [];
  for (const c of preview.conflicts) {
    const choice = choices[c.pipelineId];
    const versions =
      `main is at ${c.mainVersion === null ? 'no version (deleted)' : `version ${c.mainVersion}`}` +
      `${c.baseVersion === null ? ' (the branch made it)' : `, the branch started from version ${c.baseVersion}`}` +
      ` and saved its own (version ${c.branchVersion} in the branch)`;
    if (!choice)
      unresolved.push({
        path: `choices.${c.pipelineId}`,
        code: 'update_conflict',
        message: `pipeline "${c.pipelineId}" changed on both sides: ${versions}; choose "branch" or "main"`,
      });
    else if (choice.mainVersion !== c.mainVersion)
      unresolved.push({
        path: `choices.${c.pipelineId}`,
        code: 'stale_choice',
        message: `pipeline "${c.pipelineId}": the choice was made over main's version ${choice.mainVersion ?? 'none'}, but ${versions}; look again and choose`,
      });
  }
  if (unresolved.length)
    throw new ConflictError(
      `The branch was not updated: ${unresolved.map((e) => e.message).join('; ')}. Nothing was changed; ` +
        'GET …/update shows both versions of each, then POST …/update with `choices`',
      unresolved,
    );

  const steps: UpdateStep[] = [];
  const applied: UpdateResult['applied'] = [];
  for (const c of preview.changes) {
    if (c.change === 'removed') steps.push({ pipelineId: c.pipelineId, action: 'remove' });
    else
      steps.push({
        pipelineId: c.pipelineId,
        action: c.change === 'added' ? 'add' : 'take-main',
        mainVersion: c.mainVersion!,
      });
    applied.push(c);
  }
  for (const c of preview.conflicts) {
    const { take } = choices[c.pipelineId]!;
    if (take === 'main' && c.mainVersion === null) steps.push({ pipelineId: c.pipelineId, action: 'remove' });
    else
      steps.push({
        pipelineId: c.pipelineId,
        action: take === 'main' ? 'take-main' : 'keep-branch',
        mainVersion: c.mainVersion!,
      });
    applied.push({
      pipelineId: c.pipelineId,
      change: take === 'main' ? 'took-main' : 'kept-branch',
      baseVersion: c.baseVersion,
      mainVersion: c.mainVersion,
    });
  }
  return { applied, steps };
}

export interface BranchUpdateServices {
  branches: BranchStore;
  audit: AuditLog;
}

/** What an update would do now: changes that follow main, and the conflicts with both versions. */
export async function previewBranchUpdate(
  services: BranchUpdateServices,
  project: string,
  name: string,
): Promise<UpdatePreview> {
  await services.branches.require(project, name);
  return classify(await services.branches.compareWithMain(project, name));
}

/** Brings the branch up to date with main, all or nothing, and audits it as `branch.updated`. */
export async function updateBranch(
  services: BranchUpdateServices,
  request: { project: string; name: string; actor: string; choices: Record<string, UpdateChoice> },
): Promise<UpdateResult> {
  const { project, name, actor } = request;
  const { applied } = await services.branches.updateFromMain(project, name, actor, (pipelines) =>
    planUpdate(classify(pipelines), request.choices),
  );
  if (applied.length > 0) {
    await services.audit.record({
      actor,
      project,
      action: 'branch.updated',
      target: `branch:${project}/${name}`,
      summary: {
        pipelines: Object.fromEntries(
          applied.map((a) => [a.pipelineId, { change: a.change, from: a.baseVersion, to: a.mainVersion }]),
        ),
      },
    });
  }
  return { applied };
}
