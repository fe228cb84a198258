// Every response an API test receives is checked against the schema its route declares (the
// OpenAPI document the route table builds, the one the builder's types are generated from): a body
// that does not match, or a success status the route does not declare, fails the test that got it.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { apiRoutes } from '../../src/api/routes.js';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

/** A JSON pointer token inside a URI fragment. */
const token = (s: string) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));

export function responseContract() {
  const document = openApiDocument(apiRoutes, 'test');
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true, validateSchema: false });
  ajv.addSchema(document as object, 'openapi');
  const operations = Object.entries(document.paths as Record<string, Record<string, Operation>>)
    .map(([template, methods]) => ({
      template,
      params: (template.match(/\{/g) ?? []).length,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      methods,
    }))
    // A literal segment wins over a parameter (`/pipelines/validate` before `/pipelines/{id}`).
    .sort((a, b) => a.params - b.params);
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  const validator = (ref: string) => {
    let validate = validators.get(ref);
    if (!validate) validators.set(ref, (validate = ajv.compile({ $ref: ref })));
    return validate;
  };

  /** Throws when a response does not match what its route declares; silent for other paths. */
  return function check(method: string, url: string, status: number, contentType: string, body: unknown) {
    const path = new URL(url, 'http://x').pathname;
    if (!path.startsWith('/api/')) return;
    const apiPath = path.slice('/api'.length);
    const found = operations.find((o) => o.pattern.test(apiPath) && o.methods[method.toLowerCase()]);
    if (!found) return; // No such route: the app's own 404, which the tests check themselves.
    const operation = found.methods[method.toLowerCase()]!;
    const type = contentType.split(';')[0]!.trim();
    const where = `${method} ${found.template} → ${status}`;
    const response = operation.responses[String(status)];
    const declared = response?.content?.[type];
    if (type === 'application/problem+json' && !declared) {
      // Every error is a Problem, also of a status the route does not list (413, 429, 503).
      const problem = validator('openapi#/components/schemas/Problem');
      if (!problem(body)) throw new Error(`${where}: not a Problem: ${ajv.errorsText(problem.errors)}`);
      return;
    }
    if (!response) throw new Error(`${where}: the route declares no ${status} response`);
    if (!/json/.test(type) || body === '') return;
    if (!declared) throw new Error(`${where}: the route declares no ${type} body for ${status}`);
    if (!declared.schema) return;
    const ref = `openapi#/paths/${token(found.template)}/${method.toLowerCase()}/responses/${status}/content/${token(type)}/schema`;
    const validate = validator(ref);
    if (!validate(body)) {
      throw new Error(
        `${where}: the body does not match its declared schema: ${ajv.errorsText(validate.errors)}\n` +
          JSON.stringify(body).slice(0, 2000),
      );
    }
  };
}
