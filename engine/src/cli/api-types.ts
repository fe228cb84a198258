// The API's responses as the CLI reads them, from the generated contract (builder-ui/src/api/
// schema.gen.ts, made by `npm run api:types` from the route table), never typed by hand. Types only:
// nothing of the builder is loaded at run time.
import type { components, operations } from '../../../builder-ui/src/api/schema.gen.js';

type Responses<Op extends keyof operations> = operations[Op]['responses'];
/** The JSON body an operation answers with, at `status`. */
export type Json<
  Op extends keyof operations,
  Status extends number = 200,
> = Status extends keyof Responses<Op>
  ? Responses<Op>[Status] extends { content: { 'application/json': infer T } }
    ? T
    : never
  : never;

export type Problem = components['schemas']['Problem'];
export type Health = Json<'getHealth'>;
export type ProjectPage = Json<'listProjects'>;
export type PipelinePage = Json<'listPipelines'>;
export type RemotePipeline = Json<'getPipeline'>;
export type SavedPipeline = Json<'savePipeline'>;
export type VersionPage = Json<'listPipelineVersions'>;
export type VersionInfo = VersionPage['items'][number];
export type RunView = Json<'getRun'>;
export type StepView = RunView['steps'][string];
export type RunStarted = Json<'startRun', 202>;
export type BranchUpdatePreview = Json<'previewBranchUpdate'>;
export type BranchUpdated = Json<'updateBranch'>;
