// The server's side of a pulled folder: the pipelines of a project, each with its current version.
import type { ApiClient, ApiReply } from './api-client.js';
import type { PipelinePage, RemotePipeline, VersionInfo, VersionPage } from './api-types.js';

export type { RemotePipeline, VersionInfo } from './api-types.js';

const path = (id: string) => `/pipelines/${encodeURIComponent(id)}`;

export async function listRemoteIds(client: ApiClient, project: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: URLSearchParams = new URLSearchParams({
      project,
      limit: '100',
      ...(cursor ? { cursor } : {}),
    });
    const page: ApiReply<PipelinePage> = await client.request<PipelinePage>('GET', `/pipelines?${query}`, {
      onBranch: true,
    });
    ids.push(...page.body.items.map((p) => p.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  return ids;
}

/** The pipeline with its current version, or undefined when the server has no such pipeline. */
export async function getRemote(client: ApiClient, id: string): Promise<RemotePipeline | undefined> {
  const reply = await client.request<RemotePipeline>('GET', path(id), { onBranch: true, accept: [404] });
  return reply.status === 404 ? undefined : reply.body;
}

/** The versions saved after `version`, newest first: who changed the pipeline since a pull. */
export async function versionsSince(client: ApiClient, id: string, version: number): Promise<VersionInfo[]> {
  const reply = await client.request<VersionPage>('GET', `${path(id)}/versions`, {
    onBranch: true,
  });
  return reply.body.items.filter((v) => v.version > version);
}

export const pipelinePath = path;
