// A run's audit trail, derived from its Temporal workflow history alone (so it survives restarts and
// needs no table of its own): who requested it, each step's attempts and results, who cancelled it.
import type { Client } from '@temporalio/client';
import type { Decision } from '@tributary/activities';
import type { TriggerType } from '../model/plan.js';
import { REDACTED, scrubberFor, sensitiveValuesOf } from '../model/redact.js';
import {
  eventTypeName,
  fetchRunHistory,
  iso,
  toMs,
  toNumber,
  type ActivityTask,
  type FailureFact,
  runStatusOf,
  type RunFinalStatus,
  type RunHistory,
} from './run-history.js';

export const RUN_AUDIT_EVENT_TYPES = [
  'run.requested',
  'run.queued',
  'run.lock_granted',
  'step.reused',
  'step.scheduled',
  'step.started',
  'step.attempt_failed',
  'step.timed_out',
  'step.completed',
  'step.cancel_requested',
  'step.cancelled',
  'step.skipped',
  'run.cancel_requested',
  'run.completed',
  'run.failed',
  'run.cancelled',
  'run.timed_out',
  'run.terminated',
  'run.continued_as_new',
] as const;
export type RunAuditEventType = (typeof RUN_AUDIT_EVENT_TYPES)[number];

export interface RunAuditEvent {
  /** The Temporal history event this was read from. */
  eventId: number;
  at: string;
  type: RunAuditEventType;
  /** Who acted: the trigger's actor, the canceller; null for what the platform did on its own. */
  actor: string | null;
  nodeId: string | null;
  nodeType: string | null;
  attempt: number | null;
  message: string;
  details: Record<string, unknown>;
}

export type RunAuditStatus = RunFinalStatus;

export interface RunAuditTrail {
  runId: string;
  project: string;
  pipelineId: string;
  pipelineVersion: number;
  /** A run of the pipeline's draft (pipelineVersion is the version it is based on). */
  draft: boolean;
  rerunOf: string | null;
  trigger: { type: TriggerType; actor: string };
  status: RunAuditStatus;
  events: RunAuditEvent[];
}

export async function runAuditTrail(client: Client, runId: string): Promise<RunAuditTrail> {
  return auditTrailOf(await fetchRunHistory(client, runId));
}

