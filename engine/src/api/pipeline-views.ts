// How pipelines look in API responses: one shape per resource (summary, pipeline with its current
// version, saved pipeline, version, diff), the zod schemas the OpenAPI document is built from,
// and the functions that make them.
import { createHash } from 'node:crypto';
import type { Response } from 'express';
import { z } from 'zod';
import type pg from 'pg';
import type { NodeCatalog } from '../compiler/compile.js';
import type { CompileError } from '../compiler/errors.js';
import { checkConnectorConfigs } from '../connectors/connector-config-check.js';
import { PipelineSchema } from '../model/pipeline.schema.js';
import { validity } from '../pipelines/pipeline-compile.js';
import { planCacheOf } from '../pipelines/plan-cache.js';
import type { Saved } from '../pipelines/save-pipeline.js';
import type { BranchInfo } from '../pipelines/workspace.js';
import type { PipelineDraft } from '../store/drafts.store.js';
import type { PipelineVersion, StoredPipeline } from '../store/pipelines.store.js';
import { TemplateOriginSchema } from '../templates/template-origin.store.js';
import { CompileErrorSchema, ValiditySchema } from './schemas.js';

/** A stored version's document: it passed PipelineSchema when it was saved. */
const DocumentSchema = PipelineSchema.meta({ description: 'The pipeline document' });

export const SummarySchema = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string(),
  version: z.number().int(),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const VersionInfoSchema = z.object({
  version: z.number().int(),
  versionHash: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  message: z
    .string()
    .nullable()
    .optional()
    .meta({ description: 'What the publisher said about the version (POST …/publish `message`)' }),
});

const ScheduleRefreshSchema = z
  .object({
    refreshed: z.boolean(),
    pipelineVersion: z.number().int(),
    errors: z.array(CompileErrorSchema).optional(),
  })
  .meta({ description: "What the save did to the pipeline's schedule, when it has one" });

export const PipelineLinksSchema = z.object({
  self: z.string(),
  versions: z.string(),
  runs: z.string(),
  schedule: z.string(),
});

const BranchInfoSchema = z
  .object({
    name: z.string(),
    baseVersion: z.number().int().nullable().meta({ description: 'The main version the branch copied' }),
    mainVersion: z.number().int().nullable().meta({ description: "main's version now" }),
    changed: z.boolean().meta({ description: 'Saved in the branch (or made there)' }),
  })
  .meta({ description: 'Present when read with ?branch: the branch copy’s relation to main' });

export const PipelineViewSchema = SummarySchema.extend({
  branch: BranchInfoSchema.optional(),
  /** The template it was made from, and whether a newer version of it exists. */
  template: TemplateOriginSchema.nullable().optional(),
  versionHash: z.string(),
  versionCreatedBy: z.string(),
  versionCreatedAt: z.string(),
  valid: z.boolean(),
  errors: z.array(CompileErrorSchema),
  document: DocumentSchema,
  links: PipelineLinksSchema,
});

export const DraftInfoSchema = z
  .object({
    baseVersion: z.number().int().meta({ description: 'The version the draft was started from' }),
    updatedBy: z.string(),
    updatedAt: z.string(),
  })
  .meta({ description: "The editor's autosaved working copy; it is not a version and no trigger runs it" });

export const WorkspaceSchema = z
  .object({
    branch: z.string().nullable().meta({ description: 'The branch; null on main' }),
    save: z.enum(['draft', 'copy']).meta({
      description:
        "Where the editor's autosave goes: main's draft (PUT …/draft) or the branch's copy (PUT …?branch=)",
    }),
    publish: z.boolean().meta({ description: 'POST …/publish works here (main only)' }),
    discard: z.boolean().meta({ description: 'DELETE …/draft works here (main only)' }),
    runDraft: z
      .boolean()
      .meta({ description: 'A run may be of the draft (`draft: true`); in a branch it is of the copy' }),
    history: z.boolean().meta({ description: 'Versions, rollback and delete work here (main only)' }),
    merge: z.boolean().meta({ description: 'The workspace is a branch that merges into main' }),
    says: z
      .object({ save: z.string(), run: z.string(), merge: z.string().nullable() })
      .meta({ description: 'What save, run and merge do here, in words for the toolbar' }),
  })
  .meta({
    description: 'Where the pipeline was read (main or a branch) and what the editor’s actions do there',
  });

export const PipelineWithDraftSchema = PipelineViewSchema.extend({
  draft: DraftInfoSchema.nullable(),
  workspace: WorkspaceSchema,
});

export const DraftViewSchema = DraftInfoSchema.extend({
  pipelineId: z.string(),
  document: DocumentSchema,
  valid: z.boolean().meta({ description: 'Whether the draft compiles (it need not to be saved)' }),
  errors: z.array(CompileErrorSchema),
  notes: ValiditySchema.shape.notes,
});

