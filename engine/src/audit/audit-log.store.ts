// The platform audit log: append-only rows of who did what to pipelines, schedules, webhooks,
// secrets, tokens and projects. Runs are audited from their Temporal history instead (run-audit.ts).
import type pg from 'pg';

export const AUDIT_ACTIONS = [
  'pipeline.created',
  'pipeline.saved',
  'pipeline.deleted',
  'pipeline.rolled_back',
  'pipeline.merged',
  'branch.created',
  'branch.deleted',
  'branch.pipeline_saved',
  'branch.updated',
  'pipeline.published',
  'pipeline.draft_discarded',
  'schedule.changed',
  'schedule.deleted',
  'webhook.created',
  'webhook.deleted',
  'secret.set',
  'secret.deleted',
  'token.created',
  'token.revoked',
  'project.created',
  'project.changed',
  'project.file_uploaded',
  'product.published',
  'product.shared',
  'product.unshared',
  'mcp.tool_called',
  'notifications.changed',
  'notification.sent',
  'notification.failed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  actor: string;
  /** null for what belongs to no one project (API tokens). */
  project: string | null;
  action: AuditAction;
  /** What was acted on: `pipeline:orders`, `secret:default/api_key`, `token:abc123`. */
  target: string;
  /** Names and numbers that say what changed (a version, a cron) — never a secret or token value. */
  summary?: Record<string, unknown>;
}

export interface AuditEntry extends Required<AuditRecord> {
  id: number;
  at: string;
}

export interface AuditFilters {
  project?: string;
  /** Only these projects (a token's reach); entries of no project are then left out. */
  projects?: string[];
  actor?: string;
  action?: AuditAction;
  from?: string | Date;
  to?: string | Date;
  /** nextCursor of the previous page. */
  cursor?: string;
  limit?: number;
}

export class AuditSummaryError extends Error {}

/** Keys that would hold a value that must never be written down; their presence is a bug. */
const FORBIDDEN_KEYS =
  /^(value|values|token|password|passphrase|plaintext|ciphertext|secret_value|secretValue)$/i;

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  project: string | null;
  action: AuditAction;
  target: string;
  summary: Record<string, unknown>;
}

const toEntry = (r: AuditRow): AuditEntry => ({
  id: Number(r.id),
  at: r.at.toISOString(),
  actor: r.actor,
  project: r.project,
  action: r.action,
  target: r.target,
  summary: r.summary,
});

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export class AuditLog {
  constructor(private readonly pool: pg.Pool) {}

  /** Appends an entry; pass a transaction's client to record it atomically with the change. */
  async record(entry: AuditRecord, db: Queryable = this.pool): Promise<AuditEntry> {
    if (!(AUDIT_ACTIONS as readonly string[]).includes(entry.action))
      throw new AuditSummaryError(`Unknown audit action "${entry.action}"; add it to AUDIT_ACTIONS`);
    const summary = entry.summary ?? {};
    const forbidden = forbiddenPath(summary);
    if (forbidden) {
      throw new AuditSummaryError(
        `Audit summary of "${entry.action}" has "${forbidden}": the audit log records names, never values`,
      );
    }
    const result = await db.query<AuditRow>(
      `insert into tributary.audit_log (actor, project, action, target, summary)
       values ($1, $2, $3, $4, $5) returning *`,
      [entry.actor, entry.project, entry.action, entry.target, JSON.stringify(summary)],
    );
    return toEntry(result.rows[0]!);
  }

  /** Newest first; `nextCursor` is set while more entries match. */
  async list(filters: AuditFilters = {}): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      values.push(value);
      where.push(sql(`$${values.length}`));
    };
    if (filters.project !== undefined) add((p) => `project = ${p}`, filters.project);
    if (filters.projects !== undefined) add((p) => `project = any(${p}::text[])`, filters.projects);
    if (filters.actor !== undefined) add((p) => `actor = ${p}`, filters.actor);
    if (filters.action !== undefined) add((p) => `action = ${p}`, filters.action);
    if (filters.from !== undefined) add((p) => `at >= ${p}`, new Date(filters.from));
    if (filters.to !== undefined) add((p) => `at < ${p}`, new Date(filters.to));
    if (filters.cursor !== undefined) {
      if (!/^\d{1,18}$/.test(filters.cursor))
        throw new AuditSummaryError(`cursor "${filters.cursor}" is not a cursor of this list`);
      add((p) => `id < ${p}::bigint`, filters.cursor);
    }
    const limit = filters.limit ?? 50;
    values.push(limit);
    const result = await this.pool.query<AuditRow>(
      `select * from tributary.audit_log ${where.length ? `where ${where.join(' and ')}` : ''}
       order by id desc limit $${values.length}`,
      values,
    );
    const items = result.rows.map(toEntry);
    return { items, nextCursor: items.length === limit ? String(items.at(-1)!.id) : null };
  }
}

function forbiddenPath(value: unknown, path = ''): string | null {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = forbiddenPath(item, `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const here = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.test(key)) return here;
    const found = forbiddenPath(item, here);
    if (found) return found;
  }
  return null;
}
