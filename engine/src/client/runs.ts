// Starting, watching, cancelling and listing runs through Temporal. Temporal is the source of
// truth for runs while they are open; once closed, a run's record (runs/run-records.store.ts) is,
// because the namespace's retention deletes the history. Both give the same answer.
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import { ApplicationFailure, TypedSearchAttributes } from '@temporalio/common';
import type {
  ExecutionPlan,
  InterpreterInput,
  RerunOf,
  RunProgress,
  RunStatus,
  RunTrigger,
  TriggerType,
} from '../model/plan.js';
import {
  SA_BRANCH,
  SA_PIPELINE,
  SA_PIPELINE_VERSION,
  SA_PROJECT,
  SA_TRIGGER,
  SA_TRIGGERED_BY,
} from '../model/search-attributes.js';
import { redactParams, scrubberFor, sensitiveValuesOf } from '../model/redact.js';
import { cancelRequestedSignal, INTERPRETER_WORKFLOW, progressQuery } from '../model/run-contract.js';
import { runIdFor } from '../model/run-ids.js';
import type { PipelineSlots } from '../runs/pipeline-slots.store.js';
import type { RunRecordStore } from '../runs/run-records.store.js';
import { applyRunLimits, DEFAULT_RUN_LIMITS, type RunLimits } from '../runs/run-limits.js';
import { decodeHistory } from '../temporal/payload-codec.js';

export class RunRefusedError extends Error {}
export class RunNotFoundError extends Error {}

export interface RunSummary {
  runId: string;
  project: string;
  pipelineId: string;
  /** 0 for a plan compiled without a saved version (only tests start such runs). */
  pipelineVersion: number;
  trigger: TriggerType;
  triggeredBy: string;
  /** The development branch the run was in; null on main. */
  branch: string | null;
  status: RunStatus | 'terminated' | 'timed_out';
  startedAt: string;
  endedAt: string | null;
  /** The editor ran the pipeline's draft, not a published version. */
  draft: boolean;
  /** When the draft it ran was last saved (null when not a draft run, or started before this was kept). */
  draftSavedAt: string | null;
  /** The run this one re-runs, if it is a re-run. */
  rerunOf: string | null;
}

export interface RunDetail extends RunSummary {
  params: ExecutionPlan['params'];
  progress: RunProgress | null;
}

/** What a run is besides its plan: a run of the draft, a re-run. */
export interface RunMarks {
  draft?: boolean;
  /** The saved time of the draft a draft run runs: the run's label ("draft of 14:02"). */
  draftSavedAt?: string;
  rerun?: RerunOf;
}

export interface StartRunOptions extends RunMarks {
  trigger: RunTrigger;
  idempotencyKey?: string;
  /** The run's id when the caller had to know it beforehand (a re-run leases staging under it). */
  runId?: string;
}

/** The memo a run carries, so run lists can tell draft runs and re-runs without reading histories. */
interface RunMemo {
  draft?: boolean;
  draftSavedAt?: string;
  rerunOf?: string;
}

/**
 * What every start of a run carries, whether RunsClient starts it or a Temporal Schedule does:
 * the task queue, the interpreter's input, and the search attributes runs are found by.
 */
export function runStartOptions(
  plan: ExecutionPlan,
  trigger: RunTrigger,
  taskQueue: string,
  marks: RunMarks = {},
) {
  const input: InterpreterInput = {
    plan,
    trigger,
    ...(marks.draft ? { draft: true } : {}),
    ...(marks.rerun ? { rerun: marks.rerun } : {}),
  };
  const memo: RunMemo = {
    ...(marks.draft ? { draft: true } : {}),
    ...(marks.draft && marks.draftSavedAt ? { draftSavedAt: marks.draftSavedAt } : {}),
    ...(marks.rerun ? { rerunOf: marks.rerun.runId } : {}),
  };
  return {
    taskQueue,
    args: [input] as [InterpreterInput],
    ...(Object.keys(memo).length > 0 ? { memo: memo as Record<string, unknown> } : {}),
    typedSearchAttributes: new TypedSearchAttributes([
      { key: SA_PROJECT, value: plan.project },
      { key: SA_PIPELINE, value: plan.pipelineId },
      { key: SA_PIPELINE_VERSION, value: String(plan.pipelineVersion ?? plan.versionHash.slice(0, 12)) },
      { key: SA_TRIGGER, value: trigger.type },
      { key: SA_TRIGGERED_BY, value: trigger.actor },
      ...(plan.branch ? [{ key: SA_BRANCH, value: plan.branch }] : []),
    ]),
  };
}

