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

export function compileForRun(
  catalog: NodeCatalog,
  document: unknown,
  params: Record<string, unknown>,
  pipelineVersion: number,
): CompileResult {
  return compile(document, { catalog, params, requireParams: true, pipelineVersion });
}
