// The contract of a pipeline run between the interpreter workflow and everything around it, in one
// module: the workflow types and their input, the task queue's default, the ids, the query that
// reads progress, the signals (cancel, the per-pipeline lock), the memo and search attributes a run
// carries, and the activities the workflows call. Workflows, worker, client, schedules and history
// readers all take these from here, so none of them imports another's module (the worker and the
// workflows no longer import each other). Workflow-safe: define* from @temporalio/workflow, types.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunProgress, RunStatus } from './plan.js';

export type { InterpreterInput } from './plan.js';
export type { StepActivityInput, StepActivityResult } from '@tributary/activities';
export * from './search-attributes.js';

/** The task queue workers poll and runs are started on unless TEMPORAL_TASK_QUEUE says otherwise. */
export const DEFAULT_TASK_QUEUE = 'tributary';

/** The workflow type every pipeline runs as (the export name of the interpreter). */
export const INTERPRETER_WORKFLOW = 'pipelineRun';

export const progressQuery = defineQuery<RunProgress>('progress');

export interface CancelRequest {
  actor: string;
  reason?: string;
}
/** Sent just before a cancel so the history records who asked for it. */
export const cancelRequestedSignal = defineSignal<[CancelRequest]>('cancelRequested');

/** The memo a run carries, so run lists can tell draft runs and re-runs without reading histories. */
export interface RunMemo {
  draft?: boolean;
  draftSavedAt?: string;
  rerunOf?: string;
}

// The per-pipeline lock of the `queue` concurrency policy (workflows/pipeline-lock.workflow.ts).

/** The lock's workflow type (the export name of the lock workflow). */
export const LOCK_WORKFLOW = 'pipelineLock';

export interface LockState {
  holder: string | null;
  queue: string[];
}

export const acquireLockSignal = defineSignal<[{ runId: string }]>('acquireLock');
export const releaseLockSignal = defineSignal<[{ runId: string }]>('releaseLock');
/** Sent by the lock to the run it grants. */
export const lockGrantedSignal = defineSignal('lockGranted');
export const lockStateQuery = defineQuery<LockState>('lockState');

export const lockWorkflowId = (pipelineId: string): string => `lock-${pipelineId}`;

// The run's own activities, which the workflows call and the worker implements (run-activities.ts).

export interface FinishRunInput {
  runId: string;
  stagingSchema: string;
  keepStaging: boolean;
  pipelineId: string;
  /** States to commit; empty unless the run succeeded. */
  states: { nodeId: string; state: unknown }[];
  /** The development branch the run was in (its state is the branch's own); absent on main. */
  branch?: string;
  /** How the run ended (absent in runs started before failed runs kept their staging). */
  status?: RunStatus;
  /** Staging schemas of earlier runs whose tables this re-run reused: kept as long as this run's. */
  reusedSchemas?: string[];
}

export interface RunActivities {
  /** Creates the run's staging schema, owned by its project's role (absent in runs started before roles). */
  prepareRun(input: { stagingSchema: string; project?: string; branch?: string }): Promise<void>;
  finishRun(input: FinishRunInput): Promise<void>;
  /** Queues the run for the pipeline's lock (starting the lock workflow if needed). */
  requestPipelineLock(input: { pipelineId: string; runId: string }): Promise<void>;
  runIsOpen(input: { runId: string }): Promise<boolean>;
  /**
   * Asks the project's semaphore (starting it if needed) for a step slot; the grant comes as a signal.
   * A local activity since patched('fair-share-lanes'), an activity task before.
   */
  requestProjectSlot(input: {
    project: string;
    runId: string;
    key: string;
    capacity: number;
  }): Promise<{ workflowId: string } | undefined>;
  /**
   * Asks the project's semaphore (starting it if needed) for several step slots at once, in the
   * order given; they are granted together in `slotsGranted` signals (patched('slots-batch')).
   */
  requestProjectSlots(input: {
    project: string;
    runId: string;
    keys: string[];
    capacity: number;
  }): Promise<{ workflowId: string }>;
  /** Gives slots back to the project's semaphore in one signal (a run's last slots, at its end). */
  releaseProjectSlots(input: { project: string; keys: string[] }): Promise<void>;
}

// A project's fair share of step slots (workflows/project-slots.workflow.ts).

/** The semaphore's workflow type (the export name of the slots workflow). */
export const SLOTS_WORKFLOW = 'projectSlots';

export interface SlotRequest {
  runId: string;
  /** Unique per request: `<runId>/<step id>`. */
  key: string;
  /**
   * Asked for together with other keys (`acquireSlots`): the run takes its grants as one
   * `slotsGranted` signal per grant round. Absent on single requests and before patched('slots-batch').
   */
  together?: true;
}

export interface SlotsState {
  capacity: number;
  holders: SlotRequest[];
  queue: SlotRequest[];
  /**
   * Runs told that another run of the project waits for a slot (patched('slots-contention')), so
   * they give their slots back instead of handing them to their own next step. Absent before.
   */
  contended?: string[];
}

export const acquireSlotSignal = defineSignal<[SlotRequest & { capacity: number }]>('acquireSlot');
/** Several slots for one run, queued in the order given (patched('slots-batch') in both workflows). */
export const acquireSlotsSignal =
  defineSignal<[{ runId: string; keys: string[]; capacity: number }]>('acquireSlots');
export const releaseSlotSignal = defineSignal<[{ key: string }]>('releaseSlot');
/** Several slots given back at once (patched('slots-batch') in the interpreter). */
export const releaseSlotsSignal = defineSignal<[{ keys: string[] }]>('releaseSlots');
/** Sent by the semaphore to the run whose request it grants. */
export const slotGrantedSignal = defineSignal<[{ key: string }]>('slotGranted');
/** Sent by the semaphore to a run that asked for several slots together: those granted in one round. */
export const slotsGrantedSignal = defineSignal<[{ keys: string[] }]>('slotsGranted');
/**
 * Sent by the semaphore to a run holding slots while another run of the project waits: from then on
 * the run gives each slot back when its step ends instead of keeping it for its own next step.
 */
export const slotsContendedSignal = defineSignal('slotsContended');
export const slotsStateQuery = defineQuery<SlotsState>('slotsState');

/**
 * One semaphore per project and task queue: the share is of the workers polling that queue, and
 * the semaphore itself runs on it (a queue nobody polls any more cannot hold another's runs).
 */
export const slotsWorkflowId = (project: string, taskQueue: string): string =>
  `slots-${taskQueue}-${project}`;
