// Inbound webhooks of pipelines. The token is returned once at creation; only its sha256 is kept,
// and a presented token is compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { hashToken, randomId, randomSecret } from './tokens.store.js';

export interface Webhook {
  id: string;
  pipelineId: string;
  name: string | null;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

interface WebhookRow {
  id: string;
  pipeline_id: string;
  name: string | null;
  token_hash: string;
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
}

const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id,
  pipelineId: r.pipeline_id,
  name: r.name,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
});

export class WebhookStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(
    pipelineId: string,
    name: string | null,
    actor: string,
  ): Promise<{ webhook: Webhook; token: string }> {
    const id = `hk_${randomId(16)}`;
    const token = `whk_${randomSecret()}`;
    const result = await this.pool.query<WebhookRow>(
      `insert into tributary.webhooks (id, pipeline_id, name, token_hash, created_by)
       values ($1, $2, $3, $4, $5) returning *`,
      [id, pipelineId, name, hashToken(token), actor],
    );
    return { webhook: toWebhook(result.rows[0]!), token };
  }

  /** The webhook if the token is its own; `undefined` for an unknown id, `false` for a wrong token. */
  async verify(id: string, token: string | undefined): Promise<Webhook | false | undefined> {
    const result = await this.pool.query<WebhookRow>('select * from tributary.webhooks where id = $1', [id]);
    const row = result.rows[0];
    if (!row) return undefined;
    if (!token) return false;
    const expected = Buffer.from(row.token_hash, 'hex');
    const presented = Buffer.from(hashToken(token), 'hex');
    if (!timingSafeEqual(expected, presented)) return false;
    await this.pool.query('update tributary.webhooks set last_used_at = now() where id = $1', [id]);
    return toWebhook(row);
  }

  async exists(id: string): Promise<boolean> {
    const result = await this.pool.query('select 1 from tributary.webhooks where id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  async list(pipelineId: string): Promise<Webhook[]> {
    const result = await this.pool.query<WebhookRow>(
      'select * from tributary.webhooks where pipeline_id = $1 order by created_at, id',
      [pipelineId],
    );
    return result.rows.map(toWebhook);
  }

  async delete(pipelineId: string, id: string): Promise<boolean> {
    const result = await this.pool.query(
      'delete from tributary.webhooks where pipeline_id = $1 and id = $2',
      [pipelineId, id],
    );
    return (result.rowCount ?? 0) > 0;
  }
}
