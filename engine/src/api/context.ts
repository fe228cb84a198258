// Everything route handlers use, resolved once from the app's dependencies.
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { AuditLog } from '../audit/audit-log.store.js';
import { RunsClient } from '../client/runs.js';
import type { Logger } from '../infra/logger.js';
import { PipelineStore } from '../store/pipelines.store.js';
import { ProjectStore } from '../store/projects.store.js';
import { ScheduleStore } from '../store/schedules.store.js';
import type { SecretStore } from '../store/secrets.store.js';
import { TokenStore } from '../store/tokens.store.js';
import { WebhookStore } from '../store/webhooks.store.js';
import { DEFAULT_CREDIT_RATES, type CreditRates } from '../telemetry/credit-rates.js';
import type { AppDeps } from './app.js';
import { TokenBuckets } from './rate-limit.js';
import { ScheduleService } from './schedule-service.js';

export interface ApiContext {
  pool: pg.Pool;
  warehousePool: pg.Pool;
  temporal: Client;
  runs: RunsClient;
  /** Absent when the app was built without a master key: the secrets routes answer 503. */
  secrets: SecretStore | undefined;
  log: Logger;
  version: string;
  temporalUi: string | undefined;
  publicUrl: string | undefined;
  projects: ProjectStore;
  pipelines: PipelineStore;
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
}

export function createContext(deps: AppDeps): ApiContext {
  const taskQueue = deps.taskQueue ?? 'tributary';
  return {
    pool: deps.pool,
    warehousePool: deps.warehousePool ?? deps.pool,
    temporal: deps.temporal,
    runs: deps.runs ?? new RunsClient(deps.temporal, taskQueue),
    secrets: deps.secrets,
    log: deps.log,
    version: deps.version,
    temporalUi: deps.temporalUi,
    publicUrl: deps.publicUrl?.replace(/\/+$/, ''),
    projects: new ProjectStore(deps.pool),
    pipelines: new PipelineStore(deps.pool),
    tokens: new TokenStore(deps.pool),
    webhooks: new WebhookStore(deps.pool),
    schedules: new ScheduleService(deps.temporal, new ScheduleStore(deps.pool), taskQueue),
    audit: new AuditLog(deps.pool),
    creditRates: deps.creditRates ?? DEFAULT_CREDIT_RATES,
    hookLimits: new TokenBuckets(deps.hookRateLimit ?? { capacity: 60, perMinute: 60 }),
    hookAuthFailures: new TokenBuckets(deps.hookAuthFailureLimit ?? { capacity: 60, perMinute: 60 }),
    ssePollMs: deps.ssePollMs ?? 500,
  };
}
