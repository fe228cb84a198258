// The OpenAPI 3.1 document, generated from the route table and its zod schemas (JSON Schema
// 2020-12 is OpenAPI 3.1's schema dialect), so the document is the code's own description.
import { z } from 'zod';
import { scopesOf, type AnyRoute } from './route.js';
import { ProblemSchema } from './schemas.js';

type JsonSchema = Record<string, unknown>;
export type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string; description: string };
  servers: { url: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
  security: Record<string, string[]>[];
  tags: { name: string }[];
};
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  'x-tributary-scope': string;
  security: Record<string, string[]>[];
  parameters: {
    name: string;
    in: 'path' | 'query' | 'header';
    required: boolean;
    description?: string;
    schema: JsonSchema;
  }[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema?: JsonSchema }> }>;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input: `errors[]` names each field (and node) at fault',
  401: 'Missing, unknown or expired token',
  403: 'The token lacks the scope (or the project)',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request body larger than 1 MB',
  415: 'Request body is not JSON',
  429: 'Rate limited: see Retry-After',
  503: 'Not available',
};

export const openApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z_]\w*)/g, '{$1}');

/** Converts a zod schema; nested `$defs` move to components so that references still resolve. */
function converter(components: Record<string, JsonSchema>) {
  return (schema: z.ZodType, io: 'input' | 'output', prefix: string): JsonSchema => {
    const json = z.toJSONSchema(schema, {
      io,
      unrepresentable: 'any',
      target: 'draft-2020-12',
    }) as JsonSchema;
    delete json.$schema;
    const defs = json.$defs as Record<string, JsonSchema> | undefined;
    delete json.$defs;
    const rename = (name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const rewrite = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rewrite);
      if (!node || typeof node !== 'object') return node;
      return Object.fromEntries(
        Object.entries(node).map(([k, v]) => [
          k,
          k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
            ? `#/components/schemas/${rename(v.slice('#/$defs/'.length))}`
            : rewrite(v),
        ]),
      );
    };
    for (const [name, def] of Object.entries(defs ?? {}))
      components[rename(name)] = rewrite(def) as JsonSchema;
    return rewrite(json) as JsonSchema;
  };
}

function shapeOf(schema: z.ZodType | undefined): Record<string, z.ZodType> {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
}

const headerName = (key: string) =>
  key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

function parameters(route: AnyRoute, convert: ReturnType<typeof converter>): OpenApiOperation['parameters'] {
  const result: OpenApiOperation['parameters'] = [];
  const pathShape = shapeOf(route.params);
  for (const [, name] of route.path.matchAll(/:([A-Za-z_]\w*)/g)) {
    const schema = pathShape[name!];
    result.push({
      name: name!,
      in: 'path',
      required: true,
      schema: schema ? convert(schema, 'input', route.operationId) : { type: 'string' },
    });
  }
  const others: ['query' | 'header', Record<string, z.ZodType>][] = [
    ['query', shapeOf(route.query)],
    ['header', shapeOf(route.headers)],
  ];
  for (const [location, shape] of others) {
    for (const [name, schema] of Object.entries(shape)) {
      const json = convert(schema, 'input', route.operationId);
      const description = typeof json.description === 'string' ? json.description : undefined;
      delete json.description;
      result.push({
        name: location === 'header' ? headerName(name) : name,
        in: location,
        required: !schema.safeParse(undefined).success,
        ...(description ? { description } : {}),
        schema: json,
      });
    }
  }
  return result;
}

export function openApiDocument(routes: readonly AnyRoute[], version: string): OpenApiDocument {
  const components: Record<string, JsonSchema> = {};
  const convert = converter(components);
  components.Problem = convert(ProblemSchema, 'output', 'Problem');
  const problem = (status: number) => ({
    description: STATUS_TEXT[status] ?? 'Error',
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  });

  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const responses: OpenApiOperation['responses'] = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.schema
          ? {
              content: {
                [spec.contentType ?? 'application/json']: {
                  schema: convert(spec.schema, 'output', `${route.operationId}_${status}`),
                },
                ...Object.fromEntries((spec.alternateContentTypes ?? []).map((type) => [type, {}])),
              },
            }
          : {}),
      };
    }
    const implied = new Set(route.problems ?? []);
    if (route.params || route.query || route.body || route.headers) implied.add(400);
    if (route.body) implied.add(415);
    if (route.scope) [401, 403].forEach((s) => implied.add(s));
    if (route.path.includes(':')) implied.add(404);
    for (const status of [...implied].sort()) responses[String(status)] = problem(status);

    const scopes = scopesOf(route).map((s) => `\`${s}\``);
    const scopeText = route.scope
      ? `Needs the ${scopes.join(' and ')} scope${scopes.length > 1 ? 's' : ''}${route.allProjects ? ' on every project' : ''}.`
      : 'Public: no token needed.';
    const operation: OpenApiOperation = {
      operationId: route.operationId,
      summary: route.summary,
      description: [route.description, scopeText].filter(Boolean).join('\n\n'),
      tags: [route.tag],
      'x-tributary-scope': route.scope ?? 'public',
      security: route.scope ? [{ bearerAuth: [] }] : [],
      parameters: parameters(route, convert),
      responses,
    };
    if (route.body) {
      operation.requestBody = {
        required: !route.body.safeParse(undefined).success,
        content: {
          'application/json': { schema: convert(route.body, 'input', `${route.operationId}_body`) },
        },
      };
    }
    (paths[openApiPath(route.path)] ??= {})[route.method] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Tributary API',
      version,
      description:
        'Projects, pipelines (immutable versions), runs, schedules, webhooks, secrets and tokens. ' +
        'Send `Authorization: Bearer <token>`; the first start prints an admin token and writes it to ' +
        '`$TRIBUTARY_HOME/admin-token`. Errors are RFC 9457 `application/problem+json`.',
    },
    servers: [{ url: '/api' }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (`trb_<id>_<secret>`)' },
      },
    },
    security: [{ bearerAuth: [] }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
  };
}
