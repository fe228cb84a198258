// The notification dispatcher, in the worker process: delivers due outbox entries (retrying with
// back-off), and on schedules of its own looks for runs past their overtime and for stale data
// products. It runs beside the runs and never inside them, so a slow or broken channel never delays
// or fails a run. Each delivery's outcome goes to the platform audit log.
import type pg from 'pg';
import { AuditLog } from '../audit/audit-log.store.js';
import type { Logger } from '../infra/logger.js';
import { isStale, lastPublish } from '../products/product-service.js';
import { ProductStore } from '../products/products.store.js';
import type { Send } from './channels.js';
import type { Notifier } from './notifier.js';
import type { Delivery } from './outbox.store.js';

export interface DispatcherDeps {
  notifier: Notifier;
  send: Send;
  pool: pg.Pool;
  warehousePool: pg.Pool;
  log: Logger;
  /** How often due deliveries are looked for (default 2 s). */
  pollMs?: number;
  /** How often running runs are checked for overtime (default 1 min). */
  overtimeCheckMs?: number;
  /** How often data products' freshness is checked (default 5 min). */
  freshnessCheckMs?: number;
  /** The wait before attempt n + 1 (default 5 s doubling, at most 10 min). */
  backoffMs?: (attempt: number) => number;
}

export const defaultBackoffMs = (attempt: number): number => Math.min(5_000 * 2 ** (attempt - 1), 600_000);

export interface Dispatcher {
  /** One round of everything (tests call it; the timers call the parts). */
  deliver(): Promise<number>;
  checkOvertime(): Promise<number>;
  checkFreshness(): Promise<number>;
  stop(): Promise<void>;
}

export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  const audit = new AuditLog(deps.pool);
  const backoff = deps.backoffMs ?? defaultBackoffMs;
  const record = async (delivery: Delivery) => {
    const sent = delivery.status === 'sent';
    await audit.record({
      actor: 'tributary',
      project: delivery.project,
      action: sent ? 'notification.sent' : 'notification.failed',
      target: delivery.runId
        ? `run:${delivery.runId}`
        : delivery.productId
          ? `product:${delivery.productId}`
          : `project:${delivery.project}`,
      summary: {
        event: delivery.event,
        channel: delivery.channel.type,
        target: delivery.channel.target,
        attempts: delivery.attempts,
        ...(sent ? {} : { error: delivery.lastError }),
      },
    });
    if (!sent) {
      deps.log.warn('a notification could not be delivered', {
        event: delivery.event,
        channel: delivery.channel.type,
        attempts: delivery.attempts,
        error: delivery.lastError,
      });
    }
  };

  const deliver = () => deps.notifier.outbox.deliverDue(deps.send, backoff, record);
  const checkOvertime = () => deps.notifier.checkOvertime();
  const checkFreshness = async () => {
    const products = await new ProductStore(deps.pool).list({});
    const stale = [];
    for (const product of products) {
      if (!product.freshness) continue;
      const last = await lastPublish(deps.warehousePool, product.table);
      if (!isStale(product, last)) continue;
      stale.push({
        id: product.id,
        name: product.name,
        project: product.project,
        lastPublishedAt: last?.at ?? null,
        lastPipelineId: last?.pipelineId ?? null,
        maxAgeHours: product.freshness.maxAgeHours,
      });
    }
    return deps.notifier.checkStale(stale);
  };

  // Each loop runs one round at a time: a slow round is not overlapped by the next.
  const loops: { timer: NodeJS.Timeout | null; running: Promise<unknown> | null }[] = [];
  let stopped = false;
  const every = (ms: number, round: () => Promise<unknown>, what: string) => {
    const loop = { timer: null as NodeJS.Timeout | null, running: null as Promise<unknown> | null };
    const tick = () => {
      loop.running = round()
        .catch((error: Error) => deps.log.warn(`notifications: ${what} failed`, { error: error.message }))
        .finally(() => {
          loop.running = null;
          if (!stopped) loop.timer = setTimeout(tick, ms);
        });
    };
    loop.timer = setTimeout(tick, ms);
    loops.push(loop);
  };
  every(deps.pollMs ?? 2_000, deliver, 'delivery');
  every(deps.overtimeCheckMs ?? 60_000, checkOvertime, 'the overtime check');
  every(deps.freshnessCheckMs ?? 300_000, checkFreshness, 'the freshness check');

  return {
    deliver,
    checkOvertime,
    checkFreshness,
    async stop() {
      stopped = true;
      for (const loop of loops) if (loop.timer) clearTimeout(loop.timer);
      await Promise.all(loops.map((l) => l.running));
    },
  };
}
