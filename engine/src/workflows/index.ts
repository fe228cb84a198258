// The workflow bundle's entry: every workflow type the worker registers.
export { pipelineRun } from './interpreter.workflow.js';
export { pipelineLock } from './pipeline-lock.workflow.js';
export { projectSlots } from './project-slots.workflow.js';
export { connectorProbe } from './connector-probe.workflow.js';
