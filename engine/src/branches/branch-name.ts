// What a branch may be called: a safe slug, short enough that `<schema>__<branch>` of every schema
// the project owns fits Postgres's 63-byte identifiers. A bad name is a 400 that says which rule.
import { InvalidError } from '../errors.js';
import { BRANCH_NAME, branchNameLimit, branchSchemaName, defaultSchemaOf } from '@tributary/activities';
import { z } from 'zod';

/** The shape alone (the length per project is checked by checkBranchName). */
export const branchName = z
  .string()
  .min(1)
  .max(63)
  .regex(
    BRANCH_NAME,
    'must be lowercase letters and digits, words joined by single hyphens (e.g. new-metrics)',
  )
  .meta({ description: 'A development branch of the project (see docs/concepts/branches.md)' });

/** Refuses a name whose branch schemas would not fit beside the project's schemas. */
export function checkBranchName(name: string, project: string, extraSchemas: readonly string[]): void {
  const schemas = [defaultSchemaOf(project), ...extraSchemas];
  const limit = branchNameLimit(schemas);
  if (name.length <= limit) return;
  const longest = schemas.reduce((a, b) => (b.length > a.length ? b : a));
  const message =
    `name: "${name}" is ${name.length} characters; branches of project ${project} may have at most ${limit}, ` +
    `so that ${branchSchemaName(longest, 'x'.repeat(limit))} (schema ${longest} in the branch) fits Postgres's 63-byte names`;
  throw new InvalidError(message, [{ in: 'body', path: 'name', message }]);
}
