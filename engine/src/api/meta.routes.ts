// The API's description of itself (OpenAPI document, docs page) and the node-type catalogue.
import type { NodeTypeDeclaration } from '@tributary/activities';
import { z } from 'zod';
import { pipelineJsonSchema } from '../model/pipeline.schema.js';
import { docsPage } from './docs.js';
import { openApiDocument, type OpenApiDocument } from './openapi.js';
import { route, type AnyRoute } from './route.js';
import { page } from './schemas.js';

const ConnectorSchema = z.object({
  type: z.string(),
  kind: z.enum(['source', 'transform', 'sink']),
  title: z.string(),
  description: z.string(),
  icon: z.string(),
  category: z.string().meta({ description: "The palette's group within the kind" }),
  inputs: z.object({ min: z.number().int(), max: z.number().int().nullable() }),
  config: z.record(z.string(), z.unknown()).meta({
    description:
      "JSON Schema of the node's config; `x-widget` on a field says how to edit it (secret, sql, python, path, table, product); `x-initial` is the value a node added in the builder starts with; `x-option-notes` warns about an enum option",
  }),
  secrets: z.array(z.string()).meta({
    description: 'The config fields (dotted paths) whose value names a secret of the project',
  }),
  view: z
    .object({
      rows: z.enum(['output', 'input']).meta({
        description:
          'The rows its data view shows: its output, or (a sink, which has none) the rows it was handed',
      }),
      target: z.boolean().meta({
        description:
          'Whether it publishes into a warehouse table that GET …/nodes/{nodeId}/target reads back',
      }),
    })
    .meta({ description: "What the editor's data view of such a node shows" }),
  routes: z
    .object({
      list: z.object({ field: z.string(), key: z.string() }).optional(),
      outputs: z.array(z.string()),
    })
    .nullable()
    .meta({
      description:
        "A deciding node's outputs (each outgoing edge names one): the `key` of each item of the config's `list.field`, then `outputs`; null for other nodes. Every node also has the `failure` output.",
    }),
  conditionFacts: z
    .record(z.string(), z.object({ type: z.string(), values: z.array(z.string()).optional() }))
    .meta({
      description: 'Facts its steps offer to conditions downstream, besides status, rowsIn, rowsOut, error',
    }),
  probe: z
    .object({
      packagePattern: z.string().meta({ description: 'A pinned package of this connector (RegExp source)' }),
      packageHint: z.string(),
      packageExample: z.string(),
      streams: z.enum(['many', 'one']).meta({ description: 'Whether a node picks several streams or one' }),
    })
    .nullable()
    .meta({
      description:
        'A connector from a package index whose spec (POST …/connectors/spec) and streams (…/discover) can be asked before it runs; null for others',
    }),
});

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
} & Record<string, unknown>;

/** The fields marked `x-widget: secret`, through nested objects and variants (`auth.secret`). */
function secretFields(schema: JsonSchema, prefix = ''): string[] {
  const own = Object.entries(schema.properties ?? {}).flatMap(([key, field]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return field['x-widget'] === 'secret' ? [path] : secretFields(field, path);
  });
  const variants = [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].flatMap((v) => secretFields(v, prefix));
  return [...new Set([...own, ...variants])];
}

/** Built once per catalogue: declarations do not change while the process runs. */
const connectorLists = new WeakMap<readonly NodeTypeDeclaration[], z.infer<typeof ConnectorSchema>[]>();
function connectorList(declarations: readonly NodeTypeDeclaration[]) {
  let connectors = connectorLists.get(declarations);
  connectors ??= declarations.map((d) => {
    const config = z.toJSONSchema(d.config, { io: 'input', unrepresentable: 'any' }) as Record<
      string,
      unknown
    >;
    delete config.$schema;
    return {
      type: d.type,
      kind: d.kind,
      title: d.title,
      description: d.description,
      icon: d.icon,
      category: d.category,
      inputs: d.inputs,
      config,
      secrets: secretFields(config as JsonSchema),
      view: { rows: d.kind === 'sink' ? ('input' as const) : ('output' as const), target: !!d.target },
      routes: d.routes ?? null,
      probe: d.probe
        ? {
            packagePattern: d.probe.packagePattern,
            packageHint: d.probe.packageHint,
            packageExample: d.probe.packageExample,
            streams: d.probe.streams,
          }
        : null,
      conditionFacts: Object.fromEntries(
        Object.entries(d.conditionFacts ?? {}).map(([name, f]) => [
          name,
          { type: f.type, ...(f.values ? { values: [...f.values] } : {}) },
        ]),
      ),
    };
  });
  connectorLists.set(declarations, connectors);
  return connectors;
}

/** The document is built once per route list: the table does not change while the process runs. */
const documents = new WeakMap<readonly AnyRoute[], OpenApiDocument>();
export function documentFor(routes: readonly AnyRoute[], version: string): OpenApiDocument {
  let document = documents.get(routes);
  if (!document) {
    document = openApiDocument(routes, version);
    documents.set(routes, document);
  }
  return document;
}

/** `routes` is the whole table, so the document describes every route, these included. */
export function metaRoutes(routes: () => readonly AnyRoute[]): AnyRoute[] {
  return [
    route({
      method: 'get',
      path: '/openapi.json',
      operationId: 'getOpenApi',
      summary: 'This OpenAPI 3.1 document',
      tag: 'meta',
      scope: null,
      responses: { 200: { description: 'The document', schema: z.record(z.string(), z.unknown()) } },
      handler({ deps, res }) {
        res.json(documentFor(routes(), deps.version));
      },
    }),
    route({
      method: 'get',
      path: '/docs',
      operationId: 'getDocs',
      summary: 'Human-readable API reference',
      tag: 'meta',
      scope: null,
      responses: { 200: { description: 'An HTML page', schema: z.string(), contentType: 'text/html' } },
      handler({ deps, res }) {
        res.type('html').send(docsPage(documentFor(routes(), deps.version)));
      },
    }),
    route({
      method: 'get',
      path: '/schemas/pipeline',
      operationId: 'getPipelineSchema',
      summary: 'JSON Schema of the pipeline document',
      tag: 'meta',
      scope: null,
      responses: { 200: { description: 'JSON Schema', schema: z.record(z.string(), z.unknown()) } },
      handler({ res }) {
        res.json(pipelineJsonSchema());
      },
    }),
    route({
      method: 'get',
      path: '/connectors',
      operationId: 'listConnectors',
      summary: 'Node types: sources, transforms and sinks, with the JSON Schema of their config',
      tag: 'connectors',
      scope: 'read',
      responses: { 200: { description: 'Every registered node type', schema: page(ConnectorSchema) } },
      handler({ deps, res }) {
        res.json({ items: connectorList(deps.catalog.list()), nextCursor: null });
      },
    }),
  ];
}
