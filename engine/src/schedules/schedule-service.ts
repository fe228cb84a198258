// A pipeline's Temporal Schedule: created or updated in one call, its action the compiled plan of
// the current version started exactly as the runs client starts runs (same workflow type, task
// queue, search attributes). A new pipeline version recompiles the plan into the schedule.
import { ConflictError, InvalidError } from '../errors.js';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleOptionsAction,
  type ScheduleOverlapPolicy,
} from '@temporalio/client';
import { runStartOptions } from '../client/runs.js';
import { applyRunLimits, DEFAULT_RUN_LIMITS, type RunLimits } from '../runs/run-limits.js';
import { INTERPRETER_WORKFLOW } from '../model/run-contract.js';
import type { ConcurrencyPolicy } from '../model/pipeline.schema.js';
import type { ExecutionPlan, InterpreterInput, RunTrigger } from '../model/plan.js';
import { redactParams } from '../model/redact.js';
import { scheduledRunId } from '../model/run-ids.js';
import type { CompileError } from '../compiler/errors.js';
import type { StoredPipeline } from '../store/pipelines.store.js';
import type { ScheduleRecord, ScheduleStore } from '../store/schedules.store.js';
import type { NodeCatalog } from '../compiler/compile.js';
import { planCacheOf } from '../pipelines/plan-cache.js';

export const scheduleIdOf = (pipelineId: string) => `schedule-${pipelineId}`;

const OVERLAP: Record<ConcurrencyPolicy, ScheduleOverlapPolicy> = {
  allow: 'ALLOW_ALL',
  queue: 'BUFFER_ALL',
  skip: 'SKIP',
};

export function scheduleAction(plan: ExecutionPlan, taskQueue: string): ScheduleOptionsAction {
  const trigger: RunTrigger = { type: 'schedule', actor: `schedule:${plan.pipelineId}` };
  return {
    type: 'startWorkflow',
    workflowType: INTERPRETER_WORKFLOW,
    // Temporal appends the scheduled time, so each run has its own id and staging schema; scheduled
    // runs list, preview and cancel like any run.
    workflowId: scheduledRunId(plan.pipelineId),
    // The same options RunsClient.start uses, so scheduled runs list and filter like the others.
    ...runStartOptions(plan, trigger, taskQueue),
  };
}

export interface ScheduleInput {
  cron: string;
  timezone: string;
  params: Record<string, unknown>;
  paused: boolean;
}

export interface ScheduleView {
  scheduleId: string;
  pipelineId: string;
  cron: string;
  timezone: string;
  params: Record<string, unknown>;
  paused: boolean;
  overlap: string;
  /** The pipeline version the schedule runs. */
  pipelineVersion: number;
  nextRunTimes: string[];
  recentRuns: { runId: string; scheduledAt: string; startedAt: string }[];
  createdAt: string;
  updatedAt: string;
}

/** What a save did to the pipeline's schedule: nothing (none), refreshed, or kept the old plan. */
export type ScheduleRefresh =
  | { refreshed: true; pipelineVersion: number }
  | { refreshed: false; pipelineVersion: number; errors: CompileError[] };

export class ScheduleService {
  constructor(
    private readonly temporal: Client,
    private readonly store: ScheduleStore,
    private readonly taskQueue: string,
    private readonly catalog: NodeCatalog,
    private readonly limits: RunLimits = DEFAULT_RUN_LIMITS,
  ) {}

  private plan(pipeline: StoredPipeline, params: Record<string, unknown>) {
    const compiled = planCacheOf(this.catalog).plan(pipeline.current, params);
    // Scheduled runs are started by Temporal, not RunsClient: the operator's limits go into the action.
    return compiled.ok ? { ...compiled, plan: applyRunLimits(compiled.plan, this.limits) } : compiled;
  }

  async put(pipeline: StoredPipeline, input: ScheduleInput, actor: string): Promise<ScheduleView> {
    const compiled = this.plan(pipeline, input.params);
    if (!compiled.ok) {
      throw new InvalidError(
        `Pipeline "${pipeline.id}" version ${pipeline.version} does not compile with these params; a schedule needs a runnable version`,
        compiled.errors.map((e) => ({ ...e, in: 'body' as const })),
      );
    }
    const scheduleId = scheduleIdOf(pipeline.id);
    const spec = { cronExpressions: [input.cron], timezone: input.timezone };
    const action = scheduleAction(compiled.plan, this.taskQueue);
    const overlap = OVERLAP[compiled.plan.concurrency];
    try {
      try {
        await this.temporal.schedule.create({
          scheduleId,
          spec,
          action,
          policies: { overlap, catchupWindow: '1 minute' },
          state: { paused: input.paused, note: `pipeline ${pipeline.id}, set by ${actor}` },
        });
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        await this.temporal.schedule.getHandle(scheduleId).update((previous) => ({
          ...previous,
          spec,
          action,
          policies: { ...previous.policies, overlap },
          state: {
            ...previous.state,
            paused: input.paused,
            note: `pipeline ${pipeline.id}, set by ${actor}`,
          },
        }));
      }
    } catch (error) {
      throw invalidSpec(error) ?? error;
    }
    await this.store.put({
      pipelineId: pipeline.id,
      cron: input.cron,
      timezone: input.timezone,
      params: input.params,
      planVersion: pipeline.version,
      updatedBy: actor,
    });
    return (await this.get(pipeline.id))!;
  }

