// The first admin token. Without TRIBUTARY_ADMIN_TOKEN, the first start creates one, prints it
// once and writes it to `$TRIBUTARY_HOME/admin-token` (0600); with it, that value is the admin
// token (set again at every start, so changing the variable rotates it).
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomSecret, type TokenStore } from '../store/tokens.store.js';

export const ADMIN_TOKEN_ID = 'admin';

export type AdminToken =
  | { source: 'env' }
  /** Created now: the only time it is shown. */
  | { source: 'created'; token: string; file: string }
  | { source: 'existing'; file: string | null };

export async function ensureAdminToken(
  tokens: TokenStore,
  options: { fromEnv?: string | undefined; home: string },
): Promise<AdminToken> {
  const spec = { name: 'admin', scopes: ['admin'], projects: null, createdBy: 'tributary' };
  if (options.fromEnv) {
    await tokens.put(ADMIN_TOKEN_ID, options.fromEnv, { ...spec, createdBy: 'TRIBUTARY_ADMIN_TOKEN' });
    return { source: 'env' };
  }
  const file = path.join(options.home, 'admin-token');
  if (await tokens.get(ADMIN_TOKEN_ID)) return { source: 'existing', file: existsSync(file) ? file : null };
  const token = `trb_${ADMIN_TOKEN_ID}_${randomSecret()}`;
  try {
    await tokens.create({ ...spec, id: ADMIN_TOKEN_ID, token });
  } catch {
    // Another process (a second API replica) created it first: its file is the one to use.
    return { source: 'existing', file: existsSync(file) ? file : null };
  }
  mkdirSync(options.home, { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // the mode above applies only when the file is new
  return { source: 'created', token, file };
}