export class RunsClient {
  constructor(
    private readonly client: Client,
    readonly taskQueue: string,
    /** Closed runs' records; without them every answer comes from Temporal (tests of the live path). */
    readonly records?: RunRecordStore,
    private readonly limits: RunLimits = DEFAULT_RUN_LIMITS,
    /** Makes concurrency "skip" atomic across API processes; without, the check is visibility's only. */
    private readonly slots?: PipelineSlots,
  ) {}

  /** Starts a run of a compiled plan; with an idempotency key, a repeated call returns the same run. */
  async start(
    compiled: ExecutionPlan,
    options: StartRunOptions,
  ): Promise<{ runId: string; created: boolean }> {
    // The operator's limits hold for every run, whichever way it was started.
    const plan = applyRunLimits(compiled, this.limits);
    const runId = options.runId ?? runIdFor(plan.pipelineId, options.idempotencyKey);
    if (plan.concurrency !== 'skip') return this.startWorkflow(plan, options, runId);
    if (!this.slots) return this.startUnlessInFlight(plan, options, runId, null);
    // Check and start as one step: every API process takes the pipeline's slot lock first.
    return this.slots.exclusive(plan.pipelineId, async (holder) => {
      const result = await this.startUnlessInFlight(plan, options, runId, holder);
      return { result, ...(result.created ? { holder: result.runId } : {}) };
    });
  }

  /** Under "skip": refuses while the slot's holder or any run visibility knows of is in flight. */
  private async startUnlessInFlight(
    plan: ExecutionPlan,
    options: StartRunOptions,
    runId: string,
    holder: string | null,
  ): Promise<{ runId: string; created: boolean }> {
    // A repeated key names its own run, which may be the one in flight: answer it before refusing.
    if (options.idempotencyKey && (await this.exists(runId))) return { runId, created: false };
    // The holder is asked directly (describe is consistent at once); visibility catches runs that
    // did not start through a slot (a schedule's, or from before slots existed).
    const inFlight =
      holder && holder !== runId && (await this.isRunning(holder))
        ? holder
        : (await this.list({ pipelineId: plan.pipelineId, status: 'running', limit: 1 })).runs[0]?.runId;
    if (inFlight) {
      throw new RunRefusedError(
        `Pipeline "${plan.pipelineId}" already has a run in flight (${inFlight}) and its concurrency ` +
          `policy is "skip"; wait for it to end, or change settings.concurrency to "queue" or "allow".`,
      );
    }
    return this.startWorkflow(plan, options, runId);
  }

