// A project's files folder over HTTP: list it, and upload a file into it (what a template's source
// reads). Bad paths and files too large are a 400 naming `path` or `content`; another project's
// token gets 403; a project that does not exist, 404.
import { z } from 'zod';
import { FilePathError, listProjectFiles, MAX_FILE_BYTES, putProjectFile } from '../files/project-files.js';
import { HttpProblem } from './problem.js';
import { route } from './route.js';
import { ProjectParams } from './schemas.js';

const FileSchema = z.object({
  path: z.string().meta({ description: "Relative to the project's files folder, as a file source's `path`" }),
  bytes: z.number().int(),
  modifiedAt: z.string(),
});

const Upload = z.strictObject({
  path: z
    .string()
    .min(1)
    .max(300)
    .meta({ description: "Where in the project's files folder, e.g. `orders.csv`" }),
  content: z.string().meta({ description: `The file's content (at most ${MAX_FILE_BYTES} bytes)` }),
  encoding: z
    .enum(['utf8', 'base64'])
    .default('utf8')
    .meta({ description: '`utf8` for text (CSV, JSON), `base64` for anything else' }),
});

const noFolder = () =>
  new HttpProblem(503, 'Service Unavailable', 'This server has no files folder (TRIBUTARY_DATA_DIR)');

export const fileRoutes = [
  route({
    method: 'get',
    path: '/projects/:project/files',
    operationId: 'listProjectFiles',
    summary: "The files in a project's files folder",
    description: 'What file sources of the project can read (`path` as their config names it).',
    tag: 'projects',
    scope: 'read',
    params: ProjectParams,
    responses: {
      200: { description: 'The files, by path', schema: z.object({ items: z.array(FileSchema) }) },
    },
    problems: [503],
    async handler({ deps, params, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      if (!deps.dataDir) throw noFolder();
      res.json({ items: await listProjectFiles(deps.dataDir, params.project) });
    },
  }),
  route({
    method: 'post',
    path: '/projects/:project/files',
    operationId: 'uploadProjectFile',
    summary: "Puts a file into a project's files folder",
    description:
      `Replaces a file of the same path. The path is relative, of plain names, at most 4 folders deep; the ` +
      `content at most ${MAX_FILE_BYTES} bytes. Recorded in the audit log (\`project.file_uploaded\`).`,
    tag: 'projects',
    scope: 'write',
    params: ProjectParams,
    body: Upload,
    responses: { 201: { description: 'Written', schema: FileSchema } },
    problems: [503],
    async handler({ deps, params, body, actor, authorize, res }) {
      authorize(params.project);
      await deps.projects.require(params.project);
      if (!deps.dataDir) throw noFolder();
      const content = Buffer.from(body.content, body.encoding === 'base64' ? 'base64' : 'utf8');
      let written;
      try {
        written = await putProjectFile(deps.dataDir, params.project, body.path, content);
      } catch (error) {
        if (!(error instanceof FilePathError)) throw error;
        const field = error.message.includes('bytes') ? 'content' : 'path';
        throw new HttpProblem(400, 'Bad Request', `${field}: ${error.message}`, [
          { in: 'body', path: field, message: `${field}: ${error.message}` },
        ]);
      }
      await deps.audit.record({
        actor,
        project: params.project,
        action: 'project.file_uploaded',
        target: `file:${params.project}/${written.path}`,
        summary: { path: written.path, bytes: written.bytes },
      });
      res.status(201).json(written);
    },
  }),
];
