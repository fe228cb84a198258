// Project secrets, encrypted server-side with AES-256-GCM on every write. The (project, name) pair
// is bound into the ciphertext as associated data, so a row copied to another name won't decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StepError, type SecretResolver } from '@tributary/activities';
import type pg from 'pg';

export interface SecretInfo {
  name: string;
  createdAt: string;
  updatedAt: string;
}

/**
 * The master key: TRIBUTARY_MASTER_KEY (32 bytes as base64 or 64 hex chars), or a key generated
 * once into `$TRIBUTARY_HOME/master.key` with mode 0600.
 */
export function loadMasterKey(fromEnv: string | undefined, home: string): Buffer {
  if (fromEnv) {
    const key = /^[0-9a-f]{64}$/i.test(fromEnv)
      ? Buffer.from(fromEnv, 'hex')
      : Buffer.from(fromEnv, 'base64');
    if (key.length !== 32) {
      throw new Error(
        'TRIBUTARY_MASTER_KEY must be 32 bytes, as 64 hex characters or base64 (openssl rand -base64 32)',
      );
    }
    return key;
  }
  const file = path.join(home, 'master.key');
  if (!existsSync(file)) {
    mkdirSync(home, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  return loadMasterKey(readFileSync(file, 'utf8').trim(), home);
}

export class SecretStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly key: Buffer,
  ) {}

  async set(project: string, name: string, value: string): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${project}/${name}`));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    await this.pool.query(
      `insert into tributary.secrets (project_id, name, ciphertext, iv, auth_tag) values ($1, $2, $3, $4, $5)
       on conflict (project_id, name) do update
         set ciphertext = excluded.ciphertext, iv = excluded.iv, auth_tag = excluded.auth_tag, updated_at = now()`,
      [project, name, ciphertext, iv, cipher.getAuthTag()],
    );
  }

  async list(project: string): Promise<SecretInfo[]> {
    const result = await this.pool.query<{ name: string; created_at: Date; updated_at: Date }>(
      'select name, created_at, updated_at from tributary.secrets where project_id = $1 order by name',
      [project],
    );
    return result.rows.map((r) => ({
      name: r.name,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
    }));
  }

  async delete(project: string, name: string): Promise<boolean> {
    const result = await this.pool.query(
      'delete from tributary.secrets where project_id = $1 and name = $2',
      [project, name],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async get(project: string, name: string): Promise<string | undefined> {
    const result = await this.pool.query<{ ciphertext: Buffer; iv: Buffer; auth_tag: Buffer }>(
      'select ciphertext, iv, auth_tag from tributary.secrets where project_id = $1 and name = $2',
      [project, name],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.key, row.iv);
    decipher.setAAD(Buffer.from(`${project}/${name}`));
    decipher.setAuthTag(row.auth_tag);
    try {
      return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new Error(
        `Secret "${name}" of project "${project}" cannot be decrypted: was TRIBUTARY_MASTER_KEY changed?`,
      );
    }
  }

  /** What activities use: resolves by name within one project, and names only the name on failure. */
  resolverFor(project: string): SecretResolver {
    return {
      resolve: async (name) => {
        const value = await this.get(project, name);
        if (value === undefined) {
          throw new StepError(
            `secret "${name}" does not exist in project "${project}"; add it under Settings → Secrets`,
            'config',
          );
        }
        return value;
      },
    };
  }
}