export const SavedSchema = PipelineViewSchema.extend({
  notes: ValiditySchema.shape.notes,
  created: z.boolean().meta({ description: 'false when the document equals the current version' }),
  schedule: ScheduleRefreshSchema.optional(),
});

export const VersionViewSchema = VersionInfoSchema.extend({
  pipelineId: z.string(),
  valid: z.boolean(),
  errors: z.array(CompileErrorSchema),
  document: DocumentSchema,
});

const ChangeSchema = z.object({
  path: z.string(),
  kind: z.enum(['added', 'removed', 'changed']),
  from: z.unknown().optional(),
  to: z.unknown().optional(),
});
const NodeRef = z.object({ id: z.string(), type: z.string() });
export const DiffSchema = z.object({
  pipelineId: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  nodes: z.object({
    added: z.array(NodeRef),
    removed: z.array(NodeRef),
    changed: z.array(NodeRef.extend({ changes: z.array(ChangeSchema) })),
  }),
  edges: z.object({ added: z.array(z.string()), removed: z.array(z.string()) }),
  params: z.array(ChangeSchema),
  settings: z.array(ChangeSchema),
  metadata: z.array(ChangeSchema),
});

/** A pipeline as a workspace sees it; in a branch, with its relation to main and links that stay there. */
export function pipelineView(
  pipeline: StoredPipeline,
  catalog: NodeCatalog,
  branch: BranchInfo | null = null,
) {
  const links = `/api/pipelines/${pipeline.id}`;
  const inBranch = (link: string) => (branch ? `${link}?branch=${branch.name}` : link);
  return {
    id: pipeline.id,
    project: pipeline.project,
    name: pipeline.name,
    version: pipeline.version,
    createdBy: pipeline.createdBy,
    createdAt: pipeline.createdAt,
    updatedAt: pipeline.updatedAt,
    ...(branch ? { branch } : {}),
    versionHash: pipeline.current.versionHash,
    versionCreatedBy: pipeline.current.createdBy,
    versionCreatedAt: pipeline.current.createdAt,
    ...planCacheOf(catalog).validity(pipeline.current),
    document: pipeline.current.document,
    links: {
      self: inBranch(links),
      versions: inBranch(`${links}/versions`),
      runs: `/api/runs?pipeline=${pipeline.id}`,
      schedule: `${links}/schedule`,
    },
  };
}

export function savedView(
  saved: Omit<Saved, 'pipeline'> & { pipeline: StoredPipeline; branch?: BranchInfo | null },
  catalog: NodeCatalog,
) {
  return {
    ...pipelineView(saved.pipeline, catalog, saved.branch ?? null),
    created: saved.created,
    ...(saved.schedule ? { schedule: saved.schedule } : {}),
  };
}

/**
 * A save's answer with its Python connector nodes' configs checked against their cached specs:
 * each problem an error of the answer (the save is kept, as one that does not compile is), and a
 * note for a connector whose spec is not known yet.
 */
export async function withConnectorChecks<V extends { valid: boolean; errors: CompileError[] }>(
  view: V,
  pool: pg.Pool,
  catalog: NodeCatalog,
  document: unknown,
): Promise<V & { notes?: string[] }> {
  const { errors, notes } = await checkConnectorConfigs(pool, catalog, document);
  return {
    ...view,
    valid: view.valid && errors.length === 0,
    errors: [...view.errors, ...errors],
    ...(notes.length ? { notes } : {}),
  };
}

export const draftInfo = (draft: PipelineDraft | undefined) =>
  draft ? { baseVersion: draft.baseVersion, updatedBy: draft.updatedBy, updatedAt: draft.updatedAt } : null;

export function draftView(draft: PipelineDraft, catalog: NodeCatalog) {
  return {
    pipelineId: draft.pipelineId,
    ...draftInfo(draft)!,
    ...validity(draft.document, catalog),
    document: draft.document,
  };
}

export function versionView(version: PipelineVersion, catalog: NodeCatalog) {
  return {
    pipelineId: version.pipelineId,
    version: version.version,
    versionHash: version.versionHash,
    createdBy: version.createdBy,
    createdAt: version.createdAt,
    message: version.message ?? null,
    ...planCacheOf(catalog).validity(version),
    document: version.document,
  };
}

/**
 * A pipeline answer's ETag: `"<version>-<digest of the answer>"`. The version leads, for If-Match on
 * the next save; the digest makes it change whenever the answer does (a draft saved or discarded, a
 * branch's main moving on), so a browser's If-None-Match never gets a 304 for a stale answer.
 */
export const pipelineEtag = (body: { version: number }) =>
  `"${body.version}-${createHash('sha256').update(JSON.stringify(body)).digest('base64url').slice(0, 16)}"`;

export const sendPipeline = <T extends { version: number }>(res: Response, status: number, body: T) =>
  res.status(status).set('ETag', pipelineEtag(body)).json(body);
