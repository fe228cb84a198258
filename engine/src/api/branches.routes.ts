// Development branches of a project: list, make, diff against main, merge, delete. Pipelines are
// read, saved and run in a branch through the pipeline routes with `?branch=NAME`.
import { z } from 'zod';
import { branchName } from '../branches/branch-name.js';
import { createBranch, deleteBranch, diffBranch, mergeBranch } from '../branches/branch-service.js';
import { previewBranchUpdate, updateBranch } from '../branches/branch-update.js';
import { PipelineSchema } from '../model/pipeline.schema.js';
import { DiffSchema } from './pipeline-views.js';
import { route } from './route.js';
import { page, ProjectParams } from './schemas.js';

const BranchSchema = z.object({
  project: z.string(),
  name: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  changedPipelines: z.number().int().meta({ description: 'Pipelines saved or made in the branch' }),
});

const BranchParams = ProjectParams.extend({ name: branchName });

const BranchDiffSchema = z.object({
  branch: BranchSchema,
  pipelines: z.array(
    z.object({
      pipelineId: z.string(),
      status: z.enum(['added', 'changed']),
      baseVersion: z
        .number()
        .int()
        .nullable()
        .meta({ description: 'The main version the branch started from' }),
      mainVersion: z.number().int().nullable().meta({ description: "main's version now" }),
      conflict: z
        .boolean()
        .meta({ description: 'main changed it since the branch was made: merge is refused' }),
      diff: DiffSchema.omit({ pipelineId: true, from: true, to: true }),
      sql: z.array(z.object({ nodeId: z.string(), from: z.string().nullable(), to: z.string().nullable() })),
    }),
  ),
  tables: z.array(
    z.object({
      schema: z.string(),
      table: z.string(),
      branchSchema: z.string(),
      branchRows: z.number().int(),
      mainRows: z.number().int().nullable().meta({ description: 'null when main has no such table' }),
    }),
  ),
});

const MergeResultSchema = z.object({
  merged: z.array(z.object({ pipelineId: z.string(), version: z.number().int(), created: z.boolean() })),
  runs: z.array(
    z.object({ pipelineId: z.string(), runId: z.string().nullable(), error: z.string().nullable() }),
  ),
});

const UpdateChangeSchema = z.object({
  pipelineId: z.string(),
  change: z.enum(['updated', 'added', 'removed']).meta({
    description:
      "`updated`: the copy takes main's latest version; `added`: made on main after the branch; `removed`: deleted on main",
  }),
  baseVersion: z.number().int().nullable().meta({ description: 'The main version the copy was at' }),
  mainVersion: z.number().int().nullable().meta({ description: "main's version now" }),
});

const UpdatePreviewSchema = z.object({
  upToDate: z.boolean(),
  changes: z.array(UpdateChangeSchema).meta({ description: 'Pipelines the branch did not change' }),
  conflicts: z
    .array(
      z.object({
        pipelineId: z.string(),
        baseVersion: z.number().int().nullable().meta({ description: 'null: made in the branch' }),
        mainVersion: z.number().int().nullable().meta({ description: 'null: deleted on main' }),
        main: PipelineSchema.nullable().meta({ description: "main's version of it" }),
        branch: PipelineSchema.meta({ description: "the branch's version of it" }),
        branchVersion: z.number().int(),
        diff: DiffSchema.omit({ pipelineId: true, from: true, to: true }).meta({
          description: "From main's version to the branch's",
        }),
      }),
    )
    .meta({ description: 'Pipelines changed on both sides: choose one version of each' }),
});

const UpdateChoicesSchema = z.strictObject({
  choices: z
    .record(
      z.string(),
      z.strictObject({
        take: z.enum(['branch', 'main']),
        mainVersion: z
          .number()
          .int()
          .nullable()
          .meta({ description: "main's version the choice was made over (from GET …/update)" }),
      }),
    )
    .default({})
    .meta({ description: 'For each pipeline changed on both sides: keep the branch’s or take main’s' }),
});

const UpdateResultSchema = z.object({
  applied: z.array(
    UpdateChangeSchema.extend({
      change: z.enum(['updated', 'added', 'removed', 'took-main', 'kept-branch']),
    }),
  ),
});

