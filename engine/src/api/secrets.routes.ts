// Project secrets: names and dates can be listed; values are write-only and never returned.
import { z } from 'zod';
import type { SecretStore } from '../store/secrets.store.js';
import type { ApiContext } from './context.js';
import { HttpProblem, notFound } from './problem.js';
import { route } from './route.js';
import { page, ProjectParams } from './schemas.js';

const SecretInfoSchema = z.object({
  name: z.string(),
  allowedHosts: z.array(z.string()).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const AllowedHost = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/,
    'must be a host name such as api.example.com or *.example.com',
  )
  .transform((host) => host.toLowerCase());
const SecretParams = ProjectParams.extend({
  name: z
    .string()
    .regex(
      /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/,
      'must start with a letter or "_" and use letters, digits, "_", "-", "."',
    ),
});

function store(deps: ApiContext): SecretStore {
  if (!deps.secrets)
    throw new HttpProblem(503, 'Service Unavailable', 'Secrets are not configured (no master key)');
  return deps.secrets;
}

export const secretRoutes = [
  route({
    method: 'get',
    path: '/projects/:project/secrets',
    operationId: 'listSecrets',
    summary: "A project's secret names and dates (never values)",
    tag: 'secrets',
    scope: 'read',
    params: ProjectParams,
    responses: {
      200: { description: 'The secrets', schema: page(SecretInfoSchema) },
    },
    problems: [503],
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      res.json({ items: await store(deps).list(params.project), nextCursor: null });
    },
  }),
  route({
    method: 'put',
    path: '/projects/:project/secrets/:name',
    operationId: 'putSecret',
    summary: 'Set a secret (write-only)',
    description: 'Encrypted with AES-256-GCM under the master key; the value is never returned.',
    tag: 'secrets',
    scope: 'write',
    params: SecretParams,
    body: z.strictObject({
      value: z.string().min(1).max(65_536),
      allowedHosts: z
        .array(AllowedHost)
        .min(1)
        .max(100)
        .optional()
        .describe('Hosts connectors may send the value to; any host when absent'),
    }),
    responses: { 200: { description: 'Stored; name and dates only', schema: SecretInfoSchema } },
    problems: [503],
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      const secrets = store(deps);
      await secrets.set(params.project, params.name, body.value, body.allowedHosts ?? null);
      await deps.audit.record({
        actor,
        project: params.project,
        action: 'secret.set',
        target: `secret:${params.project}/${params.name}`,
        summary: { name: params.name, ...(body.allowedHosts ? { allowedHosts: body.allowedHosts } : {}) },
      });
      const info = (await secrets.list(params.project)).find((s) => s.name === params.name)!;
      res.json(info);
    },
  }),
  route({
    method: 'delete',
    path: '/projects/:project/secrets/:name',
    operationId: 'deleteSecret',
    summary: 'Delete a secret',
    tag: 'secrets',
    scope: 'write',
    params: SecretParams,
    responses: { 204: { description: 'Deleted' } },
    problems: [503],
    async handler({ deps, params, actor, authorize, res }) {
      authorize(params.project);
      if (!(await store(deps).delete(params.project, params.name)))
        throw notFound(`Secret "${params.name}" of project "${params.project}"`);
      await deps.audit.record({
        actor,
        project: params.project,
        action: 'secret.deleted',
        target: `secret:${params.project}/${params.name}`,
        summary: { name: params.name },
      });
      res.status(204).end();
    },
  }),
];
