// One probe of a Python connector for the builder (its spec, or the streams discover lists): a
// workflow of one activity, so that it runs on a worker, where the environments, the sandbox and
// the project's secrets are, and never in the API process. The API reads the activity's heartbeat
// details for progress while the environment builds.
import { proxyActivities } from '@temporalio/workflow';
import type { ProbeActivities, ProbeRequest, ProbeResult } from '@tributary/activities';

export async function connectorProbe(request: ProbeRequest): Promise<ProbeResult> {
  const { connectorProbe: probe } = proxyActivities<ProbeActivities>({
    // Building a large connector's environment takes minutes; its progress keeps the heartbeat alive.
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '60 seconds',
    // A bad package or config is not retried (nonRetryable); a transient fault once.
    retry: { maximumAttempts: 2, initialInterval: '1 second' },
  });
  return probe(request);
}