export function auditTrailOf(history: RunHistory): RunAuditTrail {
  const { plan, trigger, rerun } = history.input;
  const draft = history.input.draft === true;
  // A plan compiled without a saved version (tests that start runs directly) reports 0.
  const pipelineVersion = plan.pipelineVersion ?? 0;
  const sensitive = new Set(plan.sensitiveParams ?? []);
  const scrub = scrubberFor(sensitiveValuesOf(plan));
  const taskByEventId = new Map<number, ActivityTask>();
  for (const task of history.activities.values()) {
    if (task.started) taskByEventId.set(task.started.eventId, task);
    if (task.closed) taskByEventId.set(task.closed.eventId, task);
    if (task.cancelRequested) taskByEventId.set(task.cancelRequested.eventId, task);
  }

  const events: RunAuditEvent[] = [];
  const emit = (
    eventId: number,
    at: number,
    type: RunAuditEventType,
    message: string,
    extra: Partial<Pick<RunAuditEvent, 'actor' | 'nodeId' | 'nodeType' | 'attempt'>> = {},
    details: Record<string, unknown> = {},
  ) =>
    events.push({
      eventId,
      at: iso(at),
      type,
      actor: extra.actor ?? null,
      nodeId: extra.nodeId ?? null,
      nodeType: extra.nodeType ?? null,
      attempt: extra.attempt ?? null,
      message,
      details,
    });
  let cancelSignalled = false;

  for (const event of history.events) {
    const eventId = toNumber(event.eventId);
    const at = toMs(event.eventTime);
    const kind = eventTypeName(event);

    if (kind === 'workflow_execution_started') {
      const params = Object.fromEntries(
        Object.entries(plan.params).map(([name, value]) => [name, sensitive.has(name) ? REDACTED : value]),
      );
      const what = draft
        ? `the draft of pipeline "${plan.pipelineId}" (based on version ${pipelineVersion})`
        : `pipeline "${plan.pipelineId}" version ${pipelineVersion}`;
      const again = rerun
        ? `, re-running ${rerun.runId} from ${rerun.from === 'failed' ? 'its failed steps' : `"${rerun.from}"`}`
        : '';
      emit(
        eventId,
        at,
        'run.requested',
        `Run of ${what} requested by ${trigger.actor} (${trigger.type})${again}`,
        { actor: trigger.actor },
        {
          trigger: trigger.type,
          project: plan.project,
          pipelineId: plan.pipelineId,
          pipelineVersion,
          draft,
          versionHash: plan.versionHash,
          params,
          steps: plan.steps.map((s) => s.id),
          ...(rerun
            ? {
                rerunOf: rerun.runId,
                rerunFrom: rerun.from,
                reused: Object.fromEntries(Object.entries(rerun.reused).map(([id, r]) => [id, r.runId])),
              }
            : {}),
        },
      );
      // Reused steps have no activity of their own: the trail names them where the run starts.
      for (const [nodeId, reused] of Object.entries(rerun?.reused ?? {})) {
        const step = plan.steps.find((s) => s.id === nodeId);
        emit(
          eventId,
          at,
          'step.reused',
          `Step "${nodeId}" not run: the kept output of run ${reused.runId} is used`,
          { nodeId, nodeType: step?.type ?? null },
          { reusedFrom: reused.runId, table: reused.table, rowsOut: reused.rowsOut },
        );
      }
      continue;
    }

    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const task = history.activities.get(eventId)!;
      if (task.activityType === 'requestPipelineLock') {
        emit(
          eventId,
          at,
          'run.queued',
          `Run waits for earlier runs of pipeline "${plan.pipelineId}" (policy "queue")`,
        );
      } else if (task.step) {
        emit(
          eventId,
          at,
          'step.scheduled',
          `Step "${task.activityId}" (${task.activityType}) scheduled`,
          stepRef(task),
          { kind: task.step.kind, maxAttempts: task.maximumAttempts, dependsOn: task.step.dependsOn },
        );
      }
      continue;
    }

    const task = taskByEventId.get(eventId);
    if (task) {
      if (task.step) stepEvent(task, eventId, at, emit);
      continue;
    }

    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === 'cancelRequested') {
      const request = (history.decode(signal.input) ?? {}) as { actor?: string; reason?: string };
      const actor = request.actor ?? `temporal:${signal.identity || 'unknown'}`;
      cancelSignalled = true;
      emit(
        eventId,
        at,
        'run.cancel_requested',
        `Cancel requested by ${actor}${request.reason ? `: ${request.reason}` : ''}`,
        { actor },
        { reason: request.reason ?? null },
      );
      continue;
    }
    if (signal?.signalName === 'lockGranted') {
      emit(eventId, at, 'run.lock_granted', 'Earlier runs have ended: this run may start');
      continue;
    }

    const cancelRequest = event.workflowExecutionCancelRequestedEventAttributes;
    if (cancelRequest) {
      // Our own cancels are preceded by the signal that names the actor; anything else (the Temporal
      // UI or CLI) only has the caller's client identity.
      if (!cancelSignalled) {
        const actor = `temporal:${cancelRequest.identity || 'unknown'}`;
        emit(
          eventId,
          at,
          'run.cancel_requested',
          `Cancel requested through Temporal by ${actor}`,
          { actor },
          { reason: cancelRequest.cause || null },
        );
      }
      continue;
    }
  }

  const close = history.close;
  const status = runStatusOf(history);
  if (close) {
    const { eventId, at } = close;
    // Steps a route or a failure output left out have no activity: the run's final progress says why.
    for (const step of plan.steps) {
      const why = close.progress?.steps[step.id]?.skippedBecause;
      if (why) {
        emit(
          eventId,
          at,
          'step.skipped',
          `Step "${step.id}" skipped: ${why}`,
          { nodeId: step.id, nodeType: step.type },
          {
            reason: why,
          },
        );
      }
    }
    switch (close.outcome) {
      case 'completed':
        emit(
          eventId,
          at,
          'run.completed',
          status === 'succeeded' ? 'Run succeeded' : `Run ended: ${status}`,
          {},
          { status },
        );
        break;
      case 'failed':
        emit(
          eventId,
          at,
          'run.failed',
          `Run failed: ${close.failure?.message ?? 'unknown failure'}`,
          {},
          {
            error: close.failure?.message ?? null,
          },
        );
        break;
      case 'cancelled':
        emit(eventId, at, 'run.cancelled', 'Run cancelled; its staging was cleaned up');
        break;
      case 'timed_out':
        emit(
          eventId,
          at,
          'run.timed_out',
          'Run timed out (workflow execution timeout)',
          {},
          { retryState: close.reason },
        );
        break;
      case 'terminated': {
        const actor = `temporal:${close.identity ?? 'unknown'}`;
        emit(
          eventId,
          at,
          'run.terminated',
          `Run terminated through Temporal by ${actor}${close.reason ? `: ${close.reason}` : ''}`,
          { actor },
          { reason: close.reason },
        );
        break;
      }
      case 'continued_as_new':
        emit(eventId, at, 'run.continued_as_new', 'Run continued as a new execution');
        break;
    }
  }

  return {
    runId: history.runId,
    project: plan.project,
    pipelineId: plan.pipelineId,
    pipelineVersion,
    draft,
    rerunOf: rerun?.runId ?? null,
    trigger: { type: trigger.type, actor: trigger.actor },
    status,
    events: scrub(events),
  };
}

