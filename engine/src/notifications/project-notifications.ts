// A project's default notification rules: read, replace (each channel's secrets must exist in the
// project), and the secrets a channel names.
import type pg from 'pg';
import type { NotificationRule } from '../model/notifications.schema.js';

export { channelSecrets, missingSecrets } from '../model/notifications.schema.js';

export async function readProjectRules(pool: pg.Pool, project: string): Promise<NotificationRule[]> {
  const { rows } = await pool.query<{ rules: NotificationRule[] }>(
    'select rules from tributary.project_notifications where project_id = $1',
    [project],
  );
  return rows[0]?.rules ?? [];
}

export async function writeProjectRules(
  pool: pg.Pool,
  project: string,
  rules: NotificationRule[],
  actor: string,
): Promise<void> {
  await pool.query(
    `insert into tributary.project_notifications (project_id, rules, updated_by) values ($1, $2, $3)
     on conflict (project_id) do update set rules = excluded.rules, updated_by = excluded.updated_by, updated_at = now()`,
    [project, JSON.stringify(rules), actor],
  );
}
