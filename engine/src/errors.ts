// Domain errors: what a use case refuses, why, and the fields at fault. Use cases and stores throw
// them and know nothing of HTTP; the API maps them to problem+json in one place (api/problem.ts):
// Invalid → 400, Forbidden → 403, NotFound → 404, Conflict → 409.

/** One thing at fault: where it is (`in` and `path`), what is wrong, and the node or edge it is on. */
export interface FieldProblem {
  /** Where the value at fault is: `params`, `query`, `body` or `header`. */
  in?: 'params' | 'query' | 'body' | 'header';
  /** Path inside it, e.g. `nodes[2].config.rows`. */
  path?: string;
  message: string;
  code?: string;
  nodeId?: string;
  edgeId?: string;
}

export class DomainError extends Error {
  constructor(
    message: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(message);
  }
}

/** The request is malformed or asks for something that cannot be: it names the fields at fault. */
export class InvalidError extends DomainError {}
/** The caller may not do this to what it names (another project's table, say). */
export class ForbiddenError extends DomainError {}
/** What the request names does not exist. */
export class NotFoundError extends DomainError {}
/** It cannot be done in the current state (a stale version, a name taken, a merge conflict). */
export class ConflictError extends DomainError {}
