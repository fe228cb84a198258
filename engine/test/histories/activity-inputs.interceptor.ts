// A workflow interceptor for the replay test only: reports the input of every activity the
// interpreter schedules, so the test can compare it with what the recorded history sent.
import { proxySinks, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface ActivityInputSinks extends Sinks {
  activityInputs: { scheduled(activityType: string, args: unknown[]): void };
}

const { activityInputs } = proxySinks<ActivityInputSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        activityInputs.scheduled(input.activityType, input.args);
        return next(input);
      },
    },
  ],
});
