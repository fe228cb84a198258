// The API client, typed from the generated OpenAPI schema (schema.gen.ts): the stored token on
// every request, problem+json errors as ApiError, and a 401 anywhere sends the user back to sign-in.
import createClient from 'openapi-fetch';
import type { PipelineDocument } from '../model/types.ts';
import { currentBranch } from '../store/branch.ts';
import { useOutage } from '../store/outage.ts';
import type { paths } from './schema.gen.ts';
import type {
  Body,
  InstantiateInput,
  Query,
  RunAuditTrail,
  RunDetail,
  ScheduleInput,
  UpdateChoices,
  Workspace,
} from './types.ts';
const TOKEN_KEY = 'tributary.token';

export function storedToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  window.dispatchEvent(new Event('tributary:auth'));
}

export interface ProblemDetail {
  path?: string;
  message: string;
  nodeId?: string;
  code?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    readonly errors: ProblemDetail[] = [],
    /** A 503's component (`temporal`, `postgres`): what is down, not what is wrong with the request. */
    readonly component?: 'temporal' | 'postgres',
  ) {
    super(detail ?? title);
  }
}

/** An error that says something is down (so edits are kept and tried again), not that they are wrong. */
export const isOutage = (error: unknown): boolean =>
  error instanceof ApiError && (error.status === 0 || (error.status === 503 && !!error.component));

/** Tells the outage store (store/outage.ts) what a failed call found down. */
function reportOutage(error: ApiError): void {
  if (error.status === 0) useOutage.getState().report('api');
  else if (error.status === 503 && error.component) useOutage.getState().report(error.component);
}

