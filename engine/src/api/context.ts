// What the app is built from (AppDeps) and everything route handlers use, resolved once from it.
// Both live here so that app.ts and the routes import this module and it imports none of them.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { AuditLog } from '../audit/audit-log.store.js';
import { RunsClient } from '../client/runs.js';
import { PipelineSlots } from '../runs/pipeline-slots.store.js';
import { RunRecordStore } from '../runs/run-records.store.js';
import type { Logger } from '../infra/logger.js';
import { DEFAULT_TASK_QUEUE } from '../model/run-contract.js';
import { BranchStore } from '../store/branches.store.js';
import { DraftStore } from '../store/drafts.store.js';
import { PipelineStore } from '../store/pipelines.store.js';
import { ProjectStore } from '../store/projects.store.js';
import { ScheduleStore } from '../store/schedules.store.js';
import type { SecretStore } from '../store/secrets.store.js';
import { TokenStore } from '../store/tokens.store.js';
import { WebhookStore } from '../store/webhooks.store.js';
import { DEFAULT_CREDIT_RATES, type CreditRates } from '../telemetry/credit-rates.js';
import type { DescribeDeps } from '../pipelines/describe-context.js';
import { LineageIndex, postgresLineageSource } from '../lineage/lineage-index.js';
import { observedColumns } from '../lineage/observed-columns.js';
import { activityCatalog, type ConnectorCatalog } from '../pipelines/node-catalog.js';
import { ScheduleService } from '../schedules/schedule-service.js';
import type { RunLimits } from '../runs/run-limits.js';
import { TokenBuckets, type RateLimit } from './rate-limit.js';

export interface AppDeps {
  /** The platform database (schema `tributary`). */
  pool: pg.Pool;
  temporal: Client;
  version: string;
  log: Logger;
  /** The node catalogue (connectors' declarations); the activities registry by default. */
  catalog?: ConnectorCatalog;
  /** The built builder UI; served at `/` when present. */
  uiDir?: string;
  /** Where step outputs live (previews); defaults to `pool`. */
  warehousePool?: pg.Pool;
  /**
   * The warehouse as the runner login role, and the files directory: with both, the builder's
   * checks describe nodes (a file's columns, a query's) under the project's role. Without, they
   * know columns only from runs.
   */
  runnerPool?: pg.Pool;
  dataDir?: string;
  /** Defaults to a client on `taskQueue`. */
  runs?: RunsClient;
  /** The operator's limits on runs (step timeout ceiling, a project's share); defaults otherwise. */
  runLimits?: RunLimits;
  /** The workers' task queue, for schedules (default `tributary`). */
  taskQueue?: string;
  secrets?: SecretStore;
  /** Base URL webhook URLs are built on; defaults to the request's own host. */
  publicUrl?: string;
  /** Per webhook, calls with the right token; default 60 a minute with bursts of 60. */
  hookRateLimit?: RateLimit;
  /** Per webhook, calls with a wrong or missing token; default 60 a minute with bursts of 60. */
  hookAuthFailureLimit?: RateLimit;
  /** How often the run event stream looks for progress (default 500 ms). */
  ssePollMs?: number;
  /** How long the lineage index trusts the warehouse columns it read (default 10 s). */
  lineageCatalogTtlMs?: number;
  /** Origins (the Temporal Web UI) allowed to call the payload codec endpoint from a browser. */
  codecCorsOrigins?: readonly string[];
  /** Where the Temporal Web UI is, for the builder's links to a run's workflow; none when unknown. */
  temporalUi?: string | undefined;
  /** Credits per activity-second for the usage routes (TRIBUTARY_CREDIT_RATES); default: every rate 1. */
  creditRates?: CreditRates;
}

