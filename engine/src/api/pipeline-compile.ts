// Compiling stored pipeline documents for the API: validity of a draft, and plans for runs.
import { compile, type CompileResult } from '../compiler/compile.js';
import type { CompileError } from '../compiler/errors.js';
import { nodeCatalog } from '../platform.js';

export interface Validity {
  valid: boolean;
  errors: CompileError[];
}

/** Whether a document would compile (params may be absent: it is not about to run). */
export function validity(document: unknown): Validity {
  const result = compile(document, { catalog: nodeCatalog, requireParams: false });
  return result.ok ? { valid: true, errors: [] } : { valid: false, errors: result.errors };
}

export function compileForRun(
  document: unknown,
  params: Record<string, unknown>,
  pipelineVersion: number,
): CompileResult {
  return compile(document, { catalog: nodeCatalog, params, requireParams: true, pipelineVersion });
}
