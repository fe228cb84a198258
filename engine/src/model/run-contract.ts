// The contract of a pipeline run between the interpreter workflow and everything around it: the
// workflow type and its input, the query that reads progress and the signal sent before a cancel.
// The client, the schedule service and the workflow all take these from here, so none of them
// imports another's module. Workflow-safe: only @temporalio/workflow's define* and types.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RunProgress } from './plan.js';

export type { InterpreterInput } from './plan.js';

/** The workflow type every pipeline runs as (the export name of the interpreter). */
export const INTERPRETER_WORKFLOW = 'pipelineRun';

export const progressQuery = defineQuery<RunProgress>('progress');

export interface CancelRequest {
  actor: string;
  reason?: string;
}
/** Sent just before a cancel so the history records who asked for it. */
export const cancelRequestedSignal = defineSignal<[CancelRequest]>('cancelRequested');
