// The MCP server: tools, resources and a prompt over Tributary's REST API, so an agent can search
// the catalog, look up connectors and templates, validate a pipeline before it is saved, save a
// draft, run it (with progress), read what failed, follow lineage and preview a step's rows. Every
// tool calls the API with the caller's token (see api-caller.ts): no tool reaches further than the
// token does through the API, and publishing takes its own tool call.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ApiCaller, ApiReply } from './api-caller.js';

export interface ToolCallRecord {
  tool: string;
  /** The project acted on, when the call named one (or its pipeline or run did). */
  project: string | null;
  ok: boolean;
  /** The API status of the call that decided the outcome. */
  status: number;
  target: string | undefined;
}

export interface McpServerOptions {
  api: ApiCaller;
  version: string;
  /** Called once per tool call, after it ends (the audit entry). */
  onToolCall?: (record: ToolCallRecord) => Promise<void>;
  /** How often a waiting run is polled; default 500 ms. */
  pollMs?: number;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const RUN_WAIT_MAX_S = 600;
const PREVIEW_MAX_ROWS = 100;

const Document = z
  .record(z.string(), z.unknown())
  .describe(
    'A pipeline document: { apiVersion: "tributary/v1", id, name, project, nodes: [{ id, type, config }], edges: [{ from, to }] } (GET /api/schemas/pipeline has its JSON Schema)',
  );

type Reply = ApiReply & { body: Record<string, unknown> };

/** A tool's answer: the API's JSON as structured content, and the same as text for older clients. */
function result(structured: Record<string, unknown>, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(structured, null, 2) }],
    structuredContent: structured,
    ...(isError ? { isError: true } : {}),
  };
}

/** A problem the API answered, as a tool error that keeps the problem's fields (detail, errors[]). */
const problem = (reply: ApiReply): CallToolResult =>
  result({ status: reply.status, problem: reply.body as Record<string, unknown> }, true);

const ok = (reply: ApiReply) => reply.status >= 200 && reply.status < 300;
const enc = encodeURIComponent;

