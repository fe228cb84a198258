// A node's config is parsed once, when its pipeline is compiled: the plan carries it parsed (the
// type's defaults applied) and stamped with the digest of the schema that parsed it. A step whose
// stamp matches its declaration's schema uses the config as it is; one compiled by another schema
// (a plan from before the stamp, or a deploy that changed the schema while the run was in flight)
// is parsed again, so it still sees exactly what its schema makes of it.
import { createHash } from 'node:crypto';
import { z } from 'zod';

const digests = new WeakMap<z.ZodType, string | null>();

/**
 * A short digest of a config schema (its JSON Schema, defaults and all), computed once per schema
 * and process; null for a schema that has no JSON Schema, whose configs are then always parsed.
 */
export function configSchemaDigest(schema: z.ZodType): string | null {
  let digest = digests.get(schema);
  if (digest === undefined) {
    try {
      const json = JSON.stringify(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }));
      // 64 bits tell one schema from another; this is no defence against anyone, only a version mark.
      digest = createHash('sha256').update(json).digest('hex').slice(0, 16);
    } catch {
      digest = null;
    }
    digests.set(schema, digest);
  }
  return digest;
}

/** What parsing a config found: the parsed config, or the issues with their paths in it. */
export type ConfigParse =
  | { success: true; data: Record<string, unknown> }
  | { success: false; issues: { path: PropertyKey[]; message: string }[] };

/** Parses a config with its type's schema (the one parse compile and validate make of it). */
export function parseConfig(schema: z.ZodType, config: unknown): ConfigParse {
  const result = schema.safeParse(config);
  return result.success
    ? { success: true, data: result.data as Record<string, unknown> }
    : { success: false, issues: result.error.issues };
}

/**
 * The config a step runs with: as the plan carries it when it was parsed by this very schema
 * (`digest`), else parsed now.
 */
export function stepConfig(
  schema: z.ZodType,
  config: Record<string, unknown>,
  digest: string | undefined,
): ConfigParse {
  if (digest !== undefined && digest === configSchemaDigest(schema)) return { success: true, data: config };
  return parseConfig(schema, config);
}
