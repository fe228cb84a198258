// The platform audit log on the real Postgres: every action type is recorded and listed with its
// filters and cursor, the table refuses UPDATE, DELETE and TRUNCATE, and GET /api/audit scopes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_ACTIONS,
  AuditLog,
  AuditSummaryError,
  type AuditAction,
} from '../../src/audit/audit-log.store.js';
import { startHarness, type Harness } from '../harness.js';
import { startAuditApi, uniq, type AuditApi, type Body } from './audit-test-kit.js';

let h: Harness;
let api: AuditApi;
let audit: AuditLog;
beforeAll(async () => {
  h = await startHarness();
  api = await startAuditApi(h);
  audit = new AuditLog(h.platform.platformPool);
});
afterAll(async () => {
  await api?.stop();
  await h?.stop();
});

/** What each action's entry looks like when the API records it. */
function sample(
  action: AuditAction,
  project: string,
): { target: string; summary: Record<string, unknown>; project: string | null } {
  switch (action) {
    case 'pipeline.created':
    case 'pipeline.saved':
      return {
        project,
        target: 'pipeline:orders',
        summary: { version: action === 'pipeline.created' ? 1 : 2 },
      };
    case 'pipeline.rolled_back':
      return { project, target: 'pipeline:orders', summary: { fromVersion: 1, version: 3 } };
    case 'pipeline.published':
      return { project, target: 'pipeline:orders', summary: { baseVersion: 1, fromVersion: 1, version: 2 } };
    case 'pipeline.draft_discarded':
      return { project, target: 'pipeline:orders', summary: { baseVersion: 1 } };
    case 'pipeline.deleted':
      return { project, target: 'pipeline:orders', summary: {} };
    case 'pipeline.merged':
      return { project, target: 'pipeline:orders', summary: { branch: 'dev', fromVersion: 1, version: 2 } };
    case 'branch.created':
      return { project, target: `branch:${project}/dev`, summary: { pipelines: { orders: 1 } } };
    case 'branch.deleted':
      return { project, target: `branch:${project}/dev`, summary: { droppedSchemas: ['sales__dev'] } };
    case 'branch.pipeline_saved':
      return { project, target: 'pipeline:orders', summary: { branch: 'dev', version: 2, baseVersion: 1 } };
    case 'branch.updated':
      return {
        project,
        target: `branch:${project}/dev`,
        summary: { pipelines: { orders: { change: 'updated', from: 1, to: 2 } } },
      };
    case 'schedule.changed':
      return { project, target: 'schedule:orders', summary: { cron: '0 * * * *', paused: false } };
    case 'schedule.deleted':
      return { project, target: 'schedule:orders', summary: {} };
    case 'webhook.created':
    case 'webhook.deleted':
      return { project, target: 'webhook:hk_123', summary: { pipelineId: 'orders', name: 'shop' } };
    case 'secret.set':
    case 'secret.deleted':
      return { project, target: `secret:${project}/api_key`, summary: { name: 'api_key' } };
    case 'token.created':
      return { project: null, target: 'token:abc', summary: { name: 'ci', scopes: ['run'] } };
    case 'token.revoked':
      return { project: null, target: 'token:abc', summary: { name: 'ci' } };
    case 'project.created':
    case 'project.changed':
      return { project, target: `project:${project}`, summary: { fields: ['name'] } };
    case 'project.file_uploaded':
      return { project, target: `file:${project}/orders.csv`, summary: { path: 'orders.csv', bytes: 42 } };
    case 'product.published':
      return { project, target: 'product:orders', summary: { table: 'sales.orders', tags: ['finance'] } };
    case 'product.shared':
    case 'product.unshared':
      return { project, target: 'product:orders', summary: { with: 'marketing' } };
    case 'mcp.tool_called':
      return { project, target: 'run:run-orders-1', summary: { tool: 'get_run', ok: true, status: 200 } };
    case 'notifications.changed':
      return { project, target: `project:${project}`, summary: { rules: 2 } };
    case 'notification.sent':
      return { project, target: 'run:run-1', summary: { event: 'failure', channel: 'email', attempts: 1 } };
    case 'notification.failed':
      return {
        project,
        target: 'run:run-1',
        summary: { event: 'failure', channel: 'webhook', attempts: 8, error: 'answered 503' },
      };
  }
}

