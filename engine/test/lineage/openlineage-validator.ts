// Validates OpenLineage run events against the official JSON Schemas of the spec (fixtures in
// ./openlineage-spec): the event against RunEvent, and every facet against the schema its
// `_schemaURL` names (a facet whose schema is not among the fixtures is an error, so nothing passes
// unchecked).
import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const dir = new URL('./openlineage-spec/', import.meta.url);

function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')))
    ajv.addSchema(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as object);
  return ajv;
}

let shared: Ajv2020 | undefined;

/** Every way `event` breaks the spec, as readable lines; empty when it is valid. */
export function openLineageProblems(event: unknown): string[] {
  const ajv = (shared ??= createAjv());
  const problems: string[] = [];
  const check = (url: string, value: unknown, where: string) => {
    const validate = ajv.getSchema(url);
    if (!validate) {
      problems.push(`${where}: no schema ${url} among the fixtures`);
      return;
    }
    if (!validate(value))
      for (const e of validate.errors ?? []) problems.push(`${where}${e.instancePath} ${e.message ?? ''}`);
  };
  const record = event as { schemaURL?: string };
  check('https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent', event, 'event');
  if (record.schemaURL !== 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent')
    problems.push(`event: schemaURL ${String(record.schemaURL)}`);
  const facets = (owner: unknown, where: string) => {
    const all = (owner as { facets?: Record<string, { _schemaURL?: string }> } | undefined)?.facets ?? {};
    for (const [name, facet] of Object.entries(all))
      check(facet._schemaURL ?? '', facet, `${where}.facets.${name}`);
  };
  const e = event as { run?: unknown; job?: unknown; inputs?: unknown[]; outputs?: unknown[] };
  facets(e.run, 'run');
  facets(e.job, 'job');
  (e.inputs ?? []).forEach((d, i) => facets(d, `inputs[${i}]`));
  (e.outputs ?? []).forEach((d, i) => facets(d, `outputs[${i}]`));
  return problems;
}