  private async startWorkflow(
    plan: ExecutionPlan,
    options: StartRunOptions,
    runId: string,
  ): Promise<{ runId: string; created: boolean }> {
    try {
      await this.client.workflow.start(INTERPRETER_WORKFLOW, {
        ...runStartOptions(plan, options.trigger, this.taskQueue, options),
        workflowId: runId,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      return { runId, created: true };
    } catch (error) {
      // The key's run exists (a repeat, or two requests raced): the caller gets that run. Asking the
      // server first would cost every keyed start a round trip; REJECT_DUPLICATE answers it anyway.
      if (error instanceof WorkflowExecutionAlreadyStartedError && options.idempotencyKey)
        return { runId, created: false };
      throw error;
    }
  }

  private async isRunning(runId: string): Promise<boolean> {
    try {
      return (await this.client.workflow.getHandle(runId).describe()).status.name === 'RUNNING';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  private async exists(runId: string): Promise<boolean> {
    try {
      await this.client.workflow.getHandle(runId).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  async get(runId: string): Promise<RunDetail> {
    const record = await this.records?.get(runId);
    if (record) return record.detail;
    return this.getLive(runId);
  }

  /** Temporal's id of the run's execution (a UUID): from the record once closed. */
  async executionIdOf(runId: string): Promise<string> {
    const record = await this.records?.get(runId);
    if (record) return record.executionRunId;
    try {
      return (await this.client.workflow.getHandle(runId).describe()).runId;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new RunNotFoundError(`Run "${runId}" does not exist`);
      throw error;
    }
  }

  /** The run as Temporal tells it now, whatever its record says; what a record is made of. */
  async getLive(runId: string): Promise<RunDetail> {
    const handle = this.client.workflow.getHandle(runId);
    let description: WorkflowExecutionDescription;
    try {
      description = await handle.describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new RunNotFoundError(`Run "${runId}" does not exist`);
      throw error;
    }
    if (description.type !== INTERPRETER_WORKFLOW)
      throw new RunNotFoundError(`Run "${runId}" does not exist`);
    return this.detailOf(description);
  }

  /** The summary as the runs list shows it (the visibility record's status), and the detail. */
  async describeClosed(
    runId: string,
  ): Promise<{ summary: RunSummary; detail: RunDetail; executionRunId: string; taskQueue: string } | null> {
    const description = await this.client.workflow.getHandle(runId).describe();
    if (description.type !== INTERPRETER_WORKFLOW || description.status.name === 'RUNNING') return null;
    return {
      summary: toSummary(description),
      detail: await this.detailOf(description),
      executionRunId: description.runId,
      taskQueue: description.taskQueue,
    };
  }

  private async detailOf(description: WorkflowExecutionDescription): Promise<RunDetail> {
    const runId = description.workflowId;
    const summary = toSummary(description);
    const progress = await this.progressOf(description);
    const input = await this.inputOf(runId);
    // A step's error may quote a param (a failed query, say): sensitive values are scrubbed there too.
    const scrub = scrubberFor(input ? sensitiveValuesOf(input.plan) : []);
    return {
      ...summary,
      ...(progress ? { status: progress.status } : {}),
      params: input ? redactParams(input.plan.params, input.plan.sensitiveParams) : {},
      progress: scrub(progress),
    };
  }

  /** The live query while running; once closed, what the history recorded (result or failure details). */
  private async progressOf(description: WorkflowExecutionDescription): Promise<RunProgress | null> {
    const handle = this.client.workflow.getHandle(description.workflowId);
    if (description.status.name === 'RUNNING') {
      const progress = await handle.query(progressQuery);
      // Attempts in flight are known to the server, not to the workflow: merge them in.
      for (const pending of description.raw.pendingActivities ?? []) {
        const step = pending.activityId ? progress.steps[pending.activityId] : undefined;
        if (step && pending.attempt) step.attempt = pending.attempt;
        if (step && pending.lastFailure?.message && step.status === 'running')
          step.error = pending.lastFailure.message;
      }
      return progress;
    }
    if (description.status.name === 'COMPLETED') return (await handle.result()) as RunProgress;
    if (description.status.name === 'FAILED') {
      try {
        await handle.result();
      } catch (error) {
        const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
        if (cause instanceof ApplicationFailure && cause.type === 'PipelineRunFailed')
          return cause.details?.[0] as RunProgress;
      }
      return null;
    }
    // Cancelled runs keep their last progress only in the workflow's state: ask for it by replay.
    try {
      return await handle.query(progressQuery);
    } catch {
      return null;
    }
  }

  /** What the run was started with (its plan, trigger and marks), from its history. */
  async inputOf(runId: string): Promise<InterpreterInput | undefined> {
    const history = await decodeHistory(
      await this.client.workflow.getHandle(runId).fetchHistory(),
      this.client.options.loadedDataConverter.payloadCodecs,
    );
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const payload = started?.input?.payloads?.[0];
    if (!payload) return undefined;
    return this.client.options.loadedDataConverter.payloadConverter.fromPayload(payload) as InterpreterInput;
  }

  async cancel(runId: string, actor: string, reason?: string): Promise<void> {
    const handle = this.client.workflow.getHandle(runId);
    try {
      await handle.signal(cancelRequestedSignal, { actor, ...(reason ? { reason } : {}) });
      await handle.cancel();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError)
        throw new RunNotFoundError(`Run "${runId}" is not running or does not exist`);
      throw error;
    }
  }

  /**
   * Lists runs newest first through a visibility query on the search attributes. The cursor is
   * the start time of the last run returned; pass it back for the next page.
   */
  async list(filter: {
    project?: string;
    pipelineId?: string;
    status?: 'running' | 'closed';
    trigger?: TriggerType;
    limit?: number;
    cursor?: string;
  }): Promise<{ runs: RunSummary[]; nextCursor: string | null }> {
    const clauses = [`WorkflowType = '${INTERPRETER_WORKFLOW}'`];
    if (filter.project) clauses.push(`TributaryProject = ${quote(filter.project)}`);
    if (filter.pipelineId) clauses.push(`TributaryPipeline = ${quote(filter.pipelineId)}`);
    if (filter.trigger) clauses.push(`TributaryTrigger = ${quote(filter.trigger)}`);
    if (filter.status === 'running') clauses.push(`ExecutionStatus = 'Running'`);
    if (filter.status === 'closed') clauses.push(`ExecutionStatus != 'Running'`);
    if (filter.cursor) clauses.push(`StartTime < ${quote(filter.cursor)}`);
    const limit = filter.limit ?? 50;
    const live: RunSummary[] = [];
    for await (const execution of this.client.workflow.list({
      query: clauses.join(' AND '),
      pageSize: limit,
    })) {
      live.push(toSummary(execution));
      if (live.length === limit) break;
    }
    // Closed runs come from their records, which outlive their histories; a closed run not yet
    // recorded comes from visibility. Both are newest first: the page is the newest `limit` of both.
    const recorded =
      this.records && filter.status !== 'running'
        ? await this.records.summaries({
            ...(filter.project ? { project: filter.project } : {}),
            ...(filter.pipelineId ? { pipelineId: filter.pipelineId } : {}),
            ...(filter.trigger ? { trigger: filter.trigger } : {}),
            ...(filter.cursor ? { startedBefore: filter.cursor } : {}),
            limit,
          })
        : [];
    const byId = new Map(live.map((run) => [run.runId, run]));
    for (const run of recorded) byId.set(run.runId, run);
    const runs = [...byId.values()]
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))
      .slice(0, limit);
    return { runs, nextCursor: runs.length === limit ? runs[runs.length - 1]!.startedAt : null };
  }
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

const STATUS: Record<string, RunSummary['status']> = {
  RUNNING: 'running',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'running',
};

/** The search attribute is a keyword (a plan without a saved version carries a hash prefix). */
function versionOf(attribute: string | undefined): number {
  const version = Number(attribute);
  return Number.isSafeInteger(version) ? version : 0;
}

function toSummary(description: Omit<WorkflowExecutionInfo, 'raw'>): RunSummary {
  const sa = description.typedSearchAttributes;
  const memo = (description.memo ?? {}) as RunMemo;
  return {
    runId: description.workflowId,
    project: sa.get(SA_PROJECT) ?? '',
    pipelineId: sa.get(SA_PIPELINE) ?? '',
    pipelineVersion: versionOf(sa.get(SA_PIPELINE_VERSION)),
    trigger: (sa.get(SA_TRIGGER) ?? 'manual') as TriggerType,
    triggeredBy: sa.get(SA_TRIGGERED_BY) ?? '',
    branch: sa.get(SA_BRANCH) ?? null,
    status: STATUS[description.status.name] ?? 'running',
    startedAt: description.startTime.toISOString(),
    endedAt: description.closeTime?.toISOString() ?? null,
    draft: memo.draft === true,
    draftSavedAt: memo.draft === true && typeof memo.draftSavedAt === 'string' ? memo.draftSavedAt : null,
    rerunOf: typeof memo.rerunOf === 'string' ? memo.rerunOf : null,
  };
}
