// `tributary login`: checks the URL and token against the server, then saves them for later commands.
import { ApiClient } from '../api-client.js';
import { normaliseUrl, saveConfig } from '../config.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { Health, ProjectPage } from '../api-types.js';

export async function login(options: { url: string; token: string }, out: Output): Promise<ExitCode> {
  const config = { url: normaliseUrl(options.url), token: options.token };
  const client = new ApiClient(config);
  // Health first: a wrong URL should say so, not "token refused".
  const health = await client.request<Health>('GET', '/health', {
    accept: [503],
  });
  const projects = await client.request<ProjectPage>('GET', '/projects');
  const file = await saveConfig(config);
  const ids = projects.body.items.map((p) => p.id);
  out.say(
    `Logged in to ${config.url} (Tributary ${health.body.version ?? '?'}, ${health.body.status ?? 'unknown'}).`,
  );
  out.say(
    `This token sees ${ids.length} project${ids.length === 1 ? '' : 's'}: ${ids.join(', ') || '(none)'}.`,
  );
  out.say(`Saved to ${file} (mode 0600). TRIBUTARY_URL and TRIBUTARY_TOKEN override it.`);
  out.result({ url: config.url, version: health.body.version ?? null, projects: ids, configFile: file });
  return EXIT.ok;
}
