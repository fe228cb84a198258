// A Python connector's config checked against its own spec (JSON Schema, draft-07 as Airbyte writes
// it), the same way where a pipeline is saved or validated (engine) and in the activity before the
// connector runs: each problem names the field and says what is wrong, never a value. Secret fields
// are checked as present (a project secret's name in `secrets`), never by value. Also: a spec with
// an invalid sub-schema is made usable by leaving that part out, named.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { configError } from '../errors.js';
import { getPath, setPath } from './config-paths.js';
import type { ConnectorSpec } from './connector-probe.js';

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** One thing wrong with a connector's config: its dotted path in that config ('' for the whole). */
export interface SpecProblem {
  path: string;
  message: string;
}

/** A part of a spec left out because it is not a valid schema. */
export interface OmittedPart {
  /** JSON Pointer into the spec as the connector printed it: /properties/stream_maps/… */
  pointer: string;
  reason: string;
}

const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateSchema: false });
addFormats(ajv);
// Connector specs use formats of their own (Airbyte: `date-time` with patterns, `uri`, and a few
// like `date-time-iso`): a format nobody defined is not a fault of the user's config.
const checker = new Ajv({ strict: false, allErrors: true, logger: false });

/** A placeholder standing in for a secret's value: present, of no particular value. */
const SECRET = '\u0000secret';

/**
 * The spec as a form can use it: each sub-schema that is not a valid JSON Schema (tap-jsonl 0.3.1's
 * `stream_maps…__else__.anyOf[2]` is the string "null") is left out, and named. `$schema` and a
 * top-level `$id` are dropped: the form and the validator read draft-07 whatever a spec declares.
 */
export function usableSpec(schema: Record<string, unknown>): {
  schema: Record<string, unknown>;
  omitted: OmittedPart[];
} {
  const { $schema: _draft, $id: _id, ...rest } = schema;
  const copy = structuredClone(rest);
  const omitted: OmittedPart[] = [];
  for (let round = 0; round < 50; round++) {
    if (checker.validateSchema(copy)) break;
    const error = (checker.errors ?? [])
      .filter((e) => e.instancePath)
      .sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
    if (!error) break;
    // The deepest invalid node is left out; a keyword whose value itself is wrong goes with it.
    const pointer = invalidNode(copy, error);
    if (!pointer || !remove(copy, pointer)) break;
    omitted.push({ pointer, reason: (error.message ?? 'is not a schema').replaceAll(',', ' or ') });
  }
  return { schema: copy, omitted };
}

/** The pointer of the sub-schema an error of the meta-schema points into. */
function invalidNode(schema: unknown, error: ErrorObject): string | undefined {
  const parts = error.instancePath.split('/').slice(1);
  // `anyOf/2` (a member of a schema array), `properties/x`, `items`: remove that node.
  return parts.length ? `/${parts.join('/')}` : undefined;
}

function remove(root: unknown, pointer: string): boolean {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  let node = root as Record<string, unknown> | unknown[];
  for (const part of parts.slice(0, -1)) {
    node = (node as Record<string, unknown>)[part] as Record<string, unknown>;
    if (typeof node !== 'object' || node === null) return false;
  }
  const last = parts.at(-1)!;
  if (Array.isArray(node)) {
    node.splice(Number(last), 1);
    return true;
  }
  if (!(last in node)) return false;
  delete node[last];
  return true;
}

/** What the user is told about the parts left out (the form shows it above the fields). */
export function omittedNote(pkg: string, omitted: OmittedPart[]): string | undefined {
  if (!omitted.length) return undefined;
  return `Left out of ${pkg}'s form, as not valid JSON Schema: ${omitted
    .map((o) => `${o.pointer} (${o.reason})`)
    .join('; ')}. The rest of the form is as the connector describes it.`;
}

const compiled = new Map<string, ValidateFunction | Error>();

function validatorOf(schema: Record<string, unknown>): ValidateFunction | Error {
  const key = JSON.stringify(schema);
  let found = compiled.get(key);
  if (!found) {
    try {
      found = ajv.compile(usableSpec(schema).schema);
    } catch (error) {
      found = error as Error;
    }
    if (compiled.size >= 100) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, found);
  }
  return found;
}

/**
 * Checks a node's connector config against the connector's spec. `plain` is the node's `config`,
 * `secrets` its secret fields → project secret names, `secretFields` the fields the spec marks
 * secret. A spec that cannot be compiled checks nothing (the connector still checks when it runs).
 */
