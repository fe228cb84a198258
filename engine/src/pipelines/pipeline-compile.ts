// Compiling stored pipeline documents: validity of a draft, and plans for runs. The catalogue is
// passed in (the API has it in its context), so this module needs neither platform nor registry.
import { compile, type CompileResult, type NodeCatalog } from '../compiler/compile.js';
import type { CompileError } from '../compiler/errors.js';

export interface Validity {
  valid: boolean;
  errors: CompileError[];
}

/**
 * Whether a document would compile (params may be absent: it is not about to run). With the
 * project's secret names, a node reading a secret the project lacks is an error too.
 */
export function validity(
  document: unknown,
  catalog: NodeCatalog,
  knownSecrets?: readonly string[],
): Validity {
  const result = compile(document, {
    catalog,
    requireParams: false,
    ...(knownSecrets ? { knownSecrets } : {}),
  });
  return result.ok ? { valid: true, errors: [] } : { valid: false, errors: result.errors };
}

/** Versions whose validity is remembered, per catalogue: a few hundred documents' error lists. */
const REMEMBERED_VERSIONS = 500;
const versionValidities = new WeakMap<NodeCatalog, Map<string, Validity>>();

/**
 * The validity of a saved version, compiled once per version: a version never changes, and its
 * hash covers everything compiling reads (all but node positions), so reads of a pipeline, its
 * versions and its views do not compile it again.
 */
export function versionValidity(
  version: { versionHash: string; document: unknown },
  catalog: NodeCatalog,
): Validity {
  let remembered = versionValidities.get(catalog);
  if (!remembered) versionValidities.set(catalog, (remembered = new Map()));
  const known = remembered.get(version.versionHash);
  if (known) {
    // Most recently used last, so the oldest is the one forgotten.
    remembered.delete(version.versionHash);
    remembered.set(version.versionHash, known);
    return known;
  }
  const found = validity(version.document, catalog);
  remembered.set(version.versionHash, found);
  if (remembered.size > REMEMBERED_VERSIONS) remembered.delete(remembered.keys().next().value!);
  return found;
}

export function compileForRun(
  catalog: NodeCatalog,
  document: unknown,
  params: Record<string, unknown>,
  pipelineVersion: number,
): CompileResult {
  return compile(document, { catalog, params, requireParams: true, pipelineVersion });
}