export interface ApiContext {
  pool: pg.Pool;
  warehousePool: pg.Pool;
  /** How nodes are described without a run; undefined when the app has no runner pool or files. */
  describe: DescribeDeps | undefined;
  /** The runner login (no rights of its own; it switches into a project's role); undefined without one. */
  runnerPool: pg.Pool | undefined;
  temporal: Client;
  runs: RunsClient;
  /** Absent when the app was built without a master key: the secrets routes answer 503. */
  secrets: SecretStore | undefined;
  log: Logger;
  /** The node catalogue: what pipelines compile against, lineage reads, the palette lists. */
  catalog: ConnectorCatalog;
  version: string;
  temporalUi: string | undefined;
  publicUrl: string | undefined;
  projects: ProjectStore;
  pipelines: PipelineStore;
  /** Development branches and their copies of pipelines. */
  branches: BranchStore;
  /** The editor's working copies: one draft per pipeline, never run by triggers. */
  drafts: DraftStore;
  tokens: TokenStore;
  webhooks: WebhookStore;
  schedules: ScheduleService;
  /** Handlers record a change only once it has succeeded, so a refused request leaves no entry. */
  audit: AuditLog;
  /** TRIBUTARY_CREDIT_RATES as parsed at start: a bad value stops the process, not a usage request. */
  creditRates: CreditRates;
  hookLimits: TokenBuckets;
  /** Failed webhook authentications, counted apart from the calls (see the webhook route). */
  hookAuthFailures: TokenBuckets;
  ssePollMs: number;
  /** The organisation's lineage, kept up to date as versions are published. */
  lineage: LineageIndex;
  /** The files folder (`<dataDir>/<project>/` per project); undefined when the app has none. */
  dataDir: string | undefined;
  /** The workers' task queue (connector probes run there). */
  taskQueue: string;
}

export function createContext(deps: AppDeps): ApiContext {
  const taskQueue = deps.taskQueue ?? DEFAULT_TASK_QUEUE;
  const catalog = deps.catalog ?? activityCatalog;
  const context: Omit<ApiContext, 'lineage'> = {
    pool: deps.pool,
    warehousePool: deps.warehousePool ?? deps.pool,
    describe:
      deps.runnerPool && deps.dataDir
        ? { runnerPool: deps.runnerPool, platformPool: deps.pool, dataDir: deps.dataDir }
        : undefined,
    runnerPool: deps.runnerPool,
    temporal: deps.temporal,
    runs:
      deps.runs ??
      new RunsClient(
        deps.temporal,
        taskQueue,
        new RunRecordStore(deps.pool),
        deps.runLimits,
        new PipelineSlots(deps.pool),
      ),
    secrets: deps.secrets,
    log: deps.log,
    catalog,
    version: deps.version,
    temporalUi: deps.temporalUi,
    publicUrl: deps.publicUrl?.replace(/\/+$/, ''),
    projects: new ProjectStore(deps.pool),
    pipelines: new PipelineStore(deps.pool),
    branches: new BranchStore(deps.pool),
    drafts: new DraftStore(deps.pool),
    tokens: new TokenStore(deps.pool),
    webhooks: new WebhookStore(deps.pool),
    schedules: new ScheduleService(
      deps.temporal,
      new ScheduleStore(deps.pool),
      taskQueue,
      catalog,
      deps.runLimits,
    ),
    audit: new AuditLog(deps.pool),
    creditRates: deps.creditRates ?? DEFAULT_CREDIT_RATES,
    hookLimits: new TokenBuckets(deps.hookRateLimit ?? { capacity: 60, perMinute: 60 }),
    hookAuthFailures: new TokenBuckets(deps.hookAuthFailureLimit ?? { capacity: 60, perMinute: 60 }),
    dataDir: deps.dataDir,
    taskQueue,
    ssePollMs: deps.ssePollMs ?? 500,
  };
  return {
    ...context,
    lineage: new LineageIndex(
      postgresLineageSource(deps.pool, context.warehousePool, (document) =>
        observedColumns(context, document, document.id),
      ),
      catalog,
      deps.lineageCatalogTtlMs,
    ),
  };
}
