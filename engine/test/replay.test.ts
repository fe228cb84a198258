// Replays recorded workflow histories against today's interpreter: a change that is not
// deterministic (a reordered activity call, a new timer without `patched()`) fails here, and so
// does a change of what an activity is sent (Temporal's replay does not compare inputs, but an
// activity of a run in flight gets the input recorded before the deploy). Both would break runs in
// flight in production. Record new ones with histories/record.ts (see histories/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import {
  bundleWorkflowCode,
  Worker,
  type InjectedSinks,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { installTemporalRuntime, WORKFLOWS_PATH } from '../src/worker/worker.js';
import type { ActivityInputSinks } from './histories/activity-inputs.interceptor.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The interpreter with the interceptor that reports activity inputs (one bundle for every file). */
const replayBundle = () =>
  (bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: [path.join(DIR, 'activity-inputs.interceptor.ts')],
    logger: {
      log: () => {},
      trace: () => {},
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: () => {},
    },
  }));

type History = ReturnType<typeof proto.temporal.api.history.v1.History.fromObject>;

/** Each scheduled activity of a recorded history: its type and decoded input. */
function recordedActivities(history: History) {
  return (history.events ?? []).flatMap((event) => {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (!scheduled) return [];
    return [
      {
        activityType: scheduled.activityType?.name ?? '',
        args: (scheduled.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)),
      },
    ];
  });
}

describe('recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    installTemporalRuntime();
    // The files hold fetchHistory()'s objects as JSON; fromObject turns them back into protobufs.
    const history = proto.temporal.api.history.v1.History.fromObject(
      JSON.parse(readFileSync(path.join(DIR, file), 'utf8')),
    );
    const sent: { activityType: string; args: unknown[] }[] = [];
    const sinks: InjectedSinks<ActivityInputSinks> = {
      activityInputs: {
        scheduled: {
          fn: (_info, activityType, args) => void sent.push({ activityType, args }),
          callDuringReplay: true,
        },
      },
    };
    const recorded = recordedActivities(history);
    // The interpreter derives its staging schema from its workflow id, so the replay needs the
    // recorded one; the run lifecycle activities were sent it.
    const workflowId = recorded
      .map((a) => (a.args[0] as { runId?: unknown } | undefined)?.runId)
      .find((id): id is string => typeof id === 'string');
    expect(workflowId).toBeDefined();
    const result = await Worker.runReplayHistory(
      { workflowBundle: await replayBundle(), sinks },
      history,
      workflowId,
    );
    expect(result).toBeUndefined();
    // The same activities, in order, each sent exactly what the recorded run sent.
    expect(sent).toEqual(recorded);
  });
});
