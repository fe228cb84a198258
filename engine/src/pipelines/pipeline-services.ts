// What the pipeline use cases work with: the stores, the audit log, schedules and the node
// catalogue. The API's context has all of these, so a route passes its context as it is.
import type pg from 'pg';
import type { AuditLog } from '../audit/audit-log.store.js';
import type { NodeCatalog } from '../compiler/compile.js';
import type { DraftStore } from '../store/drafts.store.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import type { PipelineStore } from '../store/pipelines.store.js';

export interface PipelineServices {
  pool: pg.Pool;
  pipelines: PipelineStore;
  drafts: DraftStore;
  audit: AuditLog;
  schedules: ScheduleService;
  catalog: NodeCatalog;
}
