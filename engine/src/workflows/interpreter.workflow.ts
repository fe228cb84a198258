// The one workflow type every pipeline runs as: it interprets an ExecutionPlan as a DAG. Sandbox
// code: deterministic, no Node built-ins, no clocks but Temporal's, and only `import type` from
// activities. Changes after a release must be guarded with `patched()` (see engine/test/histories).
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  getExternalWorkflowHandle,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { TableRef } from '@tributary/activities';
import type { InterpreterInput, PlanStep, ReusedStep, RunProgress, StepProgress } from '../model/plan.js';
import {
  cancelRequestedSignal,
  lockGrantedSignal,
  lockWorkflowId,
  progressQuery,
  releaseLockSignal,
  releaseSlotSignal,
  releaseSlotsSignal,
  slotGrantedSignal,
  slotsGrantedSignal,
  slotsWorkflowId,
  slotsContendedSignal,
  type RunActivities,
  type StepActivityInput,
  type StepActivityResult,
} from '../model/run-contract.js';
import { stagingSchemaFor } from '../model/run-ids.js';

type StepActivity = (input: StepActivityInput) => Promise<StepActivityResult>;

const lifecycle = proxyActivities<RunActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 10, initialInterval: '1s', maximumInterval: '30s' },
});
/**
 * Lifecycle work as local activities: run by the worker that runs the workflow task, within it, so
 * neither a task queue round trip nor another workflow task stands between it and the next step.
 */
const local = proxyLocalActivities<RunActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 10, initialInterval: '1s', maximumInterval: '30s' },
});
/** Slots given back at a run's end: a few tries, then the semaphore's liveness check takes over. */
const releasing = proxyLocalActivities<RunActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1s', maximumInterval: '5s' },
});