  async get(pipelineId: string): Promise<ScheduleView | undefined> {
    const record = await this.store.get(pipelineId);
    if (!record) return undefined;
    let description: ScheduleDescription;
    try {
      description = await this.temporal.schedule.getHandle(scheduleIdOf(pipelineId)).describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return undefined;
      throw error;
    }
    return view(record, description);
  }

  async remove(pipelineId: string): Promise<boolean> {
    let existed = false;
    try {
      await this.temporal.schedule.getHandle(scheduleIdOf(pipelineId)).delete();
      existed = true;
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    return (await this.store.delete(pipelineId)) || existed;
  }

  /**
   * Takes the schedule's action now and waits briefly for the run it started. Under the "skip"
   * policy an in-flight run makes Temporal skip it: that is a 409, like a refused API run.
   */
  async trigger(pipelineId: string): Promise<{ runId: string | null }> {
    const handle = this.temporal.schedule.getHandle(scheduleIdOf(pipelineId));
    const before = await handle.describe();
    await handle.trigger();
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 150));
      const now = await handle.describe();
      if (now.info.numActionsTaken > before.info.numActionsTaken) {
        const latest = now.info.recentActions.at(-1);
        return { runId: latest?.action.workflow.workflowId ?? null };
      }
      if (now.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap) {
        throw new ConflictError(
          `Pipeline "${pipelineId}" already has a run in flight and its concurrency policy is "skip"; the trigger was skipped`,
        );
      }
    }
    return { runId: null };
  }

  /** After a save: recompile the new current version into the schedule, if there is one. */
  async refresh(pipeline: StoredPipeline): Promise<ScheduleRefresh | undefined> {
    const record = await this.store.get(pipeline.id);
    if (!record) return undefined;
    const compiled = this.plan(pipeline, record.params);
    if (!compiled.ok)
      return { refreshed: false, pipelineVersion: record.planVersion, errors: compiled.errors };
    const action = scheduleAction(compiled.plan, this.taskQueue);
    const overlap = OVERLAP[compiled.plan.concurrency];
    try {
      await this.temporal.schedule.getHandle(scheduleIdOf(pipeline.id)).update((previous) => ({
        ...previous,
        action,
        policies: { ...previous.policies, overlap },
      }));
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return undefined;
      throw error;
    }
    await this.store.setPlanVersion(pipeline.id, pipeline.version);
    return { refreshed: true, pipelineVersion: pipeline.version };
  }
}

function view(record: ScheduleRecord, d: ScheduleDescription): ScheduleView {
  // The plan in the schedule's action names the params its version marks sensitive.
  const input =
    d.action.type === 'startWorkflow' ? (d.action.args?.[0] as InterpreterInput | undefined) : undefined;
  return {
    scheduleId: d.scheduleId,
    pipelineId: record.pipelineId,
    cron: record.cron,
    timezone: record.timezone,
    params: redactParams(record.params, input?.plan.sensitiveParams ?? []),
    paused: d.state.paused,
    overlap: d.policies.overlap ?? 'SKIP',
    pipelineVersion: record.planVersion,
    nextRunTimes: d.info.nextActionTimes.slice(0, 5).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.map((a) => ({
      runId: a.action.workflow.workflowId,
      scheduledAt: a.scheduledAt.toISOString(),
      startedAt: a.takenAt.toISOString(),
    })),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/**
 * Temporal rejects a spec it cannot parse (e.g. "Minute is not in range [0-59]"): the SDK raises
 * that as a TypeError, other refusals as INVALID_ARGUMENT. Either is the caller's 400.
 */
function invalidSpec(error: unknown): InvalidError | undefined {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  if (!(error instanceof TypeError) && cause?.code !== 3) return undefined;
  const message = `cron: Temporal refused the schedule: ${(error as Error).message}`;
  return new InvalidError(message, [{ in: 'body', path: 'cron', message }]);
}
