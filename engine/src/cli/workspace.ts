// A pulled folder as a whole: its state file, its pipeline folders, and the client for its server.
import path from 'node:path';
import { ApiClient } from './api-client.js';
import { loadConfig } from './config.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import {
  contentHash,
  listPipelineFolders,
  readPipelineFolder,
  type LocalPipeline,
} from './pipeline-files.js';
import { readState, type State } from './state-file.js';

export interface Workspace {
  dir: string;
  state: State;
  local: Map<string, LocalPipeline>;
}

export async function openWorkspace(dir: string): Promise<Workspace> {
  const state = await readState(dir);
  const local = new Map<string, LocalPipeline>();
  for (const folder of await listPipelineFolders(dir))
    local.set(folder, await readPipelineFolder(dir, folder));
  return { dir, state, local };
}

/** A client for the workspace's server; `--branch` wins over the branch the folder was pulled from. */
export async function workspaceClient(ws: Workspace, branch?: string): Promise<ApiClient> {
  const config = await loadConfig();
  if (config.url !== ws.state.server) {
    throw new CliError(
      `${path.resolve(ws.dir)} was pulled from ${ws.state.server}, but you are logged in to ${config.url}; ` +
        'log in to that server (or set TRIBUTARY_URL), or pull into another folder',
      EXIT.usage,
    );
  }
  return new ApiClient(config, branch ?? ws.state.branch ?? undefined);
}

export type LocalStatus = 'new' | 'modified' | 'unchanged' | 'deleted' | 'unreadable';

/** How a pipeline folder stands against what was pulled. */
export function localStatus(ws: Workspace, id: string): LocalStatus {
  const local = ws.local.get(id);
  const pulled = ws.state.pipelines[id];
  if (!local) return 'deleted';
  if (!local.document) return 'unreadable';
  if (!pulled) return 'new';
  return contentHash(local.document) === pulled.contentHash ? 'unchanged' : 'modified';
}

/** Every pipeline id the workspace knows of, or only `only` (which must be one of them). */
export function selectIds(ws: Workspace, only?: string): string[] {
  const ids = [...new Set([...ws.local.keys(), ...Object.keys(ws.state.pipelines)])].sort();
  if (only === undefined) return ids;
  if (!ids.includes(only)) {
    throw usageError(
      `No pipeline "${only}" in ${path.resolve(ws.dir)}; there are: ${ids.join(', ') || '(none)'}`,
    );
  }
  return [only];
}