describe('AuditLog', () => {
  it('records each action type and lists them newest first with who, what and when', async () => {
    const actor = uniq('actor');
    const project = uniq('proj');
    const before = Date.now();
    const recorded = [];
    for (const action of AUDIT_ACTIONS)
      recorded.push(await audit.record({ actor, action, ...sample(action, project) }));
    const { items, nextCursor } = await audit.list({ actor, limit: 100 });
    expect(nextCursor).toBeNull();
    expect(items.map((e) => e.action)).toEqual([...AUDIT_ACTIONS].reverse());
    expect(items).toEqual([...recorded].reverse());
    for (const entry of items) {
      const expected = sample(entry.action, project);
      expect(entry).toMatchObject({
        actor,
        project: expected.project,
        target: expected.target,
        summary: expected.summary,
      });
      expect(Date.parse(entry.at)).toBeGreaterThanOrEqual(before - 1000);
    }
  });

  it('filters by project, action and time, and pages with a cursor', async () => {
    const actor = uniq('pager');
    const project = uniq('paged');
    for (let i = 0; i < 5; i++) {
      await audit.record({
        actor,
        project,
        action: 'pipeline.saved',
        target: 'pipeline:p',
        summary: { version: i + 1 },
      });
    }
    await audit.record({
      actor,
      project: uniq('other'),
      action: 'pipeline.saved',
      target: 'pipeline:q',
      summary: { version: 1 },
    });
    await audit.record({
      actor,
      project,
      action: 'secret.deleted',
      target: `secret:${project}/k`,
      summary: { name: 'k' },
    });

    const first = await audit.list({ actor, project, action: 'pipeline.saved', limit: 2 });
    expect(first.items.map((e) => e.summary.version)).toEqual([5, 4]);
    const second = await audit.list({
      actor,
      project,
      action: 'pipeline.saved',
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second.items.map((e) => e.summary.version)).toEqual([3, 2]);
    const third = await audit.list({
      actor,
      project,
      action: 'pipeline.saved',
      limit: 2,
      cursor: second.nextCursor!,
    });
    expect(third.items.map((e) => e.summary.version)).toEqual([1]);
    expect(third.nextCursor).toBeNull();

    expect((await audit.list({ actor, project })).items).toHaveLength(6);
    expect((await audit.list({ actor, from: new Date(Date.now() + 60_000) })).items).toHaveLength(0);
    expect((await audit.list({ actor, to: new Date(Date.now() - 3_600_000) })).items).toHaveLength(0);
  });

  it('refuses to change or delete an entry, and to empty the table', async () => {
    const entry = await audit.record({
      actor: 'mallory',
      project: 'default',
      action: 'token.revoked',
      target: 'token:t1',
      summary: { name: 'ci' },
    });
    const pool = h.platform.platformPool;
    await expect(
      pool.query("update tributary.audit_log set actor = 'someone else' where id = $1", [entry.id]),
    ).rejects.toThrow('tributary.audit_log is append-only: UPDATE is not allowed');
    await expect(pool.query('delete from tributary.audit_log where id = $1', [entry.id])).rejects.toThrow(
      'tributary.audit_log is append-only: DELETE is not allowed',
    );
    await expect(pool.query('truncate tributary.audit_log')).rejects.toThrow(
      'tributary.audit_log is append-only: TRUNCATE is not allowed',
    );
    const still = await pool.query('select actor from tributary.audit_log where id = $1', [entry.id]);
    expect(still.rows).toEqual([{ actor: 'mallory' }]);
  });

  it('refuses a summary that carries a value, and an unknown action, naming them', async () => {
    await expect(
      audit.record({
        actor: 'a',
        project: 'default',
        action: 'token.created',
        target: 'token:x',
        summary: { name: 'ci', token: 'trb_x' },
      }),
    ).rejects.toThrow(
      'Audit summary of "token.created" has "token": the audit log records names, never values',
    );
    await expect(
      audit.record({
        actor: 'a',
        project: 'default',
        action: 'pipeline.exploded' as AuditAction,
        target: 'pipeline:x',
      }),
    ).rejects.toThrow(AuditSummaryError);
  });
});

describe('GET /api/audit', () => {
  const projectA = uniq('audit-a');
  const projectB = uniq('audit-b');
  const actor = uniq('api-actor');
  beforeAll(async () => {
    await audit.record({
      actor,
      project: projectA,
      action: 'pipeline.created',
      target: 'pipeline:a',
      summary: { version: 1 },
    });
    await audit.record({
      actor,
      project: projectB,
      action: 'schedule.changed',
      target: 'schedule:b',
      summary: { cron: '@daily' },
    });
    await audit.record({
      actor,
      project: null,
      action: 'token.created',
      target: 'token:z',
      summary: { name: 'z' },
    });
  });

  it('lists entries for an admin of every project, filtered by actor and action', async () => {
    const reply = await api.call('GET', `/api/audit?actor=${actor}`);
    expect(reply.status).toBe(200);
    expect(reply.body.items.map((e: Body) => e.action)).toEqual([
      'token.created',
      'schedule.changed',
      'pipeline.created',
    ]);
    const one = await api.call('GET', `/api/audit?actor=${actor}&action=schedule.changed`);
    expect(one.body.items).toEqual([expect.objectContaining({ project: projectB, target: 'schedule:b' })]);
    const paged = await api.call('GET', `/api/audit?actor=${actor}&limit=2`);
    const rest = await api.call('GET', `/api/audit?actor=${actor}&limit=2&cursor=${paged.body.nextCursor}`);
    expect(rest.body.items.map((e: Body) => e.action)).toEqual(['pipeline.created']);
  });

  it("shows an admin of some projects only those projects' entries", async () => {
    const limited = await api.token(['admin'], [projectA]);
    const reply = await api.call('GET', `/api/audit?actor=${actor}`, { token: limited });
    expect(reply.body.items.map((e: Body) => e.project)).toEqual([projectA]);
    const other = await api.call('GET', `/api/audit?project=${projectB}`, { token: limited });
    expect(other.status).toBe(403);
  });

  it('refuses a token without admin, and bad filters with the field named', async () => {
    const reader = await api.token(['read', 'write']);
    expect((await api.call('GET', '/api/audit', { token: reader })).status).toBe(403);
    const badAction = await api.call('GET', '/api/audit?action=pipeline.exploded');
    expect(badAction.status).toBe(400);
    expect(badAction.body.errors[0]).toMatchObject({ in: 'query', path: 'action' });
    const badCursor = await api.call('GET', '/api/audit?cursor=abc');
    expect(badCursor.body.errors[0]).toMatchObject({ in: 'query', path: 'cursor' });
    const badRange = await api.call('GET', '/api/audit?from=2025-03-01&to=2025-02-01');
    expect(badRange.status).toBe(400);
    expect(badRange.body.detail).toBe('from must be before to');
  });
});
