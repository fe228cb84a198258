// Whether a document compiles: a draft's validity, validate's. Saved versions' validities and plans
// are kept in the plan cache (plan-cache.ts). The catalogue is passed in (the API has it in its
// context), so this module needs neither platform nor registry.
import { compile, type NodeCatalog, type NodeConfigs } from '../compiler/compile.js';
import type { CompileError } from '../compiler/errors.js';

export interface Validity {
  valid: boolean;
  errors: CompileError[];
  /** What was not checked yet, and when it will be (a connector whose spec is not known yet). */
  notes?: string[];
}

/**
 * Whether a document would compile (params may be absent: it is not about to run). With the
 * project's secret names, a node reading a secret the project lacks is an error too.
 */
export function validity(
  document: unknown,
  catalog: NodeCatalog,
  knownSecrets?: readonly string[],
  /** The nodes' configs parsed already (parseNodeConfigs of this document). */
  configs?: NodeConfigs,
): Validity {
  const result = compile(document, {
    catalog,
    requireParams: false,
    ...(knownSecrets ? { knownSecrets } : {}),
    ...(configs ? { configs } : {}),
  });
  return result.ok ? { valid: true, errors: [] } : { valid: false, errors: result.errors };
}
