// When a step ran, as the Temporal server recorded it: from scheduling its activity to its
// completion, so orchestration overhead is in and the rest of the run is out.
import type { temporal } from '@temporalio/proto';
import type { BenchStack } from './stack.js';

type Timestamp = temporal.api.history.v1.IHistoryEvent['eventTime'];
export const timestampMs = (t: Timestamp): number => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

/** Milliseconds from scheduling the activity `activityId` (a step id) to its completion. */
export async function stepMs(stack: BenchStack, runId: string, activityId: string): Promise<number> {
  const history = await stack.platform.temporal.workflow.getHandle(runId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = events.find((e) => e.activityTaskScheduledEventAttributes?.activityId === activityId);
  if (!scheduled) throw new Error(`run ${runId} never scheduled step ${activityId}`);
  const completed = events.find(
    (e) =>
      String(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled.eventId),
  );
  if (!completed) throw new Error(`step ${activityId} of run ${runId} did not complete`);
  return timestampMs(completed.eventTime) - timestampMs(scheduled.eventTime);
}
