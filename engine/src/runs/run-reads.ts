// A run's audit trail and usage as every reader gets them: from the run's record once it is closed
// and recorded, from its Temporal history before that. Both are derived by the same functions, so
// the answer is the same whichever it came from.
import type { Client } from '@temporalio/client';
import { auditTrailOf, type RunAuditTrail } from '../audit/run-audit.js';
import { fetchRunHistory } from '../audit/run-history.js';
import type { RunsClient } from '../client/runs.js';
import { runUsageFactsOf, type RunUsageFacts } from '../telemetry/run-usage.js';

export interface RunReadDeps {
  temporal: Client;
  runs: Pick<RunsClient, 'records'>;
}

export async function readAuditTrail(deps: RunReadDeps, runId: string): Promise<RunAuditTrail> {
  const record = await deps.runs.records?.get(runId);
  if (record) return record.audit;
  return auditTrailOf(await fetchRunHistory(deps.temporal, runId));
}

export async function readUsageFacts(deps: RunReadDeps, runId: string): Promise<RunUsageFacts> {
  const record = await deps.runs.records?.get(runId);
  if (record) return record.usage;
  return runUsageFactsOf(await fetchRunHistory(deps.temporal, runId));
}
