// Dotted paths into a connector's JSON config: where a project secret's value goes.
import { configError } from '../errors.js';
import type { SecretUse, StepContext } from '../node-type.js';

/** Sets `value` at a dotted path, creating objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}

export function getPath(target: unknown, path: string): unknown {
  let node = target;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/**
 * A connector's config: the plain fields, and the secret fields filled from project secrets. A
 * plain value at a field the connector marks secret is refused (secrets never sit in pipelines).
 * `secretFields` undefined: the connector marks none, so any field may take a secret.
 */
export async function connectorConfig(
  ctx: Pick<StepContext, 'secrets'>,
  options: {
    pkg: string;
    plain: Record<string, unknown>;
    secrets: Record<string, string>;
    secretFields: Set<string> | undefined;
  },
): Promise<Record<string, unknown>> {
  for (const field of options.secretFields ?? []) {
    if (getPath(options.plain, field) !== undefined) {
      throw configError(
        `config.${field}`,
        `is a secret field of ${options.pkg}; put the name of a project secret in secrets["${field}"] instead`,
      );
    }
  }
  const values = structuredClone(options.plain);
  for (const [field, name] of Object.entries(options.secrets)) {
    if (options.secretFields && !options.secretFields.has(field)) {
      throw configError(`secrets.${field}`, `${options.pkg} has no secret field "${field}"`);
    }
    // The connector is opaque code: where it sends a secret is not known, so its destination is
    // the connector itself, and a secret bound to hosts is not handed to it.
    const use: SecretUse = { sendTo: `connector://${options.pkg.split('==')[0]!.trim()}` };
    setPath(values, field, await ctx.secrets.resolve(name, use));
  }
  return values;
}
