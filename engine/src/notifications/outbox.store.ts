// The notification outbox: what is to be delivered, to which channel, and how each delivery went.
// Enqueueing is idempotent by dedupe key; a delivery holds its row locked while it sends, so two
// dispatchers (two workers) never send one notification twice.
import type pg from 'pg';
import type { Channel } from '../model/notifications.schema.js';
import type { NotificationMessage } from './message.js';

export type DeliveryStatus = 'pending' | 'sent' | 'failed';

export interface OutboxEntry {
  projectId: string;
  pipelineId: string | null;
  runId: string | null;
  productId: string | null;
  event: string;
  dedupeKey: string;
  channel: Channel;
  message: NotificationMessage;
  maxAttempts: number;
}

export interface Delivery {
  id: number;
  project: string;
  pipelineId: string | null;
  runId: string | null;
  productId: string | null;
  event: string;
  channel: { type: Channel['type']; target: string };
  title: string;
  status: DeliveryStatus;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

interface Row {
  id: string;
  project_id: string;
  pipeline_id: string | null;
  run_id: string | null;
  product_id: string | null;
  event: string;
  channel: Channel;
  message: NotificationMessage;
  status: DeliveryStatus;
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
}

/** Where a channel delivers, as shown in a delivery record: a host or the recipients, no secrets. */
export function channelTarget(channel: Channel): string {
  if (channel.type === 'webhook') {
    const url = new URL(channel.url);
    return `${url.protocol}//${url.host}${url.pathname}`;
  }
  if (channel.type === 'slack') return `the URL in secret "${channel.webhookUrlSecret}"`;
  return channel.to.join(', ');
}

const toDelivery = (r: Row): Delivery => ({
  id: Number(r.id),
  project: r.project_id,
  pipelineId: r.pipeline_id,
  runId: r.run_id,
  productId: r.product_id,
  event: r.event,
  channel: { type: r.channel.type, target: channelTarget(r.channel) },
  title: r.message.title,
  status: r.status,
  attempts: r.attempts,
  maxAttempts: r.max_attempts,
  lastError: r.last_error,
  createdAt: r.created_at.toISOString(),
  sentAt: r.sent_at?.toISOString() ?? null,
});

export class OutboxStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Adds entries; one whose dedupe key is there already is left as it is. Returns how many were new. */
  async enqueue(entries: OutboxEntry[]): Promise<number> {
    let added = 0;
    for (const e of entries) {
      const result = await this.pool.query(
        `insert into tributary.notification_outbox
           (project_id, pipeline_id, run_id, product_id, event, dedupe_key, channel, message, max_attempts)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (dedupe_key) do nothing`,
        [
          e.projectId,
          e.pipelineId,
          e.runId,
          e.productId,
          e.event,
          e.dedupeKey,
          JSON.stringify(e.channel),
          JSON.stringify(e.message),
          e.maxAttempts,
        ],
      );
      added += result.rowCount ?? 0;
    }
    return added;
  }

  /**
   * Delivers due entries one at a time: each is locked (skipping those another dispatcher holds),
   * sent, and marked sent, or given its next attempt time, or failed after its last try — all while
   * the lock is held, so a crash before the mark leaves it pending rather than sent twice on purpose.
   */
  async deliverDue(
    send: (channel: Channel, message: NotificationMessage, key: string, project: string) => Promise<void>,
    backoffMs: (attempt: number) => number,
    onOutcome: (delivery: Delivery) => Promise<void>,
    limit = 20,
  ): Promise<number> {
    let done = 0;
    for (; done < limit; done++) {
      const client = await this.pool.connect();
      try {
        await client.query('begin');
        const { rows } = await client.query<Row & { dedupe_key: string }>(
          `select * from tributary.notification_outbox
            where status = 'pending' and next_attempt_at <= now()
            order by next_attempt_at, id limit 1 for update skip locked`,
        );
        const row = rows[0];
        if (!row) {
          await client.query('commit');
          break;
        }
        const attempt = row.attempts + 1;
        let updated: Row;
        try {
          await send(row.channel, row.message, row.dedupe_key, row.project_id);
          updated = (
            await client.query<Row>(
              `update tributary.notification_outbox
                  set status = 'sent', attempts = $2, sent_at = now(), last_error = null
                where id = $1 returning *`,
              [row.id, attempt],
            )
          ).rows[0]!;
        } catch (error) {
          const message = ((error as Error).message ?? String(error)).slice(0, 2000);
          const last = attempt >= row.max_attempts || (error as { permanent?: boolean }).permanent === true;
          updated = (
            await client.query<Row>(
              `update tributary.notification_outbox
                  set status = $3, attempts = $2, last_error = $4,
                      next_attempt_at = now() + ($5::double precision * interval '1 millisecond')
                where id = $1 returning *`,
              [row.id, attempt, last ? 'failed' : 'pending', message, backoffMs(attempt)],
            )
          ).rows[0]!;
        }
        await client.query('commit');
        if (updated.status !== 'pending') await onOutcome(toDelivery(updated));
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    }
    return done;
  }

  async forRun(runId: string): Promise<Delivery[]> {
    const { rows } = await this.pool.query<Row>(
      'select * from tributary.notification_outbox where run_id = $1 order by id',
      [runId],
    );
    return rows.map(toDelivery);
  }

  async forProduct(productId: string): Promise<Delivery[]> {
    const { rows } = await this.pool.query<Row>(
      'select * from tributary.notification_outbox where product_id = $1 order by id',
      [productId],
    );
    return rows.map(toDelivery);
  }

  async get(id: number): Promise<Delivery | undefined> {
    const { rows } = await this.pool.query<Row>('select * from tributary.notification_outbox where id = $1', [
      id,
    ]);
    return rows[0] ? toDelivery(rows[0]) : undefined;
  }
}
