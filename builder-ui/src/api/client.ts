// The API client: the stored token on every request, problem+json errors as ApiError, and a 401
// anywhere sends the user back to the sign-in screen.
import type {
  CompileError,
  Connector,
  JsonSchema,
  PipelineDocument,
  PipelineSummary,
  PipelineView,
  RunDetail,
  RunSummary,
  Validity,
} from '../model/types.ts';

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
  ) {
    super(detail ?? title);
  }
}

/** A readable sentence from any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    const extra = error.errors.filter((e) => !error.detail?.includes(e.message)).map((e) => e.message);
    return [error.detail ?? error.title, ...extra].join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...init.headers };
  const token = storedToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'Network error', `Cannot reach the API: ${(error as Error).message}`);
  }
  if (response.status === 401 && path !== '/health') {
    const problem = await readProblem(response);
    storeToken(null);
    window.dispatchEvent(new CustomEvent('tributary:unauthorized', { detail: problem.detail }));
    throw problem;
  }
  if (!response.ok) throw await readProblem(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function readProblem(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { title?: string; detail?: string; errors?: ProblemDetail[] };
    return new ApiError(response.status, body.title ?? response.statusText, body.detail, body.errors ?? []);
  } catch {
    return new ApiError(response.status, response.statusText || `HTTP ${response.status}`, undefined);
  }
}

export interface Project {
  id: string;
  name: string;
  description: string | null;
}

export interface SavedPipeline extends PipelineView {
  created: boolean;
}

export interface VersionInfo {
  version: number;
  versionHash: string;
  createdBy: string;
  createdAt: string;
}

export interface Change {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from?: unknown;
  to?: unknown;
}

export interface PipelineDiff {
  from: number;
  to: number;
  nodes: {
    added: { id: string; type: string }[];
    removed: { id: string; type: string }[];
    changed: { id: string; type: string; changes: Change[] }[];
  };
  edges: { added: string[]; removed: string[] };
  params: Change[];
  settings: Change[];
  metadata: Change[];
}

export interface Preview {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  limit: number;
  offset: number;
  hasMore: boolean;
}

export interface SecretInfo {
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface TokenInfo {
  id: string;
  name: string;
  scopes: string[];
  projects: string[] | null;
  expiresAt: string | null;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface Schedule {
  cron: string;
  timezone: string;
  params: Record<string, unknown>;
  paused: boolean;
  pipelineVersion: number;
  nextRunTimes: string[];
}

export interface Webhook {
  id: string;
  name: string | null;
  url: string;
  createdAt: string;
  lastUsedAt: string | null;
  token?: string;
}

export interface Template {
  id: string;
  version?: string;
  title: string;
  description?: string;
  category?: string;
  tags?: string[];
}

export interface TemplateDetail extends Template {
  /** JSON Schema of the values. */
  params: JsonSchema;
  examples?: Record<string, unknown>;
  secrets?: { param: string; defaultName: string | null; description: string }[];
  readme?: string;
}

export interface RunAuditEvent {
  /** The Temporal history event it was read from. */
  eventId: number;
  at: string;
  type: string;
  actor: string | null;
  nodeId: string | null;
  nodeType: string | null;
  attempt: number | null;
  message: string;
  details: Record<string, unknown>;
}

export interface RunAuditTrail {
  runId: string;
  project: string;
  pipelineId: string;
  pipelineVersion: string;
  trigger: { type: string; actor: string };
  status: string;
  events: RunAuditEvent[];
}

export type UsageGroupBy = 'project' | 'pipeline' | 'actor' | 'trigger' | 'nodeType' | 'day';

export interface UsageTotals {
  runs: number;
  steps: number;
  wallSeconds: number | null;
  activitySeconds: number;
  attempts: number;
  retries: number;
  rowsIn: number;
  rowsOut: number;
  bytes: number;
  credits: number;
}

export interface UsageReport {
  groupBy: UsageGroupBy;
  from: string;
  to: string;
  creditRates: { source: number; transform: number; sink: number; types: Record<string, number> };
  runs: number;
  truncated: boolean;
  totals: UsageTotals;
  groups: (UsageTotals & { key: string })[];
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  project: string | null;
  action: string;
  target: string;
  summary: Record<string, unknown>;
}

const q = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
};
const enc = encodeURIComponent;

