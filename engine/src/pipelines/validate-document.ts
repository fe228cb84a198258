// Validate without saving, as the builder calls it while the user edits: what the compiler finds,
// plus every problem in the document's SQL located by line and column.
import type { NodeCatalog } from '../compiler/compile.js';
import { validity, type Validity } from './pipeline-compile.js';
import { sqlErrors } from './sql-checks.js';

export interface ValidateOptions {
  catalog: NodeCatalog;
  /** The project's secret names, when the caller may know them. */
  knownSecrets?: readonly string[];
}

export async function validateDocument(document: unknown, options: ValidateOptions): Promise<Validity> {
  const compiled = validity(document, options.catalog, options.knownSecrets);
  const errors = [...compiled.errors, ...(await sqlErrors(document, options.catalog))];
  return { valid: errors.length === 0, errors };
}
