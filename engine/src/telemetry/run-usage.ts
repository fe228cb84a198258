// Usage of one run, computed from its workflow history: wall time, activity-seconds, attempts,
// retries, rows and bytes per step, and credits under a credit model.
//
// What history can and cannot tell: Temporal writes one ActivityTaskStarted event per activity, for
// its LAST attempt only (earlier failed attempts leave no events of their own). So activity-seconds
// are the measured durations of recorded attempts (started → completed/failed/timed out), and
// `scheduledSeconds` (scheduled → closed) is the upper bound that also holds earlier attempts,
// retry back-off and queueing. A step still running when its run was cancelled has no started
// event at all: its attempts and activity-seconds are not counted, only its scheduledSeconds.
import {
  iso,
  runStatusOf,
  type ActivityTask,
  type RunFinalStatus,
  type RunHistory,
} from '../audit/run-history.js';
import { statsOf } from '../audit/run-audit.js';
import type { TriggerType } from '../model/plan.js';
import { rateFor, type CreditRates } from './credit-rates.js';

export type StepUsageStatus =
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled'
  | 'skipped'
  | 'pending'
  | 'running'
  | 'interrupted'
  /** Not run: a re-run used an earlier run's kept output (no activity, no credits). */
  | 'reused';

export interface StepUsage {
  nodeId: string;
  nodeType: string;
  kind: string;
  status: StepUsageStatus;
  attempts: number;
  retries: number;
  activitySeconds: number;
  scheduledSeconds: number | null;
  rowsIn: number;
  rowsOut: number;
  bytes: number;
  credits: number;
  scheduledAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export interface RunUsage {
  runId: string;
  project: string;
  pipelineId: string;
  pipelineVersion: number;
  trigger: TriggerType;
  actor: string;
  status: RunFinalStatus;
  startedAt: string;
  endedAt: string | null;
  /** Start to close; null while the run is open. */
  wallSeconds: number | null;
  activitySeconds: number;
  /** The run's own lifecycle activities (staging, cleanup, lock): platform overhead, not charged. */
  lifecycleSeconds: number;
  attempts: number;
  retries: number;
  rowsIn: number;
  rowsOut: number;
  bytes: number;
  credits: number;
  steps: StepUsage[];
}

/**
 * A run's usage before credits: what its history tells, with each step's activity-seconds unrounded
 * so credits under any credit model come out exactly as if priced from the history itself. A closed
 * run's record keeps these facts (runs/run-records.store.ts), since the credit model may change.
 */
export interface RunUsageFacts extends Omit<RunUsage, 'credits' | 'steps'> {
  steps: (Omit<StepUsage, 'credits'> & { exactActivitySeconds: number })[];
}

/** Six decimals: enough for credits and seconds, and sums stay free of float noise in output. */
const round = (n: number) => Math.round(n * 1e6) / 1e6;
const seconds = (fromMs: number, toMs: number) => Math.max(0, toMs - fromMs) / 1000;

export function runUsageOf(history: RunHistory, rates: CreditRates): RunUsage {
  return priceUsage(runUsageFactsOf(history), rates);
}

/** Credits under a credit model, from the facts; fields in the order the API has always served them. */
export function priceUsage(facts: RunUsageFacts, rates: CreditRates): RunUsage {
  const steps = facts.steps.map((s): StepUsage => ({
    nodeId: s.nodeId,
    nodeType: s.nodeType,
    kind: s.kind,
    status: s.status,
    attempts: s.attempts,
    retries: s.retries,
    activitySeconds: s.activitySeconds,
    scheduledSeconds: s.scheduledSeconds,
    rowsIn: s.rowsIn,
    rowsOut: s.rowsOut,
    bytes: s.bytes,
    credits: round(s.exactActivitySeconds * rateFor(rates, s.kind, s.nodeType)),
    scheduledAt: s.scheduledAt,
    startedAt: s.startedAt,
    endedAt: s.endedAt,
  }));
  return {
    runId: facts.runId,
    project: facts.project,
    pipelineId: facts.pipelineId,
    pipelineVersion: facts.pipelineVersion,
    trigger: facts.trigger,
    actor: facts.actor,
    status: facts.status,
    startedAt: facts.startedAt,
    endedAt: facts.endedAt,
    wallSeconds: facts.wallSeconds,
    activitySeconds: facts.activitySeconds,
    lifecycleSeconds: facts.lifecycleSeconds,
    attempts: facts.attempts,
    retries: facts.retries,
    rowsIn: facts.rowsIn,
    rowsOut: facts.rowsOut,
    bytes: facts.bytes,
    credits: round(steps.reduce((total, s) => total + s.credits, 0)),
    steps,
  };
}

export function runUsageFactsOf(history: RunHistory): RunUsageFacts {
  const { plan, trigger } = history.input;
  const status = runStatusOf(history);
  const close = history.close;
  const byNode = new Map<string, ActivityTask>();
  let lifecycleSeconds = 0;
  for (const task of history.activities.values()) {
    if (task.step) byNode.set(task.activityId, task);
    else if (task.started && task.closed) lifecycleSeconds += seconds(task.started.at, task.closed.at);
  }

  const steps = plan.steps.map((step): RunUsageFacts['steps'][number] => {
    const task = byNode.get(step.id);
    if (!task) {
      return {
        nodeId: step.id,
        nodeType: step.type,
        kind: step.kind,
        status: history.input.rerun?.reused[step.id]
          ? 'reused'
          : !close
            ? 'pending'
            : status === 'cancelled'
              ? 'cancelled'
              : 'skipped',
        attempts: 0,
        retries: 0,
        activitySeconds: 0,
        scheduledSeconds: null,
        rowsIn: 0,
        rowsOut: 0,
        bytes: 0,
        exactActivitySeconds: 0,
        scheduledAt: null,
        startedAt: null,
        endedAt: null,
      };
    }
    const attempts = task.started?.attempt ?? 0;
    const activitySeconds = task.started && task.closed ? seconds(task.started.at, task.closed.at) : 0;
    const end = task.closed?.at ?? task.cancelRequested?.at ?? close?.at ?? null;
    const stats = task.closed?.outcome === 'completed' ? statsOf(task.closed.result) : null;
    return {
      nodeId: step.id,
      nodeType: step.type,
      kind: step.kind,
      status: stepStatus(task, status, Boolean(close)),
      attempts,
      retries: Math.max(0, attempts - 1),
      activitySeconds: round(activitySeconds),
      scheduledSeconds: end === null ? null : round(seconds(task.scheduledAt, end)),
      rowsIn: stats?.rowsIn ?? 0,
      rowsOut: stats?.rowsOut ?? 0,
      bytes: stats?.bytes ?? 0,
      exactActivitySeconds: activitySeconds,
      scheduledAt: iso(task.scheduledAt),
      startedAt: task.started ? iso(task.started.at) : null,
      endedAt: task.closed ? iso(task.closed.at) : null,
    };
  });

  const sum = (pick: (s: RunUsageFacts['steps'][number]) => number) =>
    steps.reduce((total, s) => total + pick(s), 0);
  return {
    runId: history.runId,
    project: plan.project,
    pipelineId: plan.pipelineId,
    pipelineVersion: plan.pipelineVersion ?? 0,
    trigger: trigger.type,
    actor: trigger.actor,
    status,
    startedAt: iso(history.startedAt),
    endedAt: close ? iso(close.at) : null,
    wallSeconds: close ? round(seconds(history.startedAt, close.at)) : null,
    activitySeconds: round(sum((s) => s.activitySeconds)),
    lifecycleSeconds: round(lifecycleSeconds),
    attempts: sum((s) => s.attempts),
    retries: sum((s) => s.retries),
    rowsIn: sum((s) => s.rowsIn),
    rowsOut: sum((s) => s.rowsOut),
    bytes: sum((s) => s.bytes),
    steps,
  };
}

function stepStatus(task: ActivityTask, runStatus: RunFinalStatus, runClosed: boolean): StepUsageStatus {
  switch (task.closed?.outcome) {
    case 'completed':
      return 'succeeded';
    case 'failed':
      return 'failed';
    case 'timed_out':
      return 'timed_out';
    case 'cancelled':
      return 'cancelled';
  }
  if (!runClosed) return 'running';
  return task.cancelRequested || runStatus === 'cancelled' ? 'cancelled' : 'interrupted';
}