export const Api = {
  health: () =>
    api<{ status: string; temporal: string; postgres: string; version: string; temporalUi?: string }>(
      '/health',
    ),
  connectors: () => api<Connector[]>('/connectors'),
  projects: () => api<{ items: Project[] }>('/projects'),
  createProject: (body: { id: string; name: string }) => api<Project>('/projects', { method: 'POST', body }),
  pipelines: (filter: { project?: string; q?: string; cursor?: string }) =>
    api<{ items: PipelineSummary[]; nextCursor: string | null }>(`/pipelines${q({ ...filter, limit: 100 })}`),
  pipeline: (id: string) => api<PipelineView>(`/pipelines/${enc(id)}`),
  createPipeline: (doc: PipelineDocument) => api<SavedPipeline>('/pipelines', { method: 'POST', body: doc }),
  savePipeline: (doc: PipelineDocument, version: number | null) =>
    api<SavedPipeline>(`/pipelines/${enc(doc.id)}`, {
      method: 'PUT',
      body: doc,
      headers: version ? { 'If-Match': `"${version}"` } : {},
    }),
  deletePipeline: (id: string) => api<void>(`/pipelines/${enc(id)}`, { method: 'DELETE' }),
  validate: (doc: PipelineDocument, signal?: AbortSignal) =>
    api<Validity>('/pipelines/validate', { method: 'POST', body: doc, ...(signal ? { signal } : {}) }),
  versions: (id: string) => api<{ current: number; items: VersionInfo[] }>(`/pipelines/${enc(id)}/versions`),
  version: (id: string, v: number) =>
    api<VersionInfo & { document: PipelineDocument; errors: CompileError[] }>(
      `/pipelines/${enc(id)}/versions/${v}`,
    ),
  diff: (id: string, from: number, to: number) =>
    api<PipelineDiff>(`/pipelines/${enc(id)}/diff${q({ from, to })}`),
  rollback: (id: string, version: number, current: number | null) =>
    api<SavedPipeline>(`/pipelines/${enc(id)}/rollback`, {
      method: 'POST',
      body: { version },
      headers: current ? { 'If-Match': `"${current}"` } : {},
    }),
  startRun: (id: string, params: Record<string, unknown>, version?: number) =>
    api<{ runId: string; status: string }>(`/pipelines/${enc(id)}/runs`, {
      method: 'POST',
      body: { params, ...(version ? { version } : {}) },
      headers: { 'X-Tributary-Trigger': 'manual' },
    }),
  runs: (filter: { pipeline?: string; project?: string; status?: string; cursor?: string; limit?: number }) =>
    api<{ items: RunSummary[]; nextCursor: string | null }>(`/runs${q(filter)}`),
  run: (runId: string) => api<RunDetail>(`/runs/${enc(runId)}`),
  cancelRun: (runId: string) =>
    api<unknown>(`/runs/${enc(runId)}/cancel`, {
      method: 'POST',
      body: { reason: 'cancelled in the builder' },
    }),
  preview: (runId: string, nodeId: string, limit: number, offset: number) =>
    api<Preview>(`/runs/${enc(runId)}/steps/${enc(nodeId)}/preview${q({ limit, offset })}`),
  runAudit: (runId: string) => api<RunAuditTrail>(`/runs/${enc(runId)}/audit`),
  usage: (filter: { groupBy: UsageGroupBy; from?: string; to?: string; project?: string }) =>
    api<UsageReport>(`/telemetry/usage${q(filter)}`),
  auditLog: (filter: {
    project?: string;
    actor?: string;
    action?: string;
    from?: string;
    to?: string;
    cursor?: string;
  }) => api<{ items: AuditEntry[]; nextCursor: string | null }>(`/audit${q(filter)}`),
  secrets: (project: string) => api<{ items: SecretInfo[] }>(`/projects/${enc(project)}/secrets`),
  putSecret: (project: string, name: string, value: string) =>
    api<SecretInfo>(`/projects/${enc(project)}/secrets/${enc(name)}`, { method: 'PUT', body: { value } }),
  deleteSecret: (project: string, name: string) =>
    api<void>(`/projects/${enc(project)}/secrets/${enc(name)}`, { method: 'DELETE' }),
  tokens: () => api<{ items: TokenInfo[] }>('/tokens'),
  createToken: (body: { name: string; scopes: string[]; projects?: string[] }) =>
    api<TokenInfo & { token: string }>('/tokens', { method: 'POST', body }),
  deleteToken: (id: string) => api<void>(`/tokens/${enc(id)}`, { method: 'DELETE' }),
  schedule: (id: string) => api<Schedule>(`/pipelines/${enc(id)}/schedule`),
  putSchedule: (
    id: string,
    body: { cron: string; timezone: string; params: Record<string, unknown>; paused: boolean },
  ) => api<Schedule>(`/pipelines/${enc(id)}/schedule`, { method: 'PUT', body }),
  deleteSchedule: (id: string) => api<void>(`/pipelines/${enc(id)}/schedule`, { method: 'DELETE' }),
  webhooks: (id: string) => api<{ items: Webhook[] }>(`/pipelines/${enc(id)}/webhooks`),
  createWebhook: (id: string, name?: string) =>
    api<Webhook & { token: string }>(`/pipelines/${enc(id)}/webhooks`, {
      method: 'POST',
      body: name ? { name } : {},
    }),
  deleteWebhook: (id: string, hookId: string) =>
    api<void>(`/pipelines/${enc(id)}/webhooks/${enc(hookId)}`, { method: 'DELETE' }),
  templates: () => api<{ items: Template[] } | Template[]>('/templates'),
  template: (id: string) => api<TemplateDetail>(`/templates/${enc(id)}`),
  instantiateTemplate: (
    id: string,
    body: { project: string; pipelineId: string; name?: string; values: Record<string, unknown> },
  ) =>
    api<{ id?: string; pipelineId?: string; document?: PipelineDocument }>(
      `/templates/${enc(id)}/instantiate`,
      {
        method: 'POST',
        body,
      },
    ),
};

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
