// Reads a run's Temporal workflow history into plain facts (its input, each activity task's life,
// signals, how it closed) that the run audit trail and the usage telemetry both derive from.
import { isGrpcServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { PayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { RunNotFoundError } from '../client/runs.js';
import { INTERPRETER_WORKFLOW } from '../model/run-contract.js';
import type { InterpreterInput, PlanStep, RunProgress } from '../model/plan.js';
import { decodeHistory } from '../temporal/payload-codec.js';

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
type ProtoFailure = proto.temporal.api.failure.v1.IFailure;
type ProtoPayloads = proto.temporal.api.common.v1.IPayloads;

const { EventType, RetryState, TimeoutType } = proto.temporal.api.enums.v1;

/** The interpreter's own activities (see RunActivities); every other activity is a pipeline step. */
export const LIFECYCLE_ACTIVITIES: ReadonlySet<string> = new Set([
  'prepareRun',
  'finishRun',
  'requestPipelineLock',
  'requestProjectSlot',
  'requestProjectSlots',
  'releaseProjectSlots',
  'runIsOpen',
]);

const GRPC_NOT_FOUND = 5;

/** A pipeline run whose history cannot be read as one (no decodable input): skipped, not retried. */
export class UnreadableRunError extends Error {}

export interface FailureFact {
  message: string;
  /** The ApplicationFailure type (e.g. `StepError.config`), or the kind of failure (`timeout`). */
  type: string | null;
  /** False when the failure itself said "do not retry". */
  retryable: boolean;
}

export interface ActivityStart {
  eventId: number;
  at: number;
  /** The attempt this started event is for: Temporal records only the last attempt's start. */
  attempt: number;
  /** The failure of the attempt before it, when this is a retry. */
  lastFailure: FailureFact | null;
}

export type ActivityOutcome = 'completed' | 'failed' | 'timed_out' | 'cancelled';

export interface ActivityClose {
  eventId: number;
  at: number;
  outcome: ActivityOutcome;
  /** The decoded result payload (completed only). */
  result: unknown;
  failure: FailureFact | null;
  /** Why Temporal stopped retrying (`non_retryable_failure`, `maximum_attempts_reached`, …). */
  retryState: string | null;
}

export interface ActivityTask {
  activityId: string;
  activityType: string;
  /** The plan step this activity ran, or null for lifecycle activities. */
  step: PlanStep | null;
  scheduledEventId: number;
  scheduledAt: number;
  maximumAttempts: number | null;
  started: ActivityStart | null;
  cancelRequested: { eventId: number; at: number } | null;
  closed: ActivityClose | null;
}

export type RunOutcome =
  'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'continued_as_new';

export interface RunClose {
  eventId: number;
  at: number;
  outcome: RunOutcome;
  result: unknown;
  failure: FailureFact | null;
  /** The run's final progress: a completed run's result, or the details of a failed run's failure. */
  progress?: RunProgress;
  /** Terminate reason, cancel details, timeout retry state. */
  reason: string | null;
  identity: string | null;
}

export interface RunHistory {
  runId: string;
  input: InterpreterInput;
  startedAt: number;
  /** Activity tasks by their scheduled event id, in the order they were scheduled. */
  activities: Map<number, ActivityTask>;
  close: RunClose | null;
  /** The raw events in history order, for mappers that walk them. */
  events: HistoryEvent[];
  decode: (payloads: ProtoPayloads | null | undefined) => unknown;
}

/** Fetches a run's history; a workflow that is not a pipeline run counts as not found. */
export async function fetchRunHistory(client: Client, runId: string): Promise<RunHistory> {
  let history: proto.temporal.api.history.v1.IHistory;
  try {
    // Raw history holds encrypted payloads: decode them with the client's codecs first.
    history = await decodeHistory(
      await client.workflow.getHandle(runId).fetchHistory(),
      client.options.loadedDataConverter.payloadCodecs,
    );
  } catch (error) {
    if (
      error instanceof WorkflowNotFoundError ||
      (isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND)
    ) {
      throw new RunNotFoundError(`Run "${runId}" does not exist`);
    }
    throw error;
  }
  return parseRunHistory(runId, history.events ?? [], client.options.loadedDataConverter.payloadConverter);
}

export function parseRunHistory(
  runId: string,
  events: HistoryEvent[],
  converter: PayloadConverter,
): RunHistory {
  const decode = (payloads: ProtoPayloads | null | undefined): unknown => {
    const payload = payloads?.payloads?.[0];
    if (!payload) return undefined;
    try {
      return converter.fromPayload(payload);
    } catch {
      // An undecodable payload (a codec we do not have) is left out rather than failing the trail.
      return undefined;
    }
  };
  const first = events[0];
  const started = first?.workflowExecutionStartedEventAttributes;
  if (!first || !started || started.workflowType?.name !== INTERPRETER_WORKFLOW) {
    throw new RunNotFoundError(`Run "${runId}" does not exist`);
  }
  const input = decode(started.input) as InterpreterInput | undefined;
  if (!input?.plan?.steps)
    throw new UnreadableRunError(`Run "${runId}": its history does not hold the run's input`);
  const steps = new Map(input.plan.steps.map((s) => [s.id, s]));

  const activities = new Map<number, ActivityTask>();
  let close: RunClose | null = null;
  for (const event of events) {
    const eventId = toNumber(event.eventId);
    const at = toMs(event.eventTime);
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const activityType = scheduled.activityType?.name ?? '';
      const activityId = scheduled.activityId ?? '';
      activities.set(eventId, {
        activityId,
        activityType,
        step: LIFECYCLE_ACTIVITIES.has(activityType) ? null : (steps.get(activityId) ?? null),
        scheduledEventId: eventId,
        scheduledAt: at,
        maximumAttempts: scheduled.retryPolicy?.maximumAttempts || null,
        started: null,
        cancelRequested: null,
        closed: null,
      });
      continue;
    }
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === LOCAL_ACTIVITY_MARKER) {
      const task = localLifecycleTask(marker, eventId, decode);
      if (task) activities.set(eventId, task);
      continue;
    }
    const taskOf = (id: unknown) => activities.get(toNumber(id));
    const activityStarted = event.activityTaskStartedEventAttributes;
    if (activityStarted) {
      const task = taskOf(activityStarted.scheduledEventId);
      if (task) {
        task.started = {
          eventId,
          at,
          attempt: activityStarted.attempt ?? 1,
          lastFailure: activityStarted.lastFailure ? failureFact(activityStarted.lastFailure) : null,
        };
      }
      continue;
    }
    const cancelRequested = event.activityTaskCancelRequestedEventAttributes;
    if (cancelRequested) {
      const task = taskOf(cancelRequested.scheduledEventId);
      if (task) task.cancelRequested = { eventId, at };
      continue;
    }
    const completed = event.activityTaskCompletedEventAttributes;
    const failed = event.activityTaskFailedEventAttributes;
    const timedOut = event.activityTaskTimedOutEventAttributes;
    const canceled = event.activityTaskCanceledEventAttributes;
    const closing = completed ?? failed ?? timedOut ?? canceled;
    if (closing) {
      const task = taskOf(closing.scheduledEventId);
      if (!task) continue;
      const failure = failed?.failure ?? timedOut?.failure;
      const retryState = failed?.retryState ?? timedOut?.retryState;
      task.closed = {
        eventId,
        at,
        outcome: completed ? 'completed' : failed ? 'failed' : timedOut ? 'timed_out' : 'cancelled',
        result: completed ? decode(completed.result) : undefined,
        failure: failure ? failureFact(failure) : null,
        retryState: retryState ? enumName(RetryState, retryState, 'RETRY_STATE_') : null,
      };
      continue;
    }
    close = runCloseOf(event, eventId, at, decode) ?? close;
  }
  return { runId, input, startedAt: toMs(first.eventTime), activities, close, events, decode };
}