export function checkAgainstSpec(
  spec: { schema: Record<string, unknown> | null; secretFields: string[] },
  plain: Record<string, unknown>,
  secrets: Record<string, string>,
): SpecProblem[] {
  if (!spec.schema) return [];
  const problems: SpecProblem[] = [];
  const secretFields = new Set(spec.secretFields);
  for (const field of secretFields) {
    if (getPath(plain, field) !== undefined)
      problems.push({
        path: field,
        message: `is a secret field: put the name of a project secret in secrets["${field}"] instead of a value`,
      });
  }
  const validate = validatorOf(spec.schema);
  if (validate instanceof Error) return problems;
  const candidate = structuredClone(plain);
  // A named secret is there, whatever its value will be; its value is never checked here.
  for (const field of Object.keys(secrets)) setPath(candidate, field, SECRET);
  if (validate(candidate)) return problems;
  const isSecret = (path: string) =>
    [...secretFields, ...Object.keys(secrets)].some((f) => path === f || path.startsWith(`${f}.`));
  for (const problem of explain(validate.errors ?? [], spec.schema)) {
    if (isSecret(problem.path) && !problem.message.startsWith('is required')) continue;
    const secret = secretFields.has(problem.path);
    problems.push(
      secret && problem.message.startsWith('is required')
        ? {
            path: problem.path,
            message: problem.message.replace(
              /^is required/,
              `is required: a secret field, so name a project secret in secrets["${problem.path}"]`,
            ),
          }
        : problem,
    );
  }
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

const dotted = (instancePath: string) =>
  instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');

const join = (a: string, b: string) => (a && b ? `${a}.${b}` : a || b);

/** Ajv's errors as problems: a failed `oneOf`/`anyOf` told through its closest option. */
function explain(errors: ErrorObject[], schema: Record<string, unknown>): SpecProblem[] {
  const consumed = new Set<ErrorObject>();
  const problems: SpecProblem[] = [];
  const alternatives = errors
    .filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const alt of alternatives) {
    if (consumed.has(alt)) continue;
    consumed.add(alt);
    const prefix = `${alt.schemaPath}/`;
    const inner = errors.filter((e) => e.schemaPath.startsWith(prefix));
    for (const e of inner) consumed.add(e);
    const path = dotted(alt.instancePath);
    if ((alt.params as { passingSchemas?: unknown }).passingSchemas) {
      problems.push({ path, message: `fits more than one of its options (${optionTitles(schema, alt)})` });
      continue;
    }
    const branches = new Map<number, ErrorObject[]>();
    for (const e of inner) {
      const index = Number(e.schemaPath.slice(prefix.length).split('/')[0]);
      branches.set(index, [...(branches.get(index) ?? []), e]);
    }
    const [index, closest] = [...branches].sort((a, b) => a[1].length - b[1].length)[0] ?? [];
    if (index === undefined || !closest) {
      problems.push({ path, message: `fits none of its options (${optionTitles(schema, alt)})` });
      continue;
    }
    const title = optionTitle(schema, `${alt.schemaPath}/${index}`) ?? `option ${index + 1}`;
    for (const problem of explain(closest, schema))
      problems.push({ ...problem, message: `${problem.message} (in option "${title}")` });
  }
  for (const e of errors) {
    if (consumed.has(e) || e.keyword === 'if') continue;
    problems.push(problemOf(e));
  }
  return problems;
}

function problemOf(e: ErrorObject): SpecProblem {
  const path = dotted(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: join(path, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { path: join(path, String(params.additionalProperty)), message: 'is not a field of the spec' };
    case 'enum':
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'type':
      return { path, message: `must be ${String(params.type).split(',').join(' or ')}` };
    default:
      return { path, message: e.message ?? `fails "${e.keyword}"` };
  }
}

function schemaAt(schema: Record<string, unknown>, schemaPath: string): unknown {
  let node: unknown = schema;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[
      decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~')
    ];
  }
  return node;
}

function optionTitle(schema: Record<string, unknown>, schemaPath: string): string | undefined {
  const title = (schemaAt(usableSpec(schema).schema, schemaPath) as { title?: unknown } | undefined)?.title;
  return typeof title === 'string' ? title : undefined;
}

