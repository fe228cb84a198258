// Instantiating a template, purely: values checked against the params JSON Schema (defaults filled in),
// substituted into the pipeline, id and project set from the request, and the result compiled.
import { z } from 'zod';
import { compile, type NodeCatalog } from '../compiler/compile.js';
import type { CompileError } from '../compiler/errors.js';
import { PipelineSchema, type Pipeline } from '../model/pipeline.schema.js';
import type { Template, TemplateParams } from './template.schema.js';
import { substitute } from './template-placeholders.js';

export interface ValueError {
  /** `values.batch_size`, or `values` for a problem with the whole object. */
  path: string;
  message: string;
  code?: string;
}

export interface InstantiateRequest {
  pipelineId: string;
  project: string;
  /** The pipeline's name; the template's own pipeline name when absent. */
  name?: string;
  values: Record<string, unknown>;
}

export type InstantiateResult =
  | { ok: true; document: Pipeline; values: Record<string, unknown> }
  | { ok: false; stage: 'values'; errors: ValueError[] }
  | { ok: false; stage: 'document' | 'compile'; errors: CompileError[] };

const validators = new WeakMap<TemplateParams, z.ZodType>();

/** The params JSON Schema as a zod schema (zod 4's converter), built once per template. */
export function paramsValidator(params: TemplateParams): z.ZodType {
  let validator = validators.get(params);
  if (!validator) {
    validator = z.fromJSONSchema(params as Parameters<typeof z.fromJSONSchema>[0]);
    validators.set(params, validator);
  }
  return validator;
}

const valuePath = (path: readonly PropertyKey[]) =>
  ['values', ...path]
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Checks values against the params schema; on success returns them with defaults filled in. */
export function validateValues(
  template: Pick<Template, 'params'>,
  values: unknown,
): { ok: true; values: Record<string, unknown> } | { ok: false; errors: ValueError[] } {
  const result = paramsValidator(template.params).safeParse(values ?? {});
  if (result.success) return { ok: true, values: result.data as Record<string, unknown> };
  const errors = result.error.issues.flatMap((issue): ValueError[] => {
    // An unknown key is reported on the object; name the key itself, with what would be accepted.
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(template.params.properties).join(', ');
      return issue.keys.map((key) => ({
        path: valuePath([...issue.path, key]),
        message: `${valuePath([...issue.path, key])}: "${key}" is not a param of this template (its params: ${known})`,
        code: issue.code,
      }));
    }
    const path = valuePath(issue.path);
    // zod does not keep the input in its issues: a value that is absent is looked up.
    const missing = issue.code === 'invalid_type' && valueAt(values, issue.path) === undefined;
    return [{ path, message: `${path}: ${missing ? 'required' : issue.message}`, code: issue.code }];
  });
  return { ok: false, errors };
}

/** The values a template's examples give: each param's first example (defaults fill the rest). */
export function exampleValues(template: Pick<Template, 'params'>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(template.params.properties)) {
    if (property.examples?.length) values[name] = structuredClone(property.examples[0]);
  }
  return values;
}

/** Builds the pipeline document a template makes with these values, and compiles it. */
export function instantiate(
  template: Template,
  request: InstantiateRequest,
  catalog: NodeCatalog,
): InstantiateResult {
  const checked = validateValues(template, request.values);
  if (!checked.ok) return { ok: false, stage: 'values', errors: checked.errors };

  const substituted = substitute(template.pipeline, checked.values);
  if (substituted.problems.length > 0) {
    return {
      ok: false,
      stage: 'document',
      errors: substituted.problems.map((p) => ({
        code: 'invalid_placeholder',
        path: p.path,
        message: `${p.path}: ${p.message}`,
      })),
    };
  }
  const raw = {
    ...(substituted.value as Record<string, unknown>),
    id: request.pipelineId,
    project: request.project,
    ...(request.name ? { name: request.name } : {}),
  };
  const compiled = compile(raw, { catalog, requireParams: false });
  if (!compiled.ok) return { ok: false, stage: 'compile', errors: compiled.errors };
  return { ok: true, document: PipelineSchema.parse(raw), values: checked.values };
}
