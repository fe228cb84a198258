// How a failed instantiation or a refused upgrade is told to the caller: each value (or pipeline
// part) at fault named as `values.<param>`, and an edit listed by what it changed.
import { InvalidError, type FieldProblem } from '../errors.js';
import type { CompileError } from '../compiler/errors.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import type { InstantiateResult } from '../templates/instantiate.js';
import { placeholderUses } from '../templates/template-placeholders.js';
import type { LoadedTemplate } from '../templates/template.schema.js';
import { diffPipelines } from './pipeline-diff.js';

/** Where a document problem came from: the param whose placeholder sits at (or above) its path. */
function paramAt(template: LoadedTemplate, path: string | undefined): string | undefined {
  if (!path) return undefined;
  const uses = placeholderUses(template.pipeline);
  const hit = uses.find(
    (u) => u.path === path || path.startsWith(`${u.path}.`) || path.startsWith(`${u.path}[`),
  );
  return hit?.name;
}

/** A failed instantiation as a 400 naming each value (or pipeline part) at fault. */
export function instantiationProblem(
  template: LoadedTemplate,
  result: Exclude<InstantiateResult, { ok: true }>,
  context: string,
): InvalidError {
  let errors: FieldProblem[];
  if (result.stage === 'values') {
    errors = result.errors.map((e) => ({
      in: 'body',
      path: e.path,
      message: e.message,
      ...(e.code ? { code: e.code } : {}),
    }));
  } else {
    errors = (result.errors as CompileError[]).map((e) => {
      const param = paramAt(template, e.path);
      return {
        in: 'body',
        path: param ? `values.${param}` : 'values',
        message: param ? `values.${param}: ${e.message}` : e.message,
        code: e.code,
        ...(e.nodeId ? { nodeId: e.nodeId } : {}),
      };
    });
  }
  const what =
    result.stage === 'values'
      ? `The values do not fit template "${template.id}" ${template.version}`
      : `With these values, template "${template.id}" ${template.version} makes a pipeline that does not compile`;
  return new InvalidError(`${context}${what}: ${errors.map((e) => e.message).join('; ')}`, errors);
}

/** The changes an edit made, as a short list for a 409 message. */
export function describeEdits(made: Pipeline, current: Pipeline): string {
  const diff = diffPipelines(made, current);
  const parts = [
    ...diff.nodes.added.map((n) => `added node "${n.id}"`),
    ...diff.nodes.removed.map((n) => `removed node "${n.id}"`),
    ...diff.nodes.changed.flatMap((n) =>
      n.changes.filter((c) => c.path !== 'position').map((c) => `node "${n.id}" ${c.path}`),
    ),
    ...diff.edges.added.map((e) => `added edge ${e}`),
    ...diff.edges.removed.map((e) => `removed edge ${e}`),
    ...[...diff.params, ...diff.settings, ...diff.metadata].map((c) => c.path),
  ];
  const shown = parts.slice(0, 8).join(', ');
  return parts.length > 8 ? `${shown} and ${parts.length - 8} more` : shown;
}