export async function pipelineRun(input: InterpreterInput): Promise<RunProgress> {
  const { plan } = input;
  const runId = workflowInfo().workflowId;
  const stagingSchema = stagingSchemaFor(runId, plan.pipelineId);
  const now = () => new Date().toISOString(); // Temporal's deterministic clock inside workflows
  const progress: RunProgress = {
    status: 'running',
    startedAt: now(),
    endedAt: null,
    steps: Object.fromEntries(plan.steps.map((s) => [s.id, emptyStep()])),
  };
  setHandler(progressQuery, () => progress);
  setHandler(cancelRequestedSignal, () => {});

  // A step whose input no other step reads, in a run that keeps no staging, may consume that input
  // (a sink can move the table into place instead of copying it).
  const consumers = new Map<string, number>();
  for (const s of plan.steps)
    for (const dep of s.dependsOn) consumers.set(dep, (consumers.get(dep) ?? 0) + 1);

  // Project roles in the warehouse: the staging schema belongs to the run's project, steps get a
  // statement timeout and may consume inputs only they read. Runs from before keep their inputs.
  const projectRoles = patched('warehouse-project-roles');

  // A re-run does not run the steps it reuses: the earlier run's kept tables are their outputs.
  // Only a run with something to reuse takes the new path (and records the patch marker).
  const reused: Record<string, ReusedStep> =
    input.rerun && Object.keys(input.rerun.reused).length > 0 && patched('rerun-reuse')
      ? input.rerun.reused
      : {};
  // A reused table belongs to the earlier run and may be reused again: no step may consume it.
  // Routes: deciding steps (flow.if, flow.switch) and failure outputs. Only a plan that has some
  // takes the new path (and records the patch marker), so every other run is as it was.
  const routed = plan.steps.some((s) => s.routes || s.after) && patched('flow-routes');
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  // A deciding step passes its input's own table through: whoever reads it must not consume it.
  const passesThrough = (dep: string) => routed && byId.get(dep)?.routes !== undefined;
  const exclusiveInputs = (step: PlanStep) =>
    plan.keepStaging
      ? []
      : step.dependsOn.filter(
          (dep) => consumers.get(dep) === 1 && !Object.hasOwn(reused, dep) && !passesThrough(dep),
        );

  // prepareRun and finishRun as local activities (see `local`): two dispatches fewer per run. They
  // are recorded as markers, which the run's history readers (audit/run-history.ts) read as
  // lifecycle tasks as they read activities. Runs from before keep their activity tasks.
  const runLifecycle = patched('lifecycle-local') ? local : lifecycle;

  // A step that counted its table while writing it (COPY's answer) says so; the one step that may
  // consume that table gets the count and need not scan the table again. Runs from before send none.
  const inputRowsKnown = patched('step-input-rows');

  // Compile parsed each config and the plan says with which schema: a step is told, and does not
  // parse its config again when its worker has that schema. Plans from before carry no digests,
  // never reach the patch, and their steps are sent what they were sent.
  const configSchemas = plan.configSchemas && patched('plan-parsed-config') ? plan.configSchemas : {};
  const tableRows: Record<string, number> = {};
  const inputRowsOf = (step: PlanStep) => {
    const known = exclusiveInputs(step).filter((dep) => Object.hasOwn(tableRows, dep));
    return known.length > 0
      ? { inputRows: Object.fromEntries(known.map((dep) => [dep, tableRows[dep]!])) }
      : {};
  };

  const outputs: Record<string, TableRef | null> = {};
  for (const [nodeId, earlier] of Object.entries(reused)) {
    const state = progress.steps[nodeId];
    if (!state) continue;
    Object.assign(state, {
      status: 'reused',
      rowsIn: earlier.rowsIn,
      rowsOut: earlier.rowsOut,
      bytes: earlier.bytes,
      reusedFrom: earlier.runId,
    });
    outputs[nodeId] = earlier.table;
  }
  // The project's fair share (TRIBUTARY_PROJECT_MAX_ACTIVITIES): each step takes a slot of the
  // project's semaphore before its activity is scheduled, so past the share a step waits here, in
  // Temporal, not in a worker's slot. Plans from before carry no share and run as they did.
  const share = plan.projectShare !== undefined && patched('project-fair-share') ? plan.projectShare : null;
  const granted = new Set<string>();
  setHandler(slotGrantedSignal, ({ key }) => {
    granted.add(key);
  });
  setHandler(slotsGrantedSignal, ({ keys }) => {
    for (const key of keys) granted.add(key);
  });
  /** Steps waiting for a slot: not started, but no longer ready to be picked again. */
  const waiting = new Set<string>();
  // Slots as lanes: a step that ends keeps its slot for the run's next ready step (in the same
  // workflow task) instead of giving it back and asking again, slots are asked for through a local
  // activity, and a slot given back is not waited for before the next step may start. The project
  // never holds more than its share (a kept slot is still one slot); once the semaphore says another
  // run of the project waits, every slot is given back when its step ends, as before. Runs from
  // before ask and give back per step.
  const lanes = share !== null && patched('fair-share-lanes');
  /** Slots this run holds that no step runs in: taken by the next step started, else given back. */
  const idle: string[] = [];
  let contended = false;
  setHandler(slotsContendedSignal, () => {
    contended = true;
  });
  // The semaphore runs on the run's own task queue (see slotsWorkflowId), so the run knows its id.
  const semaphoreId = slotsWorkflowId(plan.project, workflowInfo().taskQueue);
  /** Asks the semaphore for a slot; not cancellable: once asked, it is given back whatever happens. */
  const askSlot = (key: string) =>
    CancellationScope.nonCancellable(() =>
      local.requestProjectSlot({ project: plan.project, runId, key, capacity: share! }),
    );
  // One request for several slots: the steps started in one pass of the loop below that need a slot
  // ask for them together (one local activity, one signal to the semaphore, and the grants of a
  // round come back in one signal), instead of one request and one grant per step. Only a pass that
  // asks for two or more reaches the patch, so runs from before (and runs that never ask for more
  // than one slot at once) record no marker and ask as they did.
  let gathered: { keys: string[]; asked: ((request: Promise<unknown>) => void)[] } | null = null;
  /** Joins the pass's request for slots; resolves once this key's request is made (see sendAsks). */
  const askWithPass = (key: string): Promise<unknown> => {
    gathered ??= { keys: [], asked: [] };
    const pass = gathered;
    pass.keys.push(key);
    return new Promise((resolve) => {
      pass.asked.push(resolve);
    });
  };
  /** Sends the pass's request: one key as before, several in one request (patched('slots-batch')). */
  const sendAsks = () => {
    const pass = gathered;
    gathered = null;
    if (pass === null) return;
    const { keys, asked } = pass;
    if (keys.length > 1 && patched('slots-batch')) {
      const request = CancellationScope.nonCancellable(() =>
        local.requestProjectSlots({ project: plan.project, runId, keys, capacity: share! }),
      );
      for (const resolve of asked) resolve(request);
    } else {
      keys.forEach((key, i) => asked[i]!(askSlot(key)));
    }
  };
  const releases: Promise<void>[] = [];
  const giveBack = (key: string) => {
    const handle = getExternalWorkflowHandle(semaphoreId);
    // Given back even when the run is cancelled; a run that ends without it is noticed by the
    // semaphore's liveness check.
    releases.push(
      CancellationScope.nonCancellable(() =>
        handle.signal(releaseSlotSignal, { key }).catch(() => undefined),
      ),
    );
  };
  /**
   * Gives several slots back in one signal (patched('slots-batch')): each signal the workflow sends
   * costs it CPU (a scope, promises, a command) and the semaphore a signal to handle. Fewer than two
   * never reach the patch, so runs from before send what they sent.
   */
  const giveBackAll = (keys: string[]) => {
    if (keys.length < 2 || !patched('slots-batch')) {
      for (const key of keys) giveBack(key);
      return;
    }
    const handle = getExternalWorkflowHandle(semaphoreId);
    releases.push(
      CancellationScope.nonCancellable(() =>
        handle.signal(releaseSlotsSignal, { keys }).catch(() => undefined),
      ),
    );
  };

  const pendingStates: { nodeId: string; state: unknown }[] = [];
  let changes = 0;
  let running = 0;

  const runStep = async (step: PlanStep): Promise<void> => {
    const state = progress.steps[step.id]!;
    const key = `${runId}/${step.id}`;
    running += 1;
    // The semaphore that holds (or queues) this step's request; it is released in `finally`.
    let semaphore: string | null = null;
    /** The slot this step runs in (lanes): kept for the run's next step or given back at the end. */
    let slot: string | null = null;
    /** A slot asked for and not (yet) granted: given back if the step ends waiting for it. */
    let asked: string | null = null;
    try {
      if (lanes) {
        waiting.add(step.id);
        // A slot kept by a step that just ended is taken here, before the first await.
        slot = idle.pop() ?? null;
        if (slot === null) {
          asked = key;
          await askWithPass(key);
          await condition(() => granted.has(key));
          slot = key;
          asked = null;
        }
        waiting.delete(step.id);
      } else if (share !== null) {
        waiting.add(step.id);
        // The activity names the semaphore (its id depends on the task queue), so a replay sends
        // the release where the recorded run did.
        const requested = await lifecycle.requestProjectSlot({
          project: plan.project,
          runId,
          key,
          capacity: share,
        });
        // Runs of the first version of this patch got nothing back: their semaphore was `slots-<project>`.
        semaphore = requested?.workflowId ?? `slots-${plan.project}`;
        await condition(() => granted.has(key));
        waiting.delete(step.id);
      }
      state.status = 'running';
      state.startedAt = now();
      state.attempt = 1;
      const activity = proxyActivities<Record<string, StepActivity>>(activityOptions(step))[step.type]!;
      const inputs: Record<string, TableRef> = {};
      for (const dep of step.dependsOn) {
        const table = outputs[dep];
        if (table) inputs[dep] = table;
      }
      const result = await activity({
        runId,
        project: plan.project,
        pipelineId: plan.pipelineId,
        nodeId: step.id,
        type: step.type,
        config: step.config,
        ...(Object.hasOwn(configSchemas, step.type) ? { configSchema: configSchemas[step.type] } : {}),
        inputs,
        params: plan.params,
        stagingSchema,
        // Only a branch run sends it, so main runs (and their recorded histories) are as they were.
        ...(plan.branch ? { branch: plan.branch } : {}),
        // Runs started before project roles keep sending what they sent (see the patch below).
        ...(projectRoles
          ? { statementTimeoutSeconds: step.statementTimeoutSeconds, exclusiveInputs: exclusiveInputs(step) }
          : {}),
        ...(projectRoles && inputRowsKnown ? inputRowsOf(step) : {}),
        // Only a deciding step (in a routed plan) is handed the facts of the steps it reads.
        ...(step.reads ? { upstream: upstreamFacts(step.reads, progress) } : {}),
      });
      outputs[step.id] = result.table;
      if (inputRowsKnown && typeof result.tableRows === 'number') tableRows[step.id] = result.tableRows;
      if (result.pendingState !== undefined && result.pendingState !== null) {
        pendingStates.push({ nodeId: step.id, state: result.pendingState });
      }
      Object.assign(state, {
        status: 'succeeded',
        rowsIn: result.stats.rowsIn,
        rowsOut: result.stats.rowsOut,
        bytes: result.stats.bytes,
        attempt: result.attempt,
        notes: result.notes,
      });
      if (result.facts) state.facts = result.facts;
      if (result.decision) state.decision = result.decision;
    } catch (error) {
      if (isCancellation(error)) {
        state.status = 'cancelled';
      } else {
        state.status = 'failed';
        state.error = describeFailure(error);
        state.attempt = attemptsOf(error) ?? step.retry.maximumAttempts;
        const facts = failureDetails(error)?.facts;
        if (facts && typeof facts === 'object') state.facts = facts as StepProgress['facts'];
      }
    } finally {
      waiting.delete(step.id);
      if (asked !== null) giveBack(asked);
      if (slot !== null) {
        if (contended || state.status === 'cancelled') giveBack(slot);
        else idle.push(slot);
      }
      if (semaphore !== null) {
        const handle = getExternalWorkflowHandle(semaphore);
        // Given back even when the run is cancelled; a run that ends without it is noticed by the
        // semaphore's liveness check.
        await CancellationScope.nonCancellable(() =>
          handle.signal(releaseSlotSignal, { key }).catch(() => undefined),
        );
      }
      state.endedAt = now();
      running -= 1;
      changes += 1;
    }
  };

  const queued = plan.concurrency === 'queue';
  let lockGranted = false;
  setHandler(lockGrantedSignal, () => {
    lockGranted = true;
  });

  let cancellation: unknown;
  /** The run's first slot, asked for and not (yet) granted (lanes). */
  let startAsked: string | null = null;
  try {
    if (queued) {
      // Wait our turn behind earlier runs of this pipeline (cancellable: a queued run can be cancelled).
      await lifecycle.requestPipelineLock({ pipelineId: plan.pipelineId, runId });
      await condition(() => lockGranted);
    }
    // A branch run's staging belongs to the project's branch role (only branch runs send the branch:
    // an activity's input is not part of what replay compares, and main runs send what they sent).
    const preparing = runLifecycle.prepareRun(
      projectRoles
        ? { stagingSchema, project: plan.project, ...(plan.branch ? { branch: plan.branch } : {}) }
        : { stagingSchema },
    );
    if (lanes && plan.steps.some((s) => !Object.hasOwn(reused, s.id))) {
      // The first step's slot is asked for while the staging is prepared (the first step waits for
      // both anyway); it is kept for whichever step starts first.
      const key = `${runId}#start`;
      startAsked = key;
      await Promise.all([
        preparing,
        (async () => {
          await askSlot(key);
          await condition(() => granted.has(key));
          idle.push(key);
          startAsked = null;
        })(),
      ]);
    } else {
      await preparing;
    }
    await CancellationScope.cancellable(async () => {
      const inFlight: Promise<void>[] = [];
      for (;;) {
        let ready: PlanStep[];
        if (routed) {
          ready = settleRoutes(plan.steps, progress, byId).filter((s) => !waiting.has(s.id));
        } else {
          settleBlockedSteps(plan.steps, progress);
          ready = plan.steps.filter(
            (s) =>
              progress.steps[s.id]!.status === 'pending' &&
              !waiting.has(s.id) &&
              s.dependsOn.every((d) => satisfied(plan, progress, d)),
          );
        }
        for (const step of ready.slice(0, Math.max(0, plan.maxParallel - running))) {
          inFlight.push(runStep(step));
        }
        // The slots the steps just started need, asked for together (each started step asked
        // before its first await).
        sendAsks();
        // The run's last slots go back together at its end (see below), not one signal each here.
        if (running === 0 && idle.length > 0 && patched('slots-batch')) break;
        // Kept slots no step took (each step started above took one before its first await).
        giveBackAll(idle.splice(0).reverse());
        if (running === 0) break;
        const seen = changes;
        await condition(() => changes !== seen);
      }
      await Promise.all(inFlight);
    });
  } catch (error) {
    if (!isCancellation(error)) throw error;
    cancellation = error;
  }

  if (cancellation) {
    for (const state of Object.values(progress.steps)) {
      if (state.status === 'pending' || state.status === 'running') state.status = 'cancelled';
    }
  }
  // Slots still kept go back before the run's cleanup; the signals are not waited for until after it.
  const leftover: string[] = [];
  if (lanes) {
    if (startAsked !== null) leftover.push(startAsked);
    for (let key = idle.pop(); key !== undefined; key = idle.pop()) leftover.push(key);
  }
  // Since patched('slots-batch') they go back together, in a local activity beside finishRun: a
  // signal the workflow sends is delivered after its workflow task, and waiting for it cost the run
  // one more workflow task at its end. Runs from before send a signal per slot.
  const releaseTogether = leftover.length > 0 && patched('slots-batch');
  if (!releaseTogether) for (const key of leftover) giveBack(key);
  const released = releaseTogether
    ? CancellationScope.nonCancellable(() =>
        // A semaphore that does not hear of it takes the slots back by its liveness check.
        releasing.releaseProjectSlots({ project: plan.project, keys: leftover }).catch(() => undefined),
      )
    : undefined;
  progress.status = cancellation ? 'cancelled' : finalStatus(plan.steps, progress);
  const keepsFailedStaging = patched('failed-run-keeps-staging');
  // Cleanup runs even when the run was cancelled; only a successful run commits incremental state.
  await CancellationScope.nonCancellable(() =>
    runLifecycle.finishRun({
      runId,
      stagingSchema,
      keepStaging: plan.keepStaging,
      pipelineId: plan.pipelineId,
      ...(plan.branch ? { branch: plan.branch } : {}),
      states:
        progress.status === 'succeeded' || progress.status === 'succeeded_with_warnings' ? pendingStates : [],
      // A failed run keeps its staging for a re-run; runs from before send what they sent.
      ...(keepsFailedStaging ? { status: progress.status } : {}),
      ...(Object.keys(reused).length > 0 ? { reusedSchemas: reusedSchemas(reused) } : {}),
    }),
  );
  if (lanes) await Promise.all([...releases, released]);
  if (queued) {
    // Releasing also takes a still-queued run out of the line.
    await CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(lockWorkflowId(plan.pipelineId)).signal(releaseLockSignal, { runId }),
    );
  }
  progress.endedAt = now();

  // Rethrowing the cancellation ends the execution as Canceled in Temporal, as users expect.
  if (cancellation) throw cancellation;
  if (progress.status === 'failed') {
    const failed = Object.entries(progress.steps).filter(([, s]) => s.status === 'failed');
    throw ApplicationFailure.create({
      type: 'PipelineRunFailed',
      message: failed.map(([id, s]) => `step "${id}" failed: ${s.error}`).join('; '),
      nonRetryable: true,
      details: [progress],
    });
  }
  return progress;
}