export function createMcpServer(options: McpServerOptions): McpServer {
  const { api } = options;
  const pollMs = options.pollMs ?? 500;
  const server = new McpServer(
    { name: 'tributary', version: options.version },
    {
      instructions:
        'Tributary builds data pipelines as graph documents (sources → SQL transforms → sinks). Validate a ' +
        'document before saving it, save it as a draft, run the draft, read the failed steps, fix and run ' +
        'again; publish only when asked to. Tools act with your API token: a 403 means the token may not.',
    },
  );

  /** Registers a tool whose calls are recorded, whatever their outcome. */
  const tool = <Shape extends z.ZodRawShape>(
    name: string,
    config: { title: string; description: string; input: Shape; readOnly?: boolean },
    run: (
      args: z.infer<z.ZodObject<Shape>>,
      extra: Extra,
      note: { project?: string; target?: string; status?: number },
    ) => Promise<CallToolResult>,
  ) => {
    server.registerTool(
      name,
      {
        title: config.title,
        description: config.description,
        inputSchema: config.input,
        annotations: { readOnlyHint: config.readOnly ?? false, openWorldHint: false },
      },
      // The SDK types the callback by the shape; the cast keeps this helper generic.
      (async (args: z.infer<z.ZodObject<Shape>>, extra: Extra) => {
        const note: { project?: string; target?: string; status?: number } = {};
        let outcome: CallToolResult;
        try {
          outcome = await run(args, extra, note);
        } catch (error) {
          outcome = result({ error: error instanceof Error ? error.message : String(error) }, true);
          note.status ??= 500;
        }
        await options.onToolCall?.({
          tool: name,
          project: note.project ?? null,
          ok: !outcome.isError,
          status: note.status ?? (outcome.isError ? 400 : 200),
          target: note.target,
        });
        return outcome;
      }) as never,
    );
  };

  /** One API call whose reply is the tool's answer. */
  const call = async (
    note: { status?: number },
    method: Parameters<ApiCaller>[0],
    path: string,
    body?: unknown,
  ): Promise<Reply> => {
    const reply = (await api(method, path, body)) as Reply;
    note.status = reply.status;
    return reply;
  };

  tool(
    'search_catalog',
    {
      title: 'Search the data catalog',
      description: 'Data products (published tables) of the organisation, by text, tag or project.',
      input: {
        q: z.string().max(200).optional().describe('Words in the name, description or columns'),
        tag: z.string().max(63).optional(),
        project: z.string().max(63).optional(),
      },
      readOnly: true,
    },
    async (args, _extra, note) => {
      const query = new URLSearchParams(
        Object.entries(args).filter((e): e is [string, string] => typeof e[1] === 'string'),
      );
      const reply = await call(note, 'GET', `/catalog?${query}`);
      return ok(reply) ? result(reply.body) : problem(reply);
    },
  );

  tool(
    'list_connectors',
    {
      title: 'List connectors',
      description: 'Every node type (sources, transforms, sinks) with the JSON Schema of its config.',
      input: {},
      readOnly: true,
    },
    async (_args, _extra, note) => {
      const reply = await call(note, 'GET', '/connectors');
      return ok(reply) ? result(reply.body) : problem(reply);
    },
  );

  tool(
    'list_templates',
    {
      title: 'List templates',
      description: 'Pipeline templates with the schema of their values and params.',
      input: {},
      readOnly: true,
    },
    async (_args, _extra, note) => {
      const reply = await call(note, 'GET', '/templates');
      return ok(reply) ? result(reply.body) : problem(reply);
    },
  );

  tool(
    'validate_pipeline',
    {
      title: 'Validate a pipeline document',
      description:
        'Compiles a document without saving anything. `errors` name the node, the field (`path`) and, for ' +
        'SQL, the `line` and `column`, as the API gives them.',
      input: { document: Document },
      readOnly: true,
    },
    async ({ document }, _extra, note) => {
      note.project = typeof document.project === 'string' ? document.project : undefined;
      const reply = await call(note, 'POST', '/pipelines/validate', document);
      return ok(reply) ? result(reply.body) : problem(reply);
    },
  );

  tool(
    'save_draft',
    {
      title: 'Create or update a draft',
      description:
        "Saves the document as the pipeline's draft: no version is made and no schedule or webhook runs " +
        'it. A pipeline that does not exist yet is created only with `create: true` (its first save is ' +
        'its version 1, as in the editor). Publishing is the publish_draft tool.',
      input: {
        document: Document,
        create: z.boolean().optional().describe('Create the pipeline when it does not exist yet'),
      },
    },
    async ({ document, create }, _extra, note) => {
      const id = typeof document.id === 'string' ? document.id : '';
      note.project = typeof document.project === 'string' ? document.project : undefined;
      note.target = `pipeline:${id}`;
      if (!id) return result({ error: 'document.id: a pipeline document needs an id' }, true);
      const existing = await call(note, 'GET', `/pipelines/${enc(id)}`);
      if (existing.status === 404) {
        if (!create)
          return result(
            {
              error: `Pipeline "${id}" does not exist; call save_draft again with create: true to create it (version 1)`,
            },
            true,
          );
        const created = await call(note, 'POST', '/pipelines', document);
        return ok(created) ? result({ created: true, ...created.body }) : problem(created);
      }
      if (!ok(existing)) return problem(existing);
      const saved = await call(note, 'PUT', `/pipelines/${enc(id)}/draft`, document);
      return ok(saved) ? result({ created: false, ...saved.body }) : problem(saved);
    },
  );

  tool(
    'publish_draft',
    {
      title: 'Publish the draft',
      description:
        "Makes the pipeline's draft its next immutable version. Only when the user asked to publish.",
      input: {
        pipelineId: z.string().min(1).max(63),
        message: z.string().max(500).optional(),
      },
    },
    async ({ pipelineId, message }, _extra, note) => {
      note.target = `pipeline:${pipelineId}`;
      const reply = await call(
        note,
        'POST',
        `/pipelines/${enc(pipelineId)}/publish`,
        message ? { message } : {},
      );
      note.project = typeof reply.body?.project === 'string' ? reply.body.project : undefined;
      return ok(reply) ? result(reply.body) : problem(reply);
    },
  );

  tool(
    'run_pipeline',
    {
      title: 'Run a pipeline',
      description:
        'Starts a run of the draft (`draft: true`), of a version, or of the current version, and by default ' +
        'waits for it to finish, sending progress notifications per finished step. Answers the run with its ' +
        'failed steps and their errors.',
      input: {
        pipelineId: z.string().min(1).max(63),
        draft: z.boolean().optional(),
        version: z.number().int().min(1).optional(),
        params: z.record(z.string(), z.unknown()).optional(),
        wait: z.boolean().default(true),
        timeoutSeconds: z.number().int().min(1).max(RUN_WAIT_MAX_S).default(300),
      },
    },
    async (args, extra, note) => {
      note.target = `pipeline:${args.pipelineId}`;
      const started = await call(note, 'POST', `/pipelines/${enc(args.pipelineId)}/runs`, {
        ...(args.draft ? { draft: true } : {}),
        ...(args.version !== undefined ? { version: args.version } : {}),
        params: args.params ?? {},
      });
      if (!ok(started)) return problem(started);
      const runId = String(started.body.runId);
      note.target = `run:${runId}`;
      if (!args.wait) return result({ runId, status: 'running' });
      const deadline = Date.now() + args.timeoutSeconds * 1000;
      const token = extra._meta?.progressToken;
      let reported = -1;
      for (;;) {
        const run = await call(note, 'GET', `/runs/${enc(runId)}`);
        if (!ok(run)) return problem(run);
        note.project = typeof run.body.project === 'string' ? run.body.project : note.project;
        const steps = Object.values((run.body.steps ?? {}) as Record<string, { status?: string }>);
        const done = steps.filter((s) => s.status && s.status !== 'running' && s.status !== 'pending').length;
        if (token !== undefined && done !== reported) {
          reported = done;
          await extra.sendNotification({
            method: 'notifications/progress',
            params: {
              progressToken: token,
              progress: done,
              total: Math.max(steps.length, done),
              message: `${done} of ${steps.length} steps finished`,
            },
          });
        }
        if (run.body.status !== 'running') return runResult(run.body);
        if (Date.now() > deadline)
          return result({
            ...runResult(run.body).structuredContent,
            waited: 'timed out; get_run tells later',
          });
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
  );

  tool(
    'get_run',
    {
      title: "A run's status",
      description: 'Status of a run, its steps, and the failed steps with their errors.',
      input: { runId: z.string().min(1).max(300) },
      readOnly: true,
    },
    async ({ runId }, _extra, note) => {
      note.target = `run:${runId}`;
      const reply = await call(note, 'GET', `/runs/${enc(runId)}`);
      note.project = typeof reply.body?.project === 'string' ? reply.body.project : undefined;
      return ok(reply) ? runResult(reply.body) : problem(reply);
    },
  );

  tool(
    'get_lineage',
    {
      title: 'Lineage of a table, a column or a pipeline',
      description:
        'Datasets and steps around a warehouse table (`schema.table`), `depth` datasets away, or of one pipeline ' +
        '(`pipelineId`: every dataset it reads and writes, a CSV file or an API included), and where each column ' +
        'comes from (DIRECT sources; INDIRECT: what joins, filters, groups or sorts it). `problems` names the ' +
        'steps whose SQL lineage could not follow. Give table or pipelineId.',
      input: {
        table: z.string().min(3).max(127).optional(),
        pipelineId: z.string().min(1).max(63).optional(),
        column: z.string().max(63).optional(),
        direction: z.enum(['up', 'down', 'both']).default('up'),
        depth: z.number().int().min(1).max(20).default(3),
      },
      readOnly: true,
    },
    async (args, _extra, note) => {
      if ((args.table === undefined) === (args.pipelineId === undefined)) {
        note.status = 400;
        return result({ error: 'give either table (schema.table) or pipelineId, exactly one of them' }, true);
      }
      if (args.pipelineId !== undefined) {
        note.target = `pipeline:${args.pipelineId}`;
        const reply = await call(note, 'GET', `/pipelines/${enc(args.pipelineId)}/lineage`);
        if (!ok(reply)) return problem(reply);
        const nodes = (reply.body.nodes ?? []) as { project?: string }[];
        note.project = nodes.find((n) => n.project)?.project;
        return result(reply.body);
      }
      const query = new URLSearchParams({
        table: args.table!,
        direction: args.direction,
        depth: String(args.depth),
      });
      if (args.column) query.set('column', args.column);
      const reply = await call(note, 'GET', `/lineage?${query}`);
      return ok(reply) ? result(reply.body) : problem(reply);
    },
  );

  tool(
    'preview_step',
    {
      title: "Preview a step's rows",
      description: `Up to ${PREVIEW_MAX_ROWS} rows and the column types of a step's output in a run (a failed run keeps them).`,
      input: {
        runId: z.string().min(1).max(300),
        nodeId: z.string().min(1).max(63),
        limit: z.number().int().min(1).max(PREVIEW_MAX_ROWS).default(20),
      },
      readOnly: true,
    },
    async (args, _extra, note) => {
      note.target = `run:${args.runId}`;
      // The run first: its project goes into the audit entry (and a run the token may not read stops here).
      const run = await call(note, 'GET', `/runs/${enc(args.runId)}`);
      if (!ok(run)) return problem(run);
      note.project = typeof run.body.project === 'string' ? run.body.project : undefined;
      const reply = await call(
        note,
        'GET',
        `/runs/${enc(args.runId)}/steps/${enc(args.nodeId)}/preview?limit=${args.limit}`,
      );
      return ok(reply) ? result(reply.body) : problem(reply);
    },
  );

  // ---- Resources: pipeline documents and the catalog ----
  server.registerResource(
    'pipeline',
    new ResourceTemplate('tributary://pipelines/{id}', {
      list: async () => {
        const reply = await api('GET', '/pipelines?limit=200');
        const items = ok(reply)
          ? ((reply.body as { items?: { id: string; name?: string }[] }).items ?? [])
          : [];
        return {
          resources: items.map((p) => ({
            uri: `tributary://pipelines/${p.id}`,
            name: p.id,
            title: p.name ?? p.id,
            mimeType: 'application/json',
          })),
        };
      },
    }),
    {
      title: 'Pipeline document',
      description: 'The current version of a pipeline',
      mimeType: 'application/json',
    },
    async (uri, variables) => {
      const reply = await api('GET', `/pipelines/${enc(String(variables.id))}`);
      const body = ok(reply) ? ((reply.body as { document?: unknown }).document ?? reply.body) : reply.body;
      return {
        contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(body, null, 2) }],
      };
    },
  );
  server.registerResource(
    'catalog',
    'tributary://catalog',
    {
      title: 'Data catalog',
      description: 'Every data product the token may see',
      mimeType: 'application/json',
    },
    async (uri) => {
      const reply = await api('GET', '/catalog');
      return {
        contents: [
          { uri: uri.href, mimeType: 'application/json', text: JSON.stringify(reply.body, null, 2) },
        ],
      };
    },
  );

  // ---- A prompt: build a pipeline from a description ----
  server.registerPrompt(
    'build_pipeline',
    {
      title: 'Build a pipeline from a description',
      description: 'Walks through finding data, drafting, validating, running and fixing a pipeline.',
      argsSchema: {
        description: z.string().describe('What the pipeline should do, in words'),
        project: z.string().describe('The project it belongs to'),
      },
    },
    ({ description, project }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: [
              `Build a Tributary pipeline in project "${project}" that does this: ${description}`,
              '',
              'Work in these steps, and show me the document before you save it:',
              '1. search_catalog for data products that already hold the data; list_templates for a template that fits.',
              '2. list_connectors for the sources and sinks you need and the JSON Schema of their config.',
              `3. Write the document (apiVersion "tributary/v1", project "${project}", nodes and edges; SQL reads its inputs as {{ inputs.<node> }}).`,
              '4. validate_pipeline, and fix every error it names (node, field, line and column) until it is valid.',
              '5. save_draft (create: true only for a new pipeline), then run_pipeline with draft: true.',
              '6. If the run failed, get_run and preview_step on the failed step, fix the document, save and run again.',
              '7. get_lineage on the table the pipeline writes, to check where each column comes from.',
              '8. Do not publish_draft unless I say so.',
            ].join('\n'),
          },
        },
      ],
    }),
  );
  return server;
}

/** A run as a tool's answer: status, every step's status, and the failed steps with their errors. */
function runResult(
  run: Record<string, unknown>,
): CallToolResult & { structuredContent: Record<string, unknown> } {
  const steps = (run.steps ?? {}) as Record<
    string,
    { status?: string; error?: string | null; rowsOut?: number | null }
  >;
  const failedSteps = Object.entries(steps)
    .filter(([, s]) => s.status === 'failed' || s.error)
    .map(([node, s]) => ({ node, status: s.status, error: s.error ?? null }));
  const structured = {
    runId: run.runId,
    pipelineId: run.pipelineId,
    project: run.project,
    status: run.status,
    draft: run.draft,
    steps: Object.fromEntries(
      Object.entries(steps).map(([node, s]) => [node, { status: s.status, rows: s.rowsOut ?? null }]),
    ),
    failedSteps,
  };
  return result(structured, false) as CallToolResult & { structuredContent: Record<string, unknown> };
}