export const branchRoutes = [
  route({
    method: 'get',
    path: '/projects/:project/branches',
    operationId: 'listBranches',
    summary: "A project's development branches",
    tag: 'branches',
    scope: 'read',
    params: ProjectParams,
    responses: { 200: { description: 'Branches, by name', schema: page(BranchSchema) } },
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      res.json({ items: await deps.branches.list(params.project), nextCursor: null });
    },
  }),
  route({
    method: 'post',
    path: '/projects/:project/branches',
    operationId: 'createBranch',
    summary: 'Make a branch: a copy-on-write of the project’s pipelines as they are now',
    description:
      "Each pipeline's current main version is recorded as the branch's base. In the branch, sinks write " +
      '`<schema>__<branch>` schemas and reads fall through to main’s tables the branch has not written. ' +
      "The name must leave room for `<schema>__<branch>` in Postgres's 63-byte names (400 says the limit).",
    tag: 'branches',
    scope: 'write',
    params: ProjectParams,
    body: z.strictObject({ name: branchName }),
    responses: { 201: { description: 'Made', schema: BranchSchema } },
    problems: [409],
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      const branch = await createBranch(deps, params.project, body.name, actor);
      res.status(201).location(`/api/projects/${params.project}/branches/${branch.name}`).json(branch);
    },
  }),
  route({
    method: 'delete',
    path: '/projects/:project/branches/:name',
    operationId: 'deleteBranch',
    summary: 'Delete a branch, its pipeline copies, its incremental state and its schemas',
    tag: 'branches',
    scope: 'write',
    params: BranchParams,
    responses: { 204: { description: 'Deleted' } },
    async handler({ deps, params, actor, authorize, res }) {
      authorize(params.project);
      await deleteBranch(deps, params.project, params.name, actor);
      res.status(204).end();
    },
  }),
  route({
    method: 'get',
    path: '/projects/:project/branches/:name/diff',
    operationId: 'diffBranch',
    summary: 'What the branch changed against main: pipelines (graph and SQL) and tables written',
    tag: 'branches',
    scope: 'read',
    params: BranchParams,
    responses: { 200: { description: 'The changes', schema: BranchDiffSchema } },
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      res.json(await diffBranch(deps, params.project, params.name));
    },
  }),
  route({
    method: 'post',
    path: '/projects/:project/branches/:name/merge',
    operationId: 'mergeBranch',
    summary: "Merge the branch's changed pipelines into main, each as a new version",
    description:
      'Refused with 409, every conflict listed in `errors` and nothing merged, when main changed one of ' +
      'them since the branch was made. With `rebuild: true`, each merged pipeline is run on main ' +
      '(needs the `run` scope too).',
    tag: 'branches',
    scope: 'write',
    params: BranchParams,
    body: z.strictObject({ rebuild: z.boolean().default(false) }).default({ rebuild: false }),
    responses: { 200: { description: 'Merged', schema: MergeResultSchema } },
    problems: [409],
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      if (body.rebuild) authorize(params.project, 'run');
      res.json(
        await mergeBranch(deps, { project: params.project, name: params.name, actor, rebuild: body.rebuild }),
      );
    },
  }),
  route({
    method: 'get',
    path: '/projects/:project/branches/:name/update',
    operationId: 'previewBranchUpdate',
    summary: 'What bringing the branch up to date with main would do',
    description:
      'Pipelines the branch did not change and main did (or made, or deleted) are listed under `changes`; ' +
      "those changed on both sides under `conflicts`, with main's and the branch's documents.",
    tag: 'branches',
    scope: 'read',
    params: BranchParams,
    responses: { 200: { description: 'The update, not applied', schema: UpdatePreviewSchema } },
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      res.json(await previewBranchUpdate(deps, params.project, params.name));
    },
  }),
  route({
    method: 'post',
    path: '/projects/:project/branches/:name/update',
    operationId: 'updateBranch',
    summary: "Bring the branch up to date with main: untouched pipelines take main's latest version",
    description:
      "In one transaction: pipelines the branch did not change take main's current version, pipelines made " +
      'on main since arrive, pipelines deleted on main leave. A pipeline changed on both sides needs a choice ' +
      "in `choices` (`take: branch` keeps the branch's document over main's version, so a merge no longer " +
      "conflicts; `take: main` drops the branch's change). Without a choice for each, 409 lists them and " +
      'nothing changes. Audited as `branch.updated`.',
    tag: 'branches',
    scope: 'write',
    params: BranchParams,
    body: UpdateChoicesSchema.default({ choices: {} }),
    responses: { 200: { description: 'Updated', schema: UpdateResultSchema } },
    problems: [409],
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      res.json(
        await updateBranch(deps, {
          project: params.project,
          name: params.name,
          actor,
          choices: body.choices,
        }),
      );
    },
  }),
];
