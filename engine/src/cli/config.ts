// Where the CLI finds its server and token: TRIBUTARY_URL / TRIBUTARY_TOKEN when set (CI), else the
// file `tributary login` wrote to the user's config dir. The file holds a token, so it is 0600.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

export interface CliConfig {
  url: string;
  token: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'tributary', 'config.json');
}

/** `http://host:3000/api/` and `http://host:3000` both mean the server at `http://host:3000`. */
export function normaliseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(
      `"${url}" is not a URL; give the server's address, e.g. http://localhost:3000`,
      EXIT.usage,
    );
  }
  return parsed.href.replace(/\/+$/, '').replace(/\/api$/, '');
}

export async function saveConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const file = configPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // writeFile's mode applies only to a new file; an older, wider one is narrowed too.
  await chmod(file, 0o600);
  return file;
}

export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<CliConfig> {
  let stored: Partial<CliConfig> = {};
  const file = configPath(env);
  try {
    stored = JSON.parse(await readFile(file, 'utf8')) as Partial<CliConfig>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError(
        `Cannot read ${file}: ${(error as Error).message}; run tributary login again`,
        EXIT.auth,
      );
    }
  }
  const url = env.TRIBUTARY_URL || stored.url;
  const token = env.TRIBUTARY_TOKEN || stored.token;
  if (!url || !token) {
    throw new CliError(
      'Not logged in: run `tributary login --url URL --token TOKEN`, or set TRIBUTARY_URL and TRIBUTARY_TOKEN',
      EXIT.auth,
    );
  }
  return { url: normaliseUrl(url), token };
}