/** The marker Temporal records for a local activity's outcome (its data: type, attempt, times). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

interface LocalActivityMarkerData {
  activity_id?: string;
  activity_type?: string;
  attempt?: number;
  original_schedule_time?: { seconds?: number | string; nanos?: number } | null;
  complete_time?: { seconds?: number | string; nanos?: number } | null;
}

/**
 * A lifecycle activity run as a local activity (patched('lifecycle-local'), patched('fair-share-lanes')):
 * one marker holds its whole life, so it reads as a task scheduled and started when it was first
 * scheduled and closed when it completed. Only lifecycle types: steps never run as local activities.
 */
function localLifecycleTask(
  marker: proto.temporal.api.history.v1.IMarkerRecordedEventAttributes,
  eventId: number,
  decode: RunHistory['decode'],
): ActivityTask | null {
  const data = decode(marker.details?.data) as LocalActivityMarkerData | undefined;
  const activityType = data?.activity_type ?? '';
  if (!LIFECYCLE_ACTIVITIES.has(activityType)) return null;
  const time = (t: LocalActivityMarkerData['complete_time']) =>
    t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;
  // The schedule time is the workflow's clock (its task's start), the completion the worker's: a
  // local activity shorter than the difference between them would read as negative, so as 0 s.
  const closedAt = time(data?.complete_time) || time(data?.original_schedule_time);
  const scheduledAt = Math.min(time(data?.original_schedule_time) || closedAt, closedAt);
  const failure = marker.failure ? failureFact(marker.failure) : null;
  return {
    activityId: data?.activity_id ?? '',
    activityType,
    step: null,
    scheduledEventId: eventId,
    scheduledAt,
    maximumAttempts: null,
    started: { eventId, at: scheduledAt, attempt: data?.attempt ?? 1, lastFailure: null },
    cancelRequested: null,
    closed: {
      eventId,
      at: closedAt,
      outcome: failure ? 'failed' : 'completed',
      result: failure ? undefined : decode(marker.details?.result),
      failure,
      retryState: null,
    },
  };
}