function emptyStep(): StepProgress {
  return {
    status: 'pending',
    attempt: 0,
    startedAt: null,
    endedAt: null,
    rowsIn: null,
    rowsOut: null,
    bytes: null,
    error: null,
  };
}

function reusedSchemas(reused: Record<string, ReusedStep>): string[] {
  const schemas = Object.values(reused).flatMap((r) => (r.table ? [r.table.schema] : []));
  return [...new Set(schemas)].sort();
}

function activityOptions(step: PlanStep): ActivityOptions {
  return {
    activityId: step.id,
    startToCloseTimeout: `${step.timeoutSeconds}s`,
    heartbeatTimeout: `${step.heartbeatTimeoutSeconds}s`,
    retry: {
      maximumAttempts: step.retry.maximumAttempts,
      initialInterval: step.retry.initialIntervalMs,
      backoffCoefficient: step.retry.backoffCoefficient,
      maximumInterval: step.retry.maximumIntervalMs,
    },
  };
}

/** A dependency is satisfied when it succeeded (or was reused), or failed but lets its dependents continue. */
function satisfied(plan: InterpreterInput['plan'], progress: RunProgress, id: string): boolean {
  const status = progress.steps[id]!.status;
  if (status === 'succeeded' || status === 'reused') return true;
  return status === 'failed' && plan.steps.find((s) => s.id === id)!.continueOnFailure;
}

