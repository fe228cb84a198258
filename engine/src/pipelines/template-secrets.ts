// The secrets a pipeline made from a template reads, and whether its project has them. Instantiating
// checks them first: a pipeline that names a secret its project lacks compiles, but fails on its
// first run, so the caller is told which secret to create (or that it may go on without it).
import { InvalidError } from '../errors.js';
import type { SecretStore } from '../store/secrets.store.js';
import type { LoadedTemplate } from '../templates/template.schema.js';

export interface TemplateSecretStatus {
  /** The template param whose value names the secret. */
  param: string;
  /** The secret's name, as the values (or the param's default) give it. */
  name: string;
  description: string;
  /** null when this server stores no secrets (no master key). */
  exists: boolean | null;
}

export async function templateSecretStatus(
  secrets: Pick<SecretStore, 'list'> | undefined,
  template: LoadedTemplate,
  project: string,
  /** The values after defaults. */
  values: Record<string, unknown>,
): Promise<TemplateSecretStatus[]> {
  const existing = secrets ? new Set((await secrets.list(project)).map((s) => s.name)) : undefined;
  // A secret param left out (an optional connection, say) names no secret.
  return template.secrets.flatMap((s) => {
    const name = values[s.param];
    if (typeof name !== 'string') return [];
    return [
      { param: s.param, name, description: s.description, exists: existing ? existing.has(name) : null },
    ];
  });
}

/** A 400 naming each missing secret as `values.<param>`, with code `missing_secret`. */
export function missingSecretsProblem(
  template: LoadedTemplate,
  project: string,
  missing: TemplateSecretStatus[],
): InvalidError {
  const errors = missing.map((s) => ({
    in: 'body' as const,
    path: `values.${s.param}`,
    code: 'missing_secret',
    message:
      `values.${s.param}: secret "${s.name}" does not exist in project "${project}"; ` +
      `create it (PUT /api/projects/${project}/secrets/${s.name}), name another secret, ` +
      'or send "allowMissingSecrets": true to create the pipeline anyway',
  }));
  const names = missing.map((s) => `"${s.name}"`).join(', ');
  return new InvalidError(
    `Template "${template.id}" reads ${missing.length === 1 ? 'secret' : 'secrets'} ${names}, which project ` +
      `"${project}" does not have: its first run would fail`,
    errors,
  );
}
