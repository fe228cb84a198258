// The API's shapes as the builder uses them, named once and read from the generated schema
// (schema.gen.ts, made by `npm run api:types` from the engine's route table), so they cannot drift.
import type { JsonSchema } from '../model/types.ts';
import type { operations } from './schema.gen.ts';

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
/** The query an operation takes. */
export type Query<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
/** The JSON body an operation takes. */
export type Body<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer T } };
}
  ? T
  : never;

export type Health = Json<'getHealth'>;
/** The config's JSON Schema is typed as such: the document only says "an object". */
export type Connector = Omit<Json<'listConnectors'>['items'][number], 'config'> & { config: JsonSchema };
export type Project = Json<'getProject'>;

export type PipelineSummary = Json<'listPipelines'>['items'][number];
export type PipelineView = Json<'getPipeline'>;
/** Where a pipeline was read (main or a branch) and what save, run, publish and merge do there. */
export type Workspace = PipelineView['workspace'];
export type UpdatePreview = Json<'previewBranchUpdate'>;
export type UpdateChoices = NonNullable<Body<'updateBranch'>>['choices'];
export type SavedPipeline = Json<'savePipeline'>;
export type VersionInfo = Json<'listPipelineVersions'>['items'][number];
export type PipelineVersionView = Json<'getPipelineVersion'>;
export type PipelineDiff = Json<'diffPipelineVersions'>;
export type Change = PipelineDiff['params'][number];
export type Validity = Json<'validatePipeline'>;
export type CompileError = Validity['errors'][number];

export type RunStarted = Json<'startRun', 202>;
export type RunSummary = Json<'listRuns'>['items'][number];
export type RunDetail = Json<'getRun'>;
export type RunStatus = RunSummary['status'];
export type StepProgress = RunDetail['steps'][string];
export type StepStatus = StepProgress['status'];
export type RunDelivery = Json<'getRunNotifications'>['items'][number];
export type NotificationRules = Json<'getProjectNotifications'>['rules'];
export type Preview = Json<'previewStep'>;
export type NodeSchema = Json<'pipelineSchemas'>['nodes'][string];
export type SinkTarget = Json<'sinkTarget'>;
export type RunAuditTrail = Json<'getRunAudit'>;
export type RunAuditEvent = RunAuditTrail['events'][number];

export type SecretInfo = Json<'listSecrets'>['items'][number];
export type TokenInfo = Json<'listTokens'>['items'][number];
export type CreatedToken = Json<'createToken', 201>;
export type Schedule = Json<'getSchedule'>;
export type ScheduleInput = Body<'putSchedule'>;
export type Webhook = Json<'listWebhooks'>['items'][number];
export type CreatedWebhook = Json<'createWebhook', 201>;

export type Template = Json<'listTemplates'>['items'][number];
export type TemplateDetail = Omit<Json<'getTemplate'>, 'params'> & { params: JsonSchema };
export type InstantiateInput = Body<'instantiateTemplate'>;
export type Instantiated = Json<'instantiateTemplate', 201>;

export type UsageReport = Json<'getUsage'>;
export type UsageGroupBy = UsageReport['groupBy'];
export type UsageTotals = UsageReport['totals'];
export type AuditEntry = Json<'listAuditLog'>['items'][number];

export const isFinished = (status: RunStatus | undefined): boolean => !!status && status !== 'running';

export type BranchInfo = Json<'listBranches'>['items'][number];
export type BranchDiff = Json<'diffBranch'>;
export type BranchMerge = Json<'mergeBranch'>;

export type CatalogEntry = Json<'listCatalog'>['items'][number];
export type ProductView = Json<'getProduct'>;
export type Lineage = Json<'getLineage'>;