/** Marks pending steps whose dependencies can no longer be satisfied as skipped. */
function settleBlockedSteps(steps: PlanStep[], progress: RunProgress): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const step of steps) {
      const state = progress.steps[step.id]!;
      if (state.status !== 'pending') continue;
      const blocked = step.dependsOn.some((d) => {
        const dep = progress.steps[d]!;
        const depStep = steps.find((s) => s.id === d)!;
        return (
          dep.status === 'skipped' ||
          dep.status === 'cancelled' ||
          (dep.status === 'failed' && !depStep.continueOnFailure)
        );
      });
      if (blocked) {
        state.status = 'skipped';
        changed = true;
      }
    }
  }
}

type Gate = 'wait' | 'go' | { skip: string };

/**
 * Where a step stands in a routed plan: it waits until its dependencies have ended, then runs or is
 * skipped. An edge from a route runs only when its deciding step took that route; an edge from a
 * "failure" output only when its step failed (after its retries); a deciding step runs however its
 * plain inputs ended (it may decide on exactly that); any other step needs its inputs to succeed.
 */
function gateOf(step: PlanStep, progress: RunProgress, byId: Map<string, PlanStep>): Gate {
  let waiting = false;
  for (const d of step.dependsOn) {
    const dep = progress.steps[d]!;
    if (dep.status === 'pending' || dep.status === 'running') {
      waiting = true;
      continue;
    }
    const output = step.after?.[d];
    const ended = dep.status === 'reused' ? 'was reused' : dep.status;
    if (output === 'failure') {
      if (dep.status !== 'failed') return { skip: `output "failure" of "${d}" not taken: "${d}" ${ended}` };
    } else if (output !== undefined) {
      if (dep.status !== 'succeeded' || !dep.decision)
        return { skip: `output "${output}" of "${d}" not taken: "${d}" ${ended} without deciding` };
      if (dep.decision.taken !== output)
        return { skip: `output "${output}" of "${d}" not taken: ${decisionText(dep.decision)}` };
    } else if (step.routes === undefined) {
      const ok =
        dep.status === 'succeeded' ||
        dep.status === 'reused' ||
        (dep.status === 'failed' && byId.get(d)!.continueOnFailure);
      if (!ok) return { skip: `"${d}" ${ended}` };
    }
  }
  return waiting ? 'wait' : 'go';
}

