// Names of the warehouse roles the platform creates. Role names are global to a Postgres cluster,
// so one cluster serves one Tributary installation.
import { createHash, createHmac } from 'node:crypto';

/** The login role pipeline steps connect as: no rights of its own, member of every project role. */
export const RUNNER_ROLE = 'tributary_runner';

/** The NOLOGIN role that owns a project's schemas; ids too long for a role name get a digest. */
export function projectRole(project: string): string {
  const name = `trp_${project}`;
  if (Buffer.byteLength(name) <= 63) return name;
  const digest = createHash('sha256').update(project).digest('hex').slice(0, 10);
  return `trp_${project.slice(0, 48)}_${digest}`;
}

/**
 * The NOLOGIN role a project's branch runs use: it owns the branch schemas (and a branch run's
 * staging) and may only read main's, so the database itself refuses a branch run's writes to main.
 */
export function branchRole(project: string): string {
  const name = `trb_${project}`;
  if (Buffer.byteLength(name) <= 63) return name;
  const digest = createHash('sha256').update(project).digest('hex').slice(0, 10);
  return `trb_${project.slice(0, 48)}_${digest}`;
}

/**
 * The runner's password, derived from the master key: the API and every worker derive the same one
 * without storing it anywhere, and a new master key rotates it at the next start.
 */
export function runnerPassword(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('tributary warehouse runner').digest('base64url');
}

/** The warehouse URL with the runner's credentials instead of the owner's. */
export function runnerUrl(warehouseUrl: string, masterKey: Buffer): string {
  const url = new URL(warehouseUrl);
  url.username = RUNNER_ROLE;
  url.password = runnerPassword(masterKey);
  return url.toString();
}
