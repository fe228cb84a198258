// Projects: list, create, read, update. A project-limited token sees only its projects.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';
import { projectsWith } from './auth.js';
import { route } from './route.js';
import { page, ProjectParams } from './schemas.js';

const owners = z.array(z.string().min(1).max(200)).max(50);

const ProjectSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  owners: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const NewProject = z.strictObject({
  id: slug,
  name: z.string().min(1).max(200),
  description: z.string().max(5000).optional(),
  owners: owners.optional(),
});

const ProjectPatch = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(5000).nullable().optional(),
    owners: owners.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'give at least one field to change: name, description or owners');

export const projectRoutes = [
  route({
    method: 'get',
    path: '/projects',
    operationId: 'listProjects',
    summary: 'Projects the token can read',
    tag: 'projects',
    scope: 'read',
    responses: {
      200: { description: 'Projects, by id', schema: page(ProjectSchema) },
    },
    async handler({ deps, principal, res }) {
      res.json({ items: await deps.projects.list(projectsWith(principal!.token, 'read')), nextCursor: null });
    },
  }),
  route({
    method: 'post',
    path: '/projects',
    operationId: 'createProject',
    summary: 'Create a project',
    tag: 'projects',
    scope: 'write',
    body: NewProject,
    responses: { 201: { description: 'Created', schema: ProjectSchema } },
    problems: [409],
    async handler({ deps, body, actor, authorize, res }) {
      authorize(body.id);
      const project = await deps.projects.create(body);
      await deps.audit.record({
        actor,
        project: project.id,
        action: 'project.created',
        target: `project:${project.id}`,
        summary: { name: project.name },
      });
      res.status(201).location(`/api/projects/${project.id}`).json(project);
    },
  }),
  route({
    method: 'get',
    path: '/projects/:project',
    operationId: 'getProject',
    summary: 'A project',
    tag: 'projects',
    scope: 'read',
    params: ProjectParams,
    responses: { 200: { description: 'The project', schema: ProjectSchema } },
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      res.json(await deps.projects.require(params.project));
    },
  }),
  route({
    method: 'patch',
    path: '/projects/:project',
    operationId: 'updateProject',
    summary: "Change a project's name, description or owners",
    tag: 'projects',
    scope: 'write',
    params: ProjectParams,
    body: ProjectPatch,
    responses: { 200: { description: 'The updated project', schema: ProjectSchema } },
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      const project = await deps.projects.update(params.project, body);
      await deps.audit.record({
        actor,
        project: project.id,
        action: 'project.changed',
        target: `project:${project.id}`,
        summary: { fields: Object.keys(body) },
      });
      res.json(project);
    },
  }),
];