/** Marks the pending steps that can no longer run as skipped (with why); returns those ready to run. */
function settleRoutes(steps: PlanStep[], progress: RunProgress, byId: Map<string, PlanStep>): PlanStep[] {
  for (let changed = true; changed;) {
    changed = false;
    for (const step of steps) {
      const state = progress.steps[step.id]!;
      if (state.status !== 'pending') continue;
      const gate = gateOf(step, progress, byId);
      if (typeof gate === 'object') {
        state.status = 'skipped';
        state.skippedBecause = gate.skip;
        changed = true;
      }
    }
  }
  return steps.filter(
    (s) => progress.steps[s.id]!.status === 'pending' && gateOf(s, progress, byId) === 'go',
  );
}

function decisionText(decision: NonNullable<StepProgress['decision']>): string {
  const read = Object.entries(decision.inputs)
    .map(([name, value]) => `${name} = ${JSON.stringify(value)}`)
    .join(', ');
  const why =
    decision.condition === null
      ? 'no case held'
      : `condition ${decision.condition} is ${JSON.stringify(decision.value)}`;
  return `${why}${read ? ` (${read})` : ''}, so "${decision.taken}" was taken`;
}

/** What a deciding step may read of the steps it names: how they ended, their rows, their facts. */
function upstreamFacts(
  reads: string[],
  progress: RunProgress,
): Record<string, Record<string, string | number | boolean | null>> {
  return Object.fromEntries(
    reads.map((id) => {
      const s = progress.steps[id];
      return [
        id,
        {
          ...s?.facts,
          status: s?.status ?? null,
          rowsIn: s?.rowsIn ?? null,
          rowsOut: s?.rowsOut ?? null,
          error: s?.error ? s.error.split('\n')[0]! : null,
        },
      ];
    }),
  );
}

function finalStatus(steps: PlanStep[], progress: RunProgress): RunProgress['status'] {
  const failed = steps.filter((s) => progress.steps[s.id]!.status === 'failed');
  if (failed.length === 0) return 'succeeded';
  return failed.every((s) => s.continueOnFailure) ? 'succeeded_with_warnings' : 'failed';
}

function describeFailure(error: unknown): string {
  let current: unknown = error;
  // Unwrap ActivityFailure → ApplicationFailure to reach the activity's own message.
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current instanceof Error ? current.message : String(error);
}

/** The details the step executor puts into every failure (the attempt, declared facts). */
function failureDetails(error: unknown): { attempt?: unknown; facts?: unknown } | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  return cause.details?.[0] as { attempt?: unknown; facts?: unknown } | undefined;
}

function attemptsOf(error: unknown): number | undefined {
  const attempt = failureDetails(error)?.attempt;
  return typeof attempt === 'number' ? attempt : undefined;
}