/** A readable sentence from any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    const extra = error.errors.filter((e) => !error.detail?.includes(e.message)).map((e) => e.message);
    return [error.detail ?? error.title, ...extra].join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

const client = createClient<paths>({ baseUrl: '/api' });
client.use({
  onRequest({ request }) {
    const token = storedToken();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
});

/** The answer of a typed call: its data, or an ApiError (a 401 also signs the user out). */
async function call<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
  signsOut = true,
): Promise<T> {
  let result: Awaited<typeof pending>;
  try {
    result = await pending;
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    const unreachable = new ApiError(0, 'Network error', `Cannot reach the API: ${(error as Error).message}`);
    reportOutage(unreachable);
    throw unreachable;
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const problem = problemOf(response, error);
  reportOutage(problem);
  if (response.status === 401 && signsOut) {
    storeToken(null);
    window.dispatchEvent(new CustomEvent('tributary:unauthorized', { detail: problem.detail }));
  }
  throw problem;
}

function problemOf(response: Response, body: unknown): ApiError {
  if (body && typeof body === 'object') {
    const p = body as { title?: string; detail?: string; errors?: ProblemDetail[]; component?: string };
    const component = p.component === 'temporal' || p.component === 'postgres' ? p.component : undefined;
    return new ApiError(response.status, p.title ?? response.statusText, p.detail, p.errors ?? [], component);
  }
  return new ApiError(response.status, response.statusText || `HTTP ${response.status}`, undefined);
}

async function readProblem(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return problemOf(response, body);
}

/** If-Match for a save over `version` (none: save over whatever is current). */
const ifMatch = (version: number | null) => (version ? { 'If-Match': `"${version}"` } : {});

/**
 * Where a call works: `?branch=` for a branch, nothing for main. Every pipeline call takes the
 * workspace the pipeline was read in (its view's `workspace`), so a pipeline read on main while a
 * branch is chosen (another project's, or one made on main after the branch) stays on main.
 */
type Where = Pick<Workspace, 'branch'>;
const inWorkspace = (where: Where) => (where.branch ? { branch: where.branch } : {});

/** The workspace a new pipeline of `project` goes to: the chosen branch when it is that project's. */
export function workspaceFor(project: string | undefined): Where {
  const branch = currentBranch();
  return { branch: branch && project === branch.project ? branch.name : null };
}

/**
 * A pipeline as the chosen branch sees it; main's when the branch does not have it. Its `workspace`
 * says which, and what the editor's actions do there.
 */
async function readPipeline(id: string) {
  const branch = currentBranch();
  if (branch) {
    try {
      return await call(
        client.GET('/pipelines/{id}', { params: { path: { id }, query: { branch: branch.name } } }),
      );
    } catch (error) {
      // Another project's pipeline (or one made on main after the branch): main's, as it is.
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }
  return call(client.GET('/pipelines/{id}', { params: { path: { id } } }));
}

export const Api = {
  // A failed health check is the sign-in screen's own business: it does not sign out.
  health: () => call(client.GET('/health'), false),
  connectors: () => call(client.GET('/connectors')),
  projects: () => call(client.GET('/projects')),
  createProject: (body: { id: string; name: string }) => call(client.POST('/projects', { body })),
  pipelines: (filter: { project?: string; q?: string; cursor?: string }) => {
    // In a branch the list is the branch's: its project's pipelines as the branch has them.
    const branch = currentBranch();
    const inBranch = branch && (!filter.project || filter.project === branch.project);
    const query = inBranch ? { ...filter, project: branch.project, branch: branch.name } : filter;
    return call(client.GET('/pipelines', { params: { query: { ...query, limit: 100 } } }));
  },
  pipeline: (id: string) => readPipeline(id),
  createPipeline: (doc: PipelineDocument) =>
    call(client.POST('/pipelines', { params: { query: inWorkspace(workspaceFor(doc.project)) }, body: doc })),
  savePipeline: (where: Where, doc: PipelineDocument, version: number | null) =>
    call(
      client.PUT('/pipelines/{id}', {
        params: { path: { id: doc.id }, header: ifMatch(version), query: inWorkspace(where) },
        body: doc,
      }),
    ),
  deletePipeline: (id: string) => call(client.DELETE('/pipelines/{id}', { params: { path: { id } } })),
  validate: (doc: PipelineDocument, signal?: AbortSignal) =>
    call(
      client.POST('/pipelines/validate', {
        body: doc as unknown as Record<string, unknown>,
        ...(signal ? { signal } : {}),
      }),
    ),
  versions: (where: Where, id: string) =>
    call(client.GET('/pipelines/{id}/versions', { params: { path: { id }, query: inWorkspace(where) } })),
  version: (id: string, version: number) =>
    call(client.GET('/pipelines/{id}/versions/{version}', { params: { path: { id, version } } })),
  diff: (id: string, from: number, to: number) =>
    call(client.GET('/pipelines/{id}/diff', { params: { path: { id }, query: { from, to } } })),
  rollback: (id: string, version: number, current: number | null) =>
    call(
      client.POST('/pipelines/{id}/rollback', {
        params: { path: { id }, header: ifMatch(current) },
        body: { version },
      }),
    ),
  draft: (id: string) => call(client.GET('/pipelines/{id}/draft', { params: { path: { id } } })),
  /**
   * The editor's autosave, where the workspace says it goes (`save`): main's draft, or the branch's
   * copy (a branch is its own draft space).
   */
  saveWork: async (workspace: Workspace, doc: PipelineDocument): Promise<void> => {
    const path = { id: doc.id };
    if (workspace.save === 'copy')
      await call(
        client.PUT('/pipelines/{id}', { params: { path, query: inWorkspace(workspace) }, body: doc }),
      );
    else await call(client.PUT('/pipelines/{id}/draft', { params: { path }, body: doc }));
  },
  /** Drops main's draft; a workspace without drafts has nothing to discard. */
  discardDraft: async (workspace: Workspace, id: string) => {
    if (!workspace.discard) return;
    await call(client.DELETE('/pipelines/{id}/draft', { params: { path: { id } } }));
  },
  publish: (id: string, expectedVersion: number | null, message?: string) =>
    call(
      client.POST('/pipelines/{id}/publish', {
        params: { path: { id } },
        body: { ...(expectedVersion ? { expectedVersion } : {}), ...(message ? { message } : {}) },
      }),
    ),
  /** A run in the workspace: of a version (the current one by default), or with `draft` of the draft where runs can be. */
  startRun: (
    where: Where & Partial<Pick<Workspace, 'runDraft'>>,
    id: string,
    params: Record<string, unknown>,
    options: { version?: number; draft?: boolean } = {},
  ) =>
    call(
      client.POST('/pipelines/{id}/runs', {
        params: {
          path: { id },
          header: { 'X-Tributary-Trigger': 'manual' },
          query: inWorkspace(where),
        },
        body: {
          params: params as Record<string, string | number | boolean | null>,
          ...(options.version ? { version: options.version } : {}),
          ...(options.draft && where.runDraft ? { draft: true } : {}),
        },
      }),
    ),
  /** Re-runs a run from its failed steps or from a node, reusing the kept outputs of the rest. */
  rerun: (runId: string, from: 'failed' | (string & {}) = 'failed', draft = false) =>
    call(
      client.POST('/runs/{runId}/rerun', {
        params: { path: { runId }, header: { 'X-Tributary-Trigger': 'manual' } },
        body: draft ? { from, draft } : { from },
      }),
    ),
  /** A Postgres sink's target table as it is now: row count, columns and a sample. The node as the
   * editor has it: the draft's (a node added in the draft exists only there). */
  sinkTarget: (id: string, nodeId: string) =>
    call(
      client.GET('/pipelines/{id}/nodes/{nodeId}/target', {
        params: { path: { id, nodeId }, query: { draft: 'true' } },
      }),
    ),
  /** The output columns of every node of a document (the editor's current one). */
  schemas: (doc: PipelineDocument, signal?: AbortSignal) =>
    call(
      client.POST('/pipelines/{id}/schemas', {
        params: { path: { id: doc.id } },
        body: doc,
        ...(signal ? { signal } : {}),
      }),
    ),
  runs: (filter: Query<'listRuns'>) => call(client.GET('/runs', { params: { query: filter } })),
  run: (runId: string) => call(client.GET('/runs/{runId}', { params: { path: { runId } } })),
  cancelRun: (runId: string) =>
    call(
      client.POST('/runs/{runId}/cancel', {
        params: { path: { runId } },
        body: { reason: 'cancelled in the builder' },
      }),
    ),
  preview: (runId: string, nodeId: string, limit: number, offset: number) =>
    call(
      client.GET('/runs/{runId}/steps/{nodeId}/preview', {
        params: { path: { runId, nodeId }, query: { limit, offset } },
      }),
    ),
  // The route also answers JSON Lines (?format=jsonl); the builder asks for JSON.
  runAudit: (runId: string) =>
    call(client.GET('/runs/{runId}/audit', { params: { path: { runId } } })) as Promise<RunAuditTrail>,
  runNotifications: (runId: string) =>
    call(client.GET('/runs/{runId}/notifications', { params: { path: { runId } } })),
  projectNotifications: (project: string) =>
    call(client.GET('/projects/{project}/notifications', { params: { path: { project } } })),
  putProjectNotifications: (project: string, body: Body<'putProjectNotifications'>) =>
    call(client.PUT('/projects/{project}/notifications', { params: { path: { project } }, body })),
  sendTestNotification: (project: string, body: Body<'sendTestNotification'>) =>
    call(client.POST('/projects/{project}/notifications/test', { params: { path: { project } }, body })),
  notificationDelivery: (project: string, id: number) =>
    call(
      client.GET('/projects/{project}/notifications/deliveries/{id}', { params: { path: { project, id } } }),
    ),
  usage: (filter: Query<'getUsage'>) => call(client.GET('/telemetry/usage', { params: { query: filter } })),
  auditLog: (filter: Query<'listAuditLog'>) => call(client.GET('/audit', { params: { query: filter } })),
  secrets: (project: string) =>
    call(client.GET('/projects/{project}/secrets', { params: { path: { project } } })),
  /** A Python connector's spec (its form); 202 answers carry the environment build's progress. */
  connectorSpec: (project: string, body: Body<'connectorSpec'>) =>
    call(
      client.POST('/projects/{project}/connectors/spec', {
        params: { path: { project }, query: { wait: 4000 } },
        body,
      }),
    ),
  /** The streams a Python connector lists with this config (run on a worker, secrets resolved there). */
  connectorDiscover: (project: string, body: Body<'connectorDiscover'>) =>
    call(
      client.POST('/projects/{project}/connectors/discover', {
        params: { path: { project }, query: { wait: 4000 } },
        body,
      }),
    ),
  connectorProbe: (project: string, probe: string) =>
    call(
      client.GET('/projects/{project}/connector-probes/{probe}', {
        params: { path: { project, probe }, query: { wait: 4000 } },
      }),
    ),
  /** The files in a project's files folder (what its file sources read). */
  projectFiles: (project: string) =>
    call(client.GET('/projects/{project}/files', { params: { path: { project } } })),
  /** Puts a file into a project's files folder (text as utf8, anything else as base64). */
  uploadFile: (project: string, path: string, content: string, encoding: 'utf8' | 'base64' = 'utf8') =>
    call(
      client.POST('/projects/{project}/files', {
        params: { path: { project } },
        body: { path, content, encoding },
      }),
    ),
  putSecret: (project: string, name: string, value: string, allowedHosts?: string[]) =>
    call(
      client.PUT('/projects/{project}/secrets/{name}', {
        params: { path: { project, name } },
        body: allowedHosts && allowedHosts.length > 0 ? { value, allowedHosts } : { value },
      }),
    ),
  deleteSecret: (project: string, name: string) =>
    call(client.DELETE('/projects/{project}/secrets/{name}', { params: { path: { project, name } } })),
  branches: (project: string) =>
    call(client.GET('/projects/{project}/branches', { params: { path: { project } } })),
  createBranch: (project: string, name: string) =>
    call(client.POST('/projects/{project}/branches', { params: { path: { project } }, body: { name } })),
  deleteBranch: (project: string, name: string) =>
    call(client.DELETE('/projects/{project}/branches/{name}', { params: { path: { project, name } } })),
  branchDiff: (project: string, name: string) =>
    call(client.GET('/projects/{project}/branches/{name}/diff', { params: { path: { project, name } } })),
  /** What bringing the branch up to date with main would do (conflicts with both versions). */
  branchUpdate: (project: string, name: string) =>
    call(client.GET('/projects/{project}/branches/{name}/update', { params: { path: { project, name } } })),
  updateBranch: (project: string, name: string, choices: UpdateChoices = {}) =>
    call(
      client.POST('/projects/{project}/branches/{name}/update', {
        params: { path: { project, name } },
        body: { choices },
      }),
    ),
  mergeBranch: (project: string, name: string, rebuild: boolean) =>
    call(
      client.POST('/projects/{project}/branches/{name}/merge', {
        params: { path: { project, name } },
        body: { rebuild },
      }),
    ),
  tokens: () => call(client.GET('/tokens')),
  createToken: (body: Body<'createToken'>) => call(client.POST('/tokens', { body })),
  deleteToken: (tokenId: string) =>
    call(client.DELETE('/tokens/{tokenId}', { params: { path: { tokenId } } })),
  schedule: (id: string) => call(client.GET('/pipelines/{id}/schedule', { params: { path: { id } } })),
  putSchedule: (id: string, body: ScheduleInput) =>
    call(client.PUT('/pipelines/{id}/schedule', { params: { path: { id } }, body })),
  deleteSchedule: (id: string) =>
    call(client.DELETE('/pipelines/{id}/schedule', { params: { path: { id } } })),
  webhooks: (id: string) => call(client.GET('/pipelines/{id}/webhooks', { params: { path: { id } } })),
  createWebhook: (id: string, name?: string) =>
    call(client.POST('/pipelines/{id}/webhooks', { params: { path: { id } }, body: name ? { name } : {} })),
  deleteWebhook: (id: string, hookId: string) =>
    call(client.DELETE('/pipelines/{id}/webhooks/{hookId}', { params: { path: { id, hookId } } })),
  catalog: (filter: Query<'listCatalog'>) => call(client.GET('/catalog', { params: { query: filter } })),
  product: (id: string) => call(client.GET('/products/{id}', { params: { path: { id } } })),
  /** Publishes a table the project owns as a data product. */
  publishProduct: (project: string, body: Body<'publishProduct'>) =>
    call(client.POST('/projects/{project}/products', { params: { path: { project } }, body })),
  /** The warehouse tables and views the project owns (listed under its own role). */
  projectTables: (project: string) =>
    call(client.GET('/projects/{project}/tables', { params: { path: { project } } })),
  /** The data products the project's pipelines may read: its own and those shared with it. */
  readableProducts: (project: string) =>
    call(client.GET('/projects/{project}/products', { params: { path: { project } } })),

  shareProduct: (id: string, project: string) =>
    call(client.PUT('/products/{id}/shares/{project}', { params: { path: { id, project } } })),
  unshareProduct: (id: string, project: string, force = false) =>
    call(
      client.DELETE('/products/{id}/shares/{project}', {
        params: { path: { id, project }, query: force ? { force: 'true' } : {} },
      }),
    ),
  lineage: (query: Query<'getLineage'>) => call(client.GET('/lineage', { params: { query } })),
  pipelineLineage: (id: string) => call(client.GET('/pipelines/{id}/lineage', { params: { path: { id } } })),
  templates: () => call(client.GET('/templates')),
  template: (id: string) => call(client.GET('/templates/{id}', { params: { path: { id } } })),
  instantiateTemplate: (id: string, body: InstantiateInput) =>
    call(client.POST('/templates/{id}/instantiate', { params: { path: { id } }, body })),
};

const enc = encodeURIComponent;

/**
 * Follows a run's event stream. EventSource cannot send an Authorization header, so this reads
 * the SSE stream through fetch. Returns a function that stops following.
 */
export function followRun(
  runId: string,
  onProgress: (run: RunDetail) => void,
  onEnd: () => void,
  onError: (message: string) => void,
): () => void {
  const controller = new AbortController();
  const token = storedToken();
  void (async () => {
    try {
      const response = await fetch(`/api/runs/${enc(runId)}/events`, {
        headers: { Accept: 'text/event-stream', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        signal: controller.signal,
      });
      if (!response.ok || !response.body) throw await readProblem(response);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length === 0) continue;
          const payload = JSON.parse(data.join('\n')) as RunDetail & { message?: string };
          if (event === 'progress') onProgress(payload);
          else if (event === 'error') onError(payload.message ?? 'The event stream failed');
        }
      }
      onEnd();
    } catch (error) {
      if ((error as Error).name !== 'AbortError') onError(messageOf(error));
    }
  })();
  return () => controller.abort();
}
