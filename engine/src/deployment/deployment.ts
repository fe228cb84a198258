// A deployment owns its Temporal namespace + task queue. Its identity is created once and kept in
// its platform database (migration 092); the claim is a paused Temporal Schedule named after the
// task queue whose note names the deployment, so every process of every deployment on the cluster
// sees it. A process whose deployment is not the claimant refuses to start: two deployments on one
// queue would run each other's tasks against the wrong databases.
import { randomBytes } from 'node:crypto';
import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type pg from 'pg';

export class DeploymentConflictError extends Error {}

export interface Deployment {
  id: string;
  createdAt: string;
}

/** This deployment's identity, created at the first start and the same ever after. */
export async function deploymentIdentity(pool: pg.Pool): Promise<Deployment> {
  const id = `dep-${randomBytes(8).toString('hex')}`;
  await pool.query(
    'insert into tributary.deployment (id, deployment_id) values (true, $1) on conflict (id) do nothing',
    [id],
  );
  const { rows } = await pool.query<{ deployment_id: string; created_at: Date }>(
    'select deployment_id, created_at from tributary.deployment where id',
  );
  return { id: rows[0]!.deployment_id, createdAt: rows[0]!.created_at.toISOString() };
}

export const claimScheduleId = (taskQueue: string) => `tributary-deployment-claim-${taskQueue}`;
const NOTE_PREFIX = 'Tributary deployment ';

/** Claims the namespace + task queue for the deployment, or refuses if another deployment has. */
export async function claimTaskQueue(
  temporal: Client,
  deployment: Deployment,
  taskQueue: string,
  /** Where this deployment's platform database is (redacted), for the message. */
  platformDatabase: string,
): Promise<void> {
  const namespace = temporal.options.namespace;
  const scheduleId = claimScheduleId(taskQueue);
  const note = `${NOTE_PREFIX}${deployment.id} (platform database ${platformDatabase}) claims task queue "${taskQueue}"`;
  try {
    await temporal.schedule.create({
      scheduleId,
      // Never fires: the schedule is paused, and only its note matters.
      spec: { intervals: [{ every: '3650 days' }] },
      action: { type: 'startWorkflow', workflowType: 'tributaryDeploymentClaim', taskQueue, args: [] },
      state: { paused: true, note },
    });
    return;
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const existing = (await temporal.schedule.getHandle(scheduleId).describe()).state.note ?? '';
  const claimant = existing.startsWith(NOTE_PREFIX) ? existing.slice(NOTE_PREFIX.length).split(' ')[0] : null;
  if (claimant === deployment.id) return;
  throw new DeploymentConflictError(
    `Temporal namespace "${namespace}", task queue "${taskQueue}" is claimed by another Tributary deployment ` +
      `(${existing || `schedule ${scheduleId}`}); this is deployment ${deployment.id} (platform database ` +
      `${platformDatabase}). Two deployments on one task queue would run each other's runs. Give this one its ` +
      `own TEMPORAL_TASK_QUEUE (or TEMPORAL_NAMESPACE); or, if it is the same deployment, point DATABASE_URL at ` +
      `that deployment's platform database. A deployment that is gone can give up its claim: ` +
      `temporal schedule delete --namespace ${namespace} --schedule-id ${scheduleId}`,
  );
}