type Emit = (
  eventId: number,
  at: number,
  type: RunAuditEventType,
  message: string,
  extra?: Partial<Pick<RunAuditEvent, 'actor' | 'nodeId' | 'nodeType' | 'attempt'>>,
  details?: Record<string, unknown>,
) => void;

const stepRef = (task: ActivityTask) => ({ nodeId: task.activityId, nodeType: task.activityType });

function stepEvent(task: ActivityTask, eventId: number, at: number, emit: Emit): void {
  const label = `Step "${task.activityId}"`;
  const started = task.started;
  if (started?.eventId === eventId) {
    const previous = started.attempt - 1;
    const message =
      previous === 0
        ? `${label} started (attempt 1)`
        : `${label} attempt ${started.attempt} started after ${previous} failed attempt${previous === 1 ? '' : 's'}` +
          (started.lastFailure ? `; last failure: ${started.lastFailure.message}` : '');
    emit(
      eventId,
      at,
      'step.started',
      message,
      { ...stepRef(task), attempt: started.attempt },
      {
        previousFailedAttempts: previous,
        lastFailure: started.lastFailure ? failureView(started.lastFailure) : null,
      },
    );
    return;
  }
  if (task.cancelRequested?.eventId === eventId) {
    emit(eventId, at, 'step.cancel_requested', `${label}: cancellation requested`, stepRef(task));
    return;
  }
  const closed = task.closed;
  if (closed?.eventId !== eventId) return;
  const attempt = started?.attempt ?? null;
  const ref = { ...stepRef(task), attempt };
  switch (closed.outcome) {
    case 'completed': {
      const stats = statsOf(closed.result);
      const decision = (closed.result as { decision?: Decision } | undefined)?.decision;
      emit(
        eventId,
        at,
        'step.completed',
        `${label} completed on attempt ${attempt ?? '?'} in ${stats.durationMs ?? '?'} ms: ` +
          `${stats.rowsIn ?? 0} rows in, ${stats.rowsOut ?? 0} rows out, ${stats.bytes ?? 0} bytes` +
          (decision ? `; ${decisionSentence(decision)}` : ''),
        ref,
        { ...stats, ...(decision ? { decision } : {}) },
      );
      return;
    }
    case 'failed':
    case 'timed_out': {
      const failure = closed.failure ?? { message: 'unknown failure', type: null, retryable: true };
      const why = stopReason(closed.retryState, failure, attempt, task.maximumAttempts);
      emit(
        eventId,
        at,
        closed.outcome === 'failed' ? 'step.attempt_failed' : 'step.timed_out',
        `${label} attempt ${attempt ?? '?'} ${closed.outcome === 'failed' ? 'failed' : 'timed out'}: ${failure.message}${why ? ` (${why})` : ''}`,
        ref,
        { ...failureView(failure), retryState: closed.retryState },
      );
      return;
    }
    case 'cancelled':
      emit(eventId, at, 'step.cancelled', `${label} cancelled`, ref);
      return;
  }
}

/** "condition steps.load.rowsOut > 0 is false (steps.load.rowsOut = 0): output "false" taken". */
export function decisionSentence(decision: Decision): string {
  const read = Object.entries(decision.inputs)
    .map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
    .join(', ');
  const why =
    decision.condition === null
      ? 'no case held'
      : `condition ${decision.condition} is ${JSON.stringify(decision.value)}`;
  return `${why}${read ? ` (${read})` : ''}: output "${decision.taken}" taken`;
}

function stopReason(
  retryState: string | null,
  failure: FailureFact,
  attempt: number | null,
  maximumAttempts: number | null,
): string {
  if (!failure.retryable || retryState === 'non_retryable_failure') return 'not retryable';
  if (retryState === 'maximum_attempts_reached')
    return `retryable, but all ${maximumAttempts ?? attempt ?? '?'} attempts are used`;
  if (retryState === 'timeout') return 'retryable, but the retry window is over';
  if (retryState === 'cancel_requested') return 'the run was being cancelled';
  return retryState ? retryState.replace(/_/g, ' ') : '';
}

const failureView = (failure: FailureFact) => ({
  error: failure.message,
  errorType: failure.type,
  retryable: failure.retryable,
});

export interface StepResultStats {
  rowsIn: number | null;
  rowsOut: number | null;
  bytes: number | null;
  durationMs: number | null;
}

/** The step executor's result carries stats; anything else (a test double) may not. */
export function statsOf(result: unknown): StepResultStats {
  const stats = (result as { stats?: Record<string, unknown> } | undefined)?.stats ?? {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    rowsIn: num(stats.rowsIn),
    rowsOut: num(stats.rowsOut),
    bytes: num(stats.bytes),
    durationMs: num(stats.durationMs),
  };
}

/** One JSON object per line, for export. */
export function toJsonLines(trail: RunAuditTrail): string {
  return trail.events.map((e) => JSON.stringify({ runId: trail.runId, ...e })).join('\n') + '\n';
}
