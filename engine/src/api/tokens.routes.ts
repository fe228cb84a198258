// API tokens: listed without their secret, created (the token is shown once), deleted. Only a
// token with `admin` on every project manages tokens.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';
import { SCOPES } from '../store/tokens.store.js';
import { notFound } from './problem.js';
import { route } from './route.js';
import { page } from './schemas.js';

const scopeEntry = z.string().refine(
  (s) => {
    const [scope, project, ...rest] = s.split(':');
    return (
      rest.length === 0 &&
      (SCOPES as readonly string[]).includes(scope!) &&
      (project === undefined || slug.safeParse(project).success)
    );
  },
  `must be one of ${SCOPES.join(', ')}, optionally limited to one project as "<scope>:<project>"`,
);

const TokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  projects: z.array(z.string()).nullable(),
  expiresAt: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});

const NewToken = z.strictObject({
  name: z.string().min(1).max(200),
  scopes: z.array(scopeEntry).min(1).max(20),
  projects: z
    .array(slug)
    .min(1)
    .max(100)
    .optional()
    .meta({ description: 'Limits the unqualified scopes to these projects' }),
  expiresAt: z.iso
    .datetime({ offset: true })
    .refine((t) => Date.parse(t) > Date.now(), 'must be in the future')
    .optional(),
});

export const tokenRoutes = [
  route({
    method: 'get',
    path: '/tokens',
    operationId: 'listTokens',
    summary: 'API tokens (never the token itself)',
    tag: 'tokens',
    scope: 'admin',
    allProjects: true,
    responses: { 200: { description: 'The tokens', schema: page(TokenSchema) } },
    async handler({ deps, res }) {
      res.json({ items: await deps.tokens.list(), nextCursor: null });
    },
  }),
  route({
    method: 'post',
    path: '/tokens',
    operationId: 'createToken',
    summary: 'Create an API token; the token is in this response only',
    tag: 'tokens',
    scope: 'admin',
    allProjects: true,
    body: NewToken,
    responses: { 201: { description: 'Created', schema: TokenSchema.extend({ token: z.string() }) } },
    async handler({ deps, body, actor, res }) {
      const { token, record } = await deps.tokens.create({ ...body, createdBy: actor });
      await deps.audit.record({
        actor,
        project: null,
        action: 'token.created',
        target: `token:${record.id}`,
        summary: {
          name: record.name,
          scopes: record.scopes,
          projects: record.projects,
          expiresAt: record.expiresAt,
        },
      });
      res.status(201).json({ ...record, token });
    },
  }),
  route({
    method: 'delete',
    path: '/tokens/:tokenId',
    operationId: 'deleteToken',
    summary: 'Revoke an API token',
    tag: 'tokens',
    scope: 'admin',
    allProjects: true,
    params: z.object({ tokenId: z.string().min(1).max(100) }),
    responses: { 204: { description: 'Revoked' } },
    async handler({ deps, params, actor, res }) {
      // Read first: once deleted, the entry is the only place the token's name is kept.
      const revoked = await deps.tokens.get(params.tokenId);
      if (!revoked || !(await deps.tokens.delete(params.tokenId)))
        throw notFound(`Token "${params.tokenId}"`);
      await deps.audit.record({
        actor,
        project: null,
        action: 'token.revoked',
        target: `token:${revoked.id}`,
        summary: { name: revoked.name },
      });
      res.status(204).end();
    },
  }),
];
