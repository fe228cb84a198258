// Project secrets, encrypted server-side with AES-256-GCM on every write. The (project, name) pair
// is bound into the ciphertext as associated data, so a row copied to another name won't decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StepError, type SecretResolver, type SecretUse } from '@tributary/activities';
import type pg from 'pg';

export interface SecretInfo {
  name: string;
  /** Hosts the value may be sent to (`*.example.com` for subdomains); null: any. */
  allowedHosts: string[] | null;
  createdAt: string;
  updatedAt: string;
}

/** Whether `host` is one of `allowed` (exact, or `*.domain` for any subdomain of it). */
export function hostMatches(allowed: readonly string[], host: string): boolean {
  const name = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  return allowed.some((entry) => {
    const pattern = entry.toLowerCase();
    return pattern.startsWith('*.') ? name.endsWith(pattern.slice(1)) : name === pattern;
  });
}

/** The host a secret is about to be sent to (or to sign for). */
function destinationHost(use: SecretUse, value: string): string {
  try {
    if ('sendTo' in use) return new URL(use.sendTo).hostname;
    if ('signFor' in use) return new URL(use.signFor).hostname;
    return new URL(value).hostname;
  } catch {
    return '(an unparseable URL)';
  }
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

  async set(
    project: string,
    name: string,
    value: string,
    allowedHosts: string[] | null = null,
  ): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${project}/${name}`));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    await this.pool.query(
      `insert into tributary.secrets (project_id, name, ciphertext, iv, auth_tag, allowed_hosts)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (project_id, name) do update
         set ciphertext = excluded.ciphertext, iv = excluded.iv, auth_tag = excluded.auth_tag,
             allowed_hosts = excluded.allowed_hosts, updated_at = now()`,
      [project, name, ciphertext, iv, cipher.getAuthTag(), allowedHosts],
    );
  }

  async list(project: string): Promise<SecretInfo[]> {
    const result = await this.pool.query<{
      name: string;
      allowed_hosts: string[] | null;
      created_at: Date;
      updated_at: Date;
    }>(
      'select name, allowed_hosts, created_at, updated_at from tributary.secrets where project_id = $1 order by name',
      [project],
    );
    return result.rows.map((r) => ({
      name: r.name,
      allowedHosts: r.allowed_hosts,
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
    return (await this.read(project, name))?.value;
  }

  private async read(
    project: string,
    name: string,
  ): Promise<{ value: string; allowedHosts: string[] | null } | undefined> {
    const result = await this.pool.query<{
      ciphertext: Buffer;
      iv: Buffer;
      auth_tag: Buffer;
      allowed_hosts: string[] | null;
    }>(
      'select ciphertext, iv, auth_tag, allowed_hosts from tributary.secrets where project_id = $1 and name = $2',
      [project, name],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', this.key, row.iv);
    decipher.setAAD(Buffer.from(`${project}/${name}`));
    decipher.setAuthTag(row.auth_tag);
    try {
      const value = Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
      return { value, allowedHosts: row.allowed_hosts };
    } catch {
      throw new Error(
        `Secret "${name}" of project "${project}" cannot be decrypted: was TRIBUTARY_MASTER_KEY changed?`,
      );
    }
  }

  /**
   * What activities use: resolves by name within one project, names only the name on failure, and
   * refuses a host-bound secret for any other destination.
   */
  resolverFor(project: string): SecretResolver {
    return {
      resolve: async (name, use) => {
        const secret = await this.read(project, name);
        if (secret === undefined) {
          throw new StepError(
            `secret "${name}" does not exist in project "${project}"; add it under Settings → Secrets`,
            'config',
          );
        }
        const host = destinationHost(use, secret.value);
        if (secret.allowedHosts && !hostMatches(secret.allowedHosts, host)) {
          throw new StepError(
            `secret "${name}" may only be sent to ${secret.allowedHosts.join(', ')}, not to ${host}; ` +
              `add the host to the secret's allowed hosts if it should go there`,
            'auth',
          );
        }
        return secret.value;
      },
    };
  }
}