function optionTitles(schema: Record<string, unknown>, alt: ErrorObject): string {
  const options = schemaAt(usableSpec(schema).schema, alt.schemaPath);
  if (!Array.isArray(options)) return alt.keyword;
  return options
    .map((o, i) =>
      typeof (o as { title?: unknown })?.title === 'string'
        ? `"${(o as { title: string }).title}"`
        : `option ${i + 1}`,
    )
    .join(', ');
}

/**
 * Refuses, before the connector runs, a config that does not fit its spec: a config error (not
 * retried) naming the first field at fault as `config.config.<field>`, and every problem after it.
 */
export function requireFitsSpec(
  pkg: string,
  spec: { schema: Record<string, unknown> | null; secretFields: string[] },
  plain: Record<string, unknown>,
  secrets: Record<string, string>,
): void {
  const problems = checkAgainstSpec(spec, plain, secrets);
  if (!problems.length) return;
  const at = (p: SpecProblem) => (p.path ? `config.${p.path}` : 'config');
  throw configError(
    at(problems[0]!),
    `${problems[0]!.message}${problems
      .slice(1)
      .map((p) => `; config.${at(p)}: ${p.message}`)
      .join('')} (checked against the spec of ${pkg}, before running it)`,
  );
}

/** A spec as the builder's form and the cache hold it: invalid parts left out, with a note naming them. */
export function formSpec(pkg: string, spec: ConnectorSpec): ConnectorSpec {
  if (!spec.schema) return spec;
  const { schema, omitted } = usableSpec(spec.schema);
  if (!omitted.length) return spec;
  return { ...spec, schema, note: omittedNote(pkg, omitted) };
}

/**
 * A config with a made-up value in each required field (recursively; the first option of a oneOf),
 * so a connector's own check runs past its spec (the conformance sweep uses it). Secret fields are
 * left out: they are named in `secrets` instead.
 */
export function dummyConfig(
  schema: Record<string, unknown>,
  secretFields: string[],
): { config: Record<string, unknown>; secrets: string[] } {
  const secrets: string[] = [];
  const fill = (node: Record<string, unknown>, path: string): unknown => {
    if ('const' in node) return node.const;
    if (Array.isArray(node.enum) && node.enum.length) return node.default ?? node.enum[0];
    if (node.default !== undefined) return node.default;
    const options = (node.oneOf ?? node.anyOf) as Record<string, unknown>[] | undefined;
    if (Array.isArray(options) && options.length)
      return fill({ ...node, oneOf: undefined, anyOf: undefined, ...options[0] }, path);
    const type = Array.isArray(node.type) ? node.type.find((t) => t !== 'null') : node.type;
    if (type === 'object' || node.properties) {
      const out: Record<string, unknown> = {};
      const required = Array.isArray(node.required) ? (node.required as string[]) : [];
      for (const name of required) {
        const p = join(path, name);
        const child = ((node.properties ?? {}) as Record<string, Record<string, unknown>>)[name] ?? {};
        if (secretFields.includes(p)) {
          secrets.push(p);
          continue;
        }
        out[name] = fill(child, p);
      }
      return out;
    }
    if (type === 'array') {
      const items = (node.items ?? {}) as Record<string, unknown>;
      // Airbyte gives an array's examples as items: ["airbytehq/airbyte", …].
      if (
        Array.isArray(node.examples) &&
        typeof node.examples[0] === 'string' &&
        !Array.isArray(items.examples)
      )
        return [node.examples[0]];
      const min = typeof node.minItems === 'number' ? node.minItems : 1;
      return Array.from({ length: Math.max(1, min) }, () => fill(items, path));
    }
    if (type === 'integer' || type === 'number') return typeof node.minimum === 'number' ? node.minimum : 1;
    if (type === 'boolean') return false;
    if (node.format === 'date-time') return '2024-01-01T00:00:00Z';
    if (node.format === 'date') return '2024-01-01';
    if (node.format === 'uri' || node.format === 'url') return 'https://example.invalid';
    if (node.format === 'email') return 'someone@example.invalid';
    const examples = node.examples;
    if (Array.isArray(examples) && typeof examples[0] === 'string') return examples[0];
    return 'tributary-sweep';
  };
  const config = fill(usableSpec(schema).schema, '') as Record<string, unknown>;
  return { config: config && typeof config === 'object' ? config : {}, secrets };
}
