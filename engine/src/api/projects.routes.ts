// Projects: list, create, read, update. A project-limited token sees only its projects.
import { z } from 'zod';
import { slug } from '../model/pipeline.schema.js';
import { createProject, updateProject } from '../projects/project-domain.js';
import { projectsWith } from './auth.js';
import { route } from './route.js';
import { page, ProjectParams } from './schemas.js';

const owners = z.array(z.string().min(1).max(200)).max(50);
const schemas = z
  .array(z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lowercase identifier (letters, digits, "_")'))
  .max(100)
  .describe('Warehouse schemas the project owns besides its own name and its `<id>_…` schemas');

const ProjectSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  owners: z.array(z.string()),
  schemas: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const NewProject = z.strictObject({
  id: slug,
  name: z.string().min(1).max(200),
  description: z.string().max(5000).optional(),
  owners: owners.optional(),
  schemas: schemas.optional(),
});

const ProjectPatch = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    description: z.string().max(5000).nullable().optional(),
    owners: owners.optional(),
    schemas: schemas.optional(),
  })
  .refine(
    (p) => Object.keys(p).length > 0,
    'give at least one field to change: name, description, owners or schemas',
  );

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
      const project = await createProject(deps.projects, deps.warehousePool, body);
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
      // Which schemas a project owns decides what its pipelines can touch: that is the admin's call.
      if (body.schemas) authorize(params.project, 'admin');
      const project = await updateProject(deps.projects, deps.warehousePool, params.project, body);
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
