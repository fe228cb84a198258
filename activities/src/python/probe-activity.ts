// The activity behind the builder's spec and discover calls: one probe of a Python connector, on
// a worker (where environments, the sandbox and the project's secrets are), with the environment
// build's progress as its heartbeat details, which the API reads back while it waits.
import { Context } from '@temporalio/activity';
import { resolveProjectPath, toFailure, type ActivityDeps, pythonHost } from '../create-activities.js';
import { StepError } from '../errors.js';
import { getNodeType } from '../registry.js';
import type { ProbeRequest, ProbeResult } from './connector-probe.js';

export const PROBE_ACTIVITY = 'connectorProbe';

export interface ProbeActivities {
  connectorProbe(request: ProbeRequest): Promise<ProbeResult>;
}

export function createProbeActivities(
  deps: Pick<ActivityDeps, 'python' | 'egress' | 'secrets' | 'dataDir' | 'isProject' | 'log'>,
): ProbeActivities {
  const python = pythonHost(deps);
  return {
    async connectorProbe(request) {
      const activity = Context.current();
      let progress: Record<string, unknown> = { phase: 'starting' };
      const timer = setInterval(() => activity.heartbeat(progress), 2_000);
      const probe = getNodeType(request.type)?.probe;
      const label = `${probe?.specName ?? 'probe'}${request.action === 'discover' ? '/discover' : ''} of ${request.package}`;
      try {
        if (!probe)
          throw new StepError(`type: ${request.type} is not a connector that can be probed`, 'config');
        return await probe.run(
          {
            python,
            secrets: deps.secrets(request.project),
            resolveDataPath: (relative, field) => resolveProjectPath(deps, request.project, relative, field),
            heartbeat: (details) => {
              progress = { ...details };
              activity.heartbeat(progress);
            },
            signal: activity.cancellationSignal,
            log: deps.log(`probe:${request.package}`),
          },
          request,
        );
      } catch (error) {
        throw toFailure(error, label, { attempt: activity.info.attempt, nodeId: '' });
      } finally {
        clearInterval(timer);
      }
    },
  };
}
