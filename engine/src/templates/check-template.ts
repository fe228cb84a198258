// Consistency checks of a template: params schema, placeholders, secrets and README agree, and the
// example values make a pipeline that compiles. The catalogue and the tests both rely on them.
import { activityCatalog } from '../pipelines/node-catalog.js';
import { exampleValues, instantiate, paramsValidator, validateValues } from './instantiate.js';
import type { Template } from './template.schema.js';
import { placeholderUses } from './template-placeholders.js';

/** Templates are checked against the platform's one node catalogue. */
export const templateNodeCatalog = activityCatalog;

/** The README sections every template has, so users find the same things in the same place. */
export const README_SECTIONS = ['What it does', 'What it needs', 'What it produces'] as const;

type Property = Template['params']['properties'][string];

/** A string spliced into longer text (SQL, a URL) must be constrained, so a value cannot break out of it. */
function isConstrainedText(property: Property): boolean {
  return ['pattern', 'enum', 'const', 'format'].some((k) => k in property);
}

const typeOf = (property: Property): string | undefined =>
  typeof property.type === 'string' ? property.type : undefined;

/** Every problem with `template` (read from `folder`, with `readme`); empty when it is consistent. */
export function checkTemplate(template: Template, readme: string, folder?: string): string[] {
  const problems: string[] = [];
  const properties = template.params.properties;
  const required = new Set(template.params.required);

  if (folder !== undefined && folder !== template.id) {
    problems.push(`id "${template.id}" differs from its folder name "${folder}"`);
  }
  for (const key of ['id', 'project']) {
    if (key in template.pipeline) {
      problems.push(`pipeline.${key} must be left out: instantiation sets it from the request`);
    }
  }
  for (const name of required) {
    if (!(name in properties)) problems.push(`params.required names "${name}", which is not a property`);
  }
  try {
    paramsValidator(template.params);
  } catch (error) {
    problems.push(`params is not a JSON Schema that can be used: ${(error as Error).message}`);
    return problems;
  }

  // Params and placeholders: each placeholder names a param, each param is used, and uses fit.
  const uses = placeholderUses(template.pipeline, 'pipeline');
  for (const use of uses) {
    const property = properties[use.name];
    if (!property) {
      problems.push(`${use.path} uses {{ template.${use.name} }}, but there is no param "${use.name}"`);
      continue;
    }
    const type = typeOf(property);
    if (!use.whole && (type === 'array' || type === 'object')) {
      problems.push(`${use.path} splices {{ template.${use.name} }} into text, but it is an ${type}`);
    } else if (!use.whole && (type === 'string' || type === undefined) && !isConstrainedText(property)) {
      problems.push(
        `${use.path} splices {{ template.${use.name} }} into text; give the param a pattern, enum or format ` +
          'so that no value can change what the text means',
      );
    }
    if (!required.has(use.name) && !('default' in property) && !use.property) {
      problems.push(
        `${use.path}: {{ template.${use.name} }} may have no value (not required, no default), ` +
          'so it can only be the whole value of an object property, which is then left out',
      );
    }
  }
  const used = new Set(uses.map((u) => u.name));
  for (const [name, property] of Object.entries(properties)) {
    if (!used.has(name)) problems.push(`param "${name}" is not used in the pipeline`);
    if (required.has(name) && !property.examples?.length) {
      problems.push(`param "${name}" is required, so it needs examples (the first is used by the tests)`);
    }
  }

  // Secrets are named by params, so two pipelines from one template can use two secrets.
  const secretParams = new Set<string>();
  for (const secret of template.secrets) {
    const property = properties[secret.param];
    if (!property) problems.push(`secrets names param "${secret.param}", which does not exist`);
    else if (typeOf(property) !== 'string') problems.push(`secret param "${secret.param}" must be a string`);
    if (secretParams.has(secret.param)) problems.push(`secrets lists param "${secret.param}" twice`);
    secretParams.add(secret.param);
  }

  // The README says what it does, needs and produces, and explains every param.
  for (const section of README_SECTIONS) {
    if (!new RegExp(`^##\\s+${section}\\s*$`, 'im').test(readme)) {
      problems.push(`README.md has no "## ${section}" section`);
    }
  }
  for (const name of Object.keys(properties)) {
    if (!readme.includes(`\`${name}\``)) problems.push(`README.md does not mention param \`${name}\``);
  }

  // Every example and default must fit its own param, and the examples together must make a
  // pipeline that compiles.
  const examples = exampleValues(template);
  for (const [name, property] of Object.entries(properties)) {
    const own = { params: { ...template.params, required: [name], properties: { [name]: property } } };
    const samples: [string, unknown][] = (property.examples ?? []).map((v, i) => [`examples[${i}]`, v]);
    if ('default' in property) samples.push(['default', property.default]);
    for (const [where, sample] of samples) {
      const checked = validateValues(own, { [name]: sample });
      if (!checked.ok) {
        problems.push(
          `params.properties.${name}.${where} is not valid: ${checked.errors.map((e) => e.message).join('; ')}`,
        );
      }
    }
  }
  const made = instantiate(
    template,
    { pipelineId: template.id, project: 'default', values: examples },
    templateNodeCatalog,
  );
  if (!made.ok) {
    problems.push(
      `the example values do not make a valid pipeline (${made.stage}): ` +
        made.errors.map((e) => e.message).join('; '),
    );
    return problems;
  }

  // The secrets the nodes read are exactly those the template lists.
  const listed = new Map(
    template.secrets.flatMap((s) => {
      const name = made.values[s.param];
      return typeof name === 'string' ? [[name, s.param] as const] : [];
    }),
  );
  const read = new Set<string>();
  for (const node of made.document.nodes) {
    const declaration = activityCatalog.get(node.type);
    const config = declaration?.config.safeParse(node.config);
    if (!declaration?.secrets || !config?.success) continue;
    for (const name of declaration.secrets(config.data)) {
      read.add(name);
      if (!listed.has(name)) {
        problems.push(
          `node "${node.id}" reads secret "${name}", but secrets does not list the param naming it`,
        );
      }
    }
  }
  for (const [name, param] of listed) {
    if (!read.has(name))
      problems.push(`secrets lists param "${param}", but no node reads the secret it names`);
  }
  return problems;
}