function runCloseOf(
  event: HistoryEvent,
  eventId: number,
  at: number,
  decode: RunHistory['decode'],
): RunClose | null {
  const base = { eventId, at, result: undefined, failure: null, reason: null, identity: null };
  if (event.workflowExecutionCompletedEventAttributes) {
    const result = decode(event.workflowExecutionCompletedEventAttributes.result);
    return { ...base, outcome: 'completed', result, ...progressIn(result) };
  }
  if (event.workflowExecutionFailedEventAttributes) {
    const failure = event.workflowExecutionFailedEventAttributes.failure;
    return {
      ...base,
      outcome: 'failed',
      failure: failure ? failureFact(failure) : null,
      ...progressIn(decode(failure?.applicationFailureInfo?.details)),
    };
  }
  if (event.workflowExecutionCanceledEventAttributes) return { ...base, outcome: 'cancelled' };
  if (event.workflowExecutionTerminatedEventAttributes) {
    const a = event.workflowExecutionTerminatedEventAttributes;
    return { ...base, outcome: 'terminated', reason: a.reason || null, identity: a.identity || null };
  }
  if (event.workflowExecutionTimedOutEventAttributes) {
    const state = event.workflowExecutionTimedOutEventAttributes.retryState;
    return {
      ...base,
      outcome: 'timed_out',
      reason: state ? enumName(RetryState, state, 'RETRY_STATE_') : null,
    };
  }
  if (event.workflowExecutionContinuedAsNewEventAttributes) return { ...base, outcome: 'continued_as_new' };
  return null;
}

/** A run's progress when `value` is one (the interpreter's result and its failure's details). */
function progressIn(value: unknown): { progress?: RunProgress } {
  const steps = (value as { steps?: unknown } | undefined)?.steps;
  return steps && typeof steps === 'object' ? { progress: value as RunProgress } : {};
}

export function failureFact(failure: ProtoFailure): FailureFact {
  const timeout = failure.timeoutFailureInfo;
  const app = failure.applicationFailureInfo;
  let message = failure.message || '(no message)';
  if (timeout) {
    const kind = timeout.timeoutType
      ? enumName(TimeoutType, timeout.timeoutType, 'TIMEOUT_TYPE_')
      : 'unknown';
    message = `${kind.replace(/_/g, '-')} timeout`;
    // A heartbeat or start-to-close timeout wraps the attempt's own last failure, if it had one.
    if (failure.cause?.message) message += ` (last failure: ${failure.cause.message})`;
  }
  return {
    message,
    type: app?.type || (timeout ? 'timeout' : failure.canceledFailureInfo ? 'cancelled' : null),
    retryable: !app?.nonRetryable,
  };
}

/** The event type without its prefix, in lower case: `activity_task_started`. */
export function eventTypeName(event: HistoryEvent): string {
  return event.eventType ? enumName(EventType, event.eventType, 'EVENT_TYPE_') : 'unspecified';
}

function enumName(values: object, value: number | string, prefix: string): string {
  const name = typeof value === 'string' ? value : (values as Record<number, string>)[value];
  return (name ?? String(value)).replace(prefix, '').toLowerCase();
}

/** protobuf int64s arrive as Long objects (or strings in JSON form). */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && 'toNumber' in value) return (value as { toNumber(): number }).toNumber();
  return Number(value);
}

export function toMs(ts: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  if (!ts) return 0;
  return toNumber(ts.seconds) * 1000 + (ts.nanos ?? 0) / 1e6;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export type RunFinalStatus =
  | 'running'
  | 'succeeded'
  | 'succeeded_with_warnings'
  | 'failed'
  | 'cancelled'
  | 'terminated'
  | 'timed_out'
  | 'continued_as_new';

/** The run's status as its history tells it: a completed run's result says whether it had warnings. */
export function runStatusOf(history: RunHistory): RunFinalStatus {
  const close = history.close;
  if (!close) return 'running';
  switch (close.outcome) {
    case 'completed': {
      const status = (close.result as { status?: string } | undefined)?.status;
      return status === 'succeeded_with_warnings' ? status : 'succeeded';
    }
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    case 'terminated':
      return 'terminated';
    case 'timed_out':
      return 'timed_out';
    case 'continued_as_new':
      return 'continued_as_new';
  }
}
