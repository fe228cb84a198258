// Python connectors' spec and discover, for the builder: the spec becomes the node's form (fields
// the connector marks secret become project secret pickers), discover lists the streams to pick.
// Both run on a worker; a call waits a few seconds and otherwise answers 202 with the environment
// build's progress and a probe id to ask again with.
import { z } from 'zod';
import { ConnectorProbes, type ProbeAnswer } from '../connectors/connector-probes.js';
import type { ApiContext } from './context.js';
import { route } from './route.js';
import { ProjectParams } from './schemas.js';

const Type = z
  .string()
  .max(100)
  .describe('The node type: one whose entry in GET /api/connectors has a `probe`');
const Package = z
  .string()
  .min(1)
  .max(200)
  .describe("The connector on the package index, pinned, as its type's `probe.packagePattern` says");
const Command = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/)
  .optional()
  .describe("A Singer tap's command, when it is not the package name");
const Wait = z.coerce
  .number()
  .int()
  .min(0)
  .max(25_000)
  .default(5_000)
  .describe('How long to wait for the answer before answering 202 (ms)');

const SpecBody = z.strictObject({ type: Type, package: Package, command: Command });
const DiscoverBody = z.strictObject({
  type: Type,
  package: Package,
  command: Command,
  requirements: z.array(z.string().max(200)).max(50).optional(),
  config: z.record(z.string(), z.unknown()).default({}).describe("The node's plain config"),
  secrets: z
    .record(z.string(), z.string().min(1).max(128))
    .default({})
    .describe('Secret fields (dotted path) → project secret names; resolved on the worker only'),
  network: z.boolean().default(false),
  files: z.string().max(500).optional(),
});

const Spec = z.object({
  schema: z.record(z.string(), z.unknown()).nullable().meta({
    description: "The connector's connection specification (JSON Schema); null when it offers none",
  }),
  secretFields: z.array(z.string()).meta({
    description: 'Dotted paths of the fields it marks secret: they take project secret names, never values',
  }),
  note: z.string().optional(),
});
const Stream = z.object({
  name: z.string(),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  syncModes: z.array(z.enum(['full_refresh', 'incremental'])),
  sourceDefinedCursor: z.boolean(),
  defaultCursorField: z.array(z.string()),
  replicationKeys: z
    .array(z.string())
    .optional()
    .meta({ description: "A Singer stream's valid replication keys, when its catalog lists more than one" }),
});
const Answer = z.object({
  status: z.enum(['ready', 'running']),
  probe: z.string().meta({ description: 'Ask again with GET …/connector-probes/{probe}' }),
  spec: Spec.optional(),
  streams: z.array(Stream).optional(),
  progress: z
    .object({ phase: z.string(), message: z.string().optional(), lines: z.number().optional() })
    .nullable()
    .optional()
    .meta({ description: "While running: the environment build's last line, or the phase (spec, discover)" }),
});

const probes = new WeakMap<ApiContext, ConnectorProbes>();
const probesOf = (deps: ApiContext) => {
  let p = probes.get(deps);
  if (!p) probes.set(deps, (p = new ConnectorProbes(deps.temporal, deps.pool, deps.taskQueue, deps.catalog)));
  return p;
};

const send = (res: { status(code: number): { json(body: unknown): void } }, answer: ProbeAnswer) =>
  res.status(answer.status === 'ready' ? 200 : 202).json(answer);

const responses = {
  200: { description: 'The answer', schema: Answer },
  202: {
    description: 'Still running (the environment is being built): ask again by probe id',
    schema: Answer,
  },
};

export const connectorRoutes = [
  route({
    method: 'post',
    path: '/projects/:project/connectors/spec',
    operationId: 'connectorSpec',
    summary: "A Python connector's connection specification (its node form)",
    description:
      'Builds the environment on a worker if needed and runs `spec` (Airbyte) or `--about` (Singer). Cached per package and version.',
    tag: 'connectors',
    scope: 'write',
    params: ProjectParams,
    query: z.object({ wait: Wait }),
    body: SpecBody,
    responses,
    async handler({ deps, params, query, body, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      send(res, await probesOf(deps).spec(params.project, body, query.wait));
    },
  }),
  route({
    method: 'post',
    path: '/projects/:project/connectors/discover',
    operationId: 'connectorDiscover',
    summary: 'The streams a Python connector offers with this config, with their columns',
    description:
      "Runs `discover` in the sandbox of a worker with the node's config; secret fields name project secrets, resolved on the worker and never returned.",
    tag: 'connectors',
    scope: 'write',
    params: ProjectParams,
    query: z.object({ wait: Wait }),
    body: DiscoverBody,
    responses,
    async handler({ deps, params, query, body, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      send(res, await probesOf(deps).discover(params.project, body, query.wait));
    },
  }),
  route({
    method: 'get',
    path: '/projects/:project/connector-probes/:probe',
    operationId: 'getConnectorProbe',
    summary: 'A spec or discover probe asked again',
    tag: 'connectors',
    scope: 'write',
    params: ProjectParams.extend({ probe: z.string().max(300) }),
    query: z.object({ wait: Wait }),
    responses,
    async handler({ deps, params, query, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      send(res, await probesOf(deps).get(params.project, params.probe, query.wait));
    },
  }),
];
