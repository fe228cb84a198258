// API tokens: `trb_<id>_<secret>`, shown once at creation and stored only as a sha256 hash, so a
// leaked database does not leak working tokens. Lookup is by hash, so any format (e.g. an admin
// token from the environment) works the same way.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ConflictError, isUniqueViolation } from './errors.js';

export const SCOPES = ['read', 'write', 'run', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiToken {
  id: string;
  name: string;
  /** `read`, `write`, `run`, `admin`, each optionally `<scope>:<project>`. */
  scopes: string[];
  /** Projects the unqualified scopes are limited to; null for every project. */
  projects: string[] | null;
  expiresAt: string | null;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

interface TokenRow {
  id: string;
  name: string;
  scopes: string[];
  projects: string[] | null;
  expires_at: Date | null;
  created_by: string;
  created_at: Date;
  last_used_at: Date | null;
}

const COLUMNS = 'id, name, scopes, projects, expires_at, created_by, created_at, last_used_at';

const toToken = (r: TokenRow): ApiToken => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes,
  projects: r.projects,
  expiresAt: r.expires_at?.toISOString() ?? null,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
});

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A random id of lowercase letters and digits, short enough to read in a log line. */
export const randomId = (length = 12): string =>
  [...randomBytes(length)].map((b) => 'abcdefghijkmnpqrstuvwxyz23456789'[b % 32]).join('');

export const randomSecret = (): string => randomBytes(32).toString('base64url');

export interface NewToken {
  name: string;
  scopes: string[];
  projects?: string[] | null;
  expiresAt?: string | null;
  createdBy: string;
}

/**
 * How long a token found by its hash is trusted without asking the database again: a revocation,
 * or a change of scopes, made through another API process takes effect within this time (through
 * this one, at once, but for a lookup that raced it). Expiry is checked on every request all the
 * same (see api/auth.ts).
 */
export const TOKEN_CACHE_MS = 1_000;
/** Entries kept at most; past it the cache starts over (a flood of distinct tokens stays bounded). */
const TOKEN_CACHE_ENTRIES = 1_000;
/** `last_used_at` is written at most this often per token (see touch). */
const TOUCH_EVERY_MS = 60_000;

export class TokenStore {
  /** sha256 of a presented token → the token and until when it is trusted. Unknown ones are not kept. */
  private readonly found = new Map<string, { token: ApiToken; until: number }>();
  /** Token id → when this process last wrote its `last_used_at`. */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly cacheMs = TOKEN_CACHE_MS,
  ) {}

  async create(
    input: NewToken & { id?: string; token?: string },
  ): Promise<{ token: string; record: ApiToken }> {
    const id = input.id ?? randomId();
    const token = input.token ?? `trb_${id}_${randomSecret()}`;
    try {
      const result = await this.pool.query<TokenRow>(
        `insert into tributary.api_tokens (id, name, token_hash, scopes, projects, expires_at, created_by)
         values ($1, $2, $3, $4, $5, $6, $7) returning ${COLUMNS}`,
        [
          id,
          input.name,
          hashToken(token),
          input.scopes,
          input.projects ?? null,
          input.expiresAt ?? null,
          input.createdBy,
        ],
      );
      return { token, record: toToken(result.rows[0]!) };
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Token "${id}" already exists`);
      throw error;
    }
  }

  /** Sets the token of a fixed id (the admin token from the environment), replacing an older one. */
  async put(id: string, token: string, input: NewToken): Promise<ApiToken> {
    this.found.clear();
    const result = await this.pool.query<TokenRow>(
      `insert into tributary.api_tokens (id, name, token_hash, scopes, projects, expires_at, created_by)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (id) do update set token_hash = excluded.token_hash, name = excluded.name,
         scopes = excluded.scopes, projects = excluded.projects, expires_at = excluded.expires_at
       returning ${COLUMNS}`,
      [
        id,
        input.name,
        hashToken(token),
        input.scopes,
        input.projects ?? null,
        input.expiresAt ?? null,
        input.createdBy,
      ],
    );
    this.found.clear(); // and again: a lookup that raced the change may have kept the old record
    return toToken(result.rows[0]!);
  }

  /** The token's record; a request in the same second reuses the last answer (TOKEN_CACHE_MS). */
  async findByToken(token: string): Promise<ApiToken | undefined> {
    const hash = hashToken(token);
    const now = Date.now();
    const hit = this.found.get(hash);
    if (hit && hit.until > now) return hit.token;
    const result = await this.pool.query<TokenRow>(
      `select ${COLUMNS} from tributary.api_tokens where token_hash = $1`,
      [hash],
    );
    const record = result.rows[0] && toToken(result.rows[0]);
    if (!record || this.cacheMs <= 0) {
      this.found.delete(hash);
      return record;
    }
    if (this.found.size >= TOKEN_CACHE_ENTRIES) this.found.clear();
    this.found.set(hash, { token: record, until: now + this.cacheMs });
    return record;
  }

  async get(id: string): Promise<ApiToken | undefined> {
    const result = await this.pool.query<TokenRow>(
      `select ${COLUMNS} from tributary.api_tokens where id = $1`,
      [id],
    );
    return result.rows[0] && toToken(result.rows[0]);
  }

  /**
   * Records use at most once a minute: a write per request would cost more than it tells. This
   * process skips the round trip within the minute after its own write; the SQL guard covers the rest.
   */
  async touch(id: string): Promise<void> {
    const now = Date.now();
    if ((this.touched.get(id) ?? -Infinity) > now - TOUCH_EVERY_MS) return;
    if (this.touched.size >= TOKEN_CACHE_ENTRIES) this.touched.clear();
    this.touched.set(id, now);
    await this.pool.query(
      `update tributary.api_tokens set last_used_at = now()
        where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  async list(): Promise<ApiToken[]> {
    const result = await this.pool.query<TokenRow>(
      `select ${COLUMNS} from tributary.api_tokens order by created_at, id`,
    );
    return result.rows.map(toToken);
  }

  async delete(id: string): Promise<boolean> {
    // Revoked here: at once for this process (other API processes: within TOKEN_CACHE_MS).
    this.found.clear();
    this.touched.delete(id);
    const result = await this.pool.query('delete from tributary.api_tokens where id = $1', [id]);
    this.found.clear(); // and again: a lookup that raced the delete may have kept it
    return (result.rowCount ?? 0) > 0;
  }
}
