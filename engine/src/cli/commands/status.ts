// `tributary status`: each pipeline's local state (new, modified, …) against the server's (changed
// since the pull, or not), and what to do about it.
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { getRemote, listRemoteIds } from '../remote-pipelines.js';
import { localStatus, openWorkspace, workspaceClient, type LocalStatus } from '../workspace.js';

export interface PipelineStatus {
  id: string;
  local: LocalStatus | 'absent';
  /** `changed`: the server's version is not the one pulled. */
  remote: 'unchanged' | 'changed' | 'absent' | 'new';
  pulledVersion: number | null;
  serverVersion: number | null;
  serverSavedBy: string | null;
  serverSavedAt: string | null;
  hint: string;
}

function hint(s: Omit<PipelineStatus, 'hint'>): string {
  if (s.local === 'unreadable') return 'fix pipeline.yaml (tributary validate says where)';
  if (s.remote === 'new') return 'on the server only: pull to get it';
  if (s.local === 'deleted')
    return 'folder deleted: push does not delete; delete it on the server, or pull to restore it';
  if (s.remote === 'absent' && s.local === 'new') return 'push creates it';
  if (s.remote === 'absent') return 'deleted on the server: push does not recreate it under a taken id';
  if (s.local === 'new') return 'the id is taken on the server: rename the folder and id, or pull';
  if (s.local === 'modified' && s.remote === 'changed')
    return 'changed on both sides: push refuses; git stash && tributary pull && git stash pop merges theirs into yours';
  if (s.local === 'modified') return 'push saves a new version';
  if (s.remote === 'changed') return 'pull to get it';
  return 'up to date';
}

export async function collectStatus(dir: string, branch?: string): Promise<PipelineStatus[]> {
  const ws = await openWorkspace(dir);
  const client = await workspaceClient(ws, branch);
  const serverIds = new Set(await listRemoteIds(client, ws.state.project));
  const ids = [...new Set([...ws.local.keys(), ...Object.keys(ws.state.pipelines), ...serverIds])].sort();
  const statuses: PipelineStatus[] = [];
  for (const id of ids) {
    const pulled = ws.state.pipelines[id];
    const remote = serverIds.has(id) || pulled ? await getRemote(client, id) : undefined;
    const local: PipelineStatus['local'] = ws.local.has(id) || pulled ? localStatus(ws, id) : 'absent';
    const base: Omit<PipelineStatus, 'hint'> = {
      id,
      local,
      remote: !remote
        ? 'absent'
        : !pulled
          ? 'new'
          : remote.version === pulled.version
            ? 'unchanged'
            : 'changed',
      pulledVersion: pulled?.version ?? null,
      serverVersion: remote?.version ?? null,
      serverSavedBy: remote?.versionCreatedBy ?? null,
      serverSavedAt: remote?.versionCreatedAt ?? null,
    };
    // A local pipeline whose id exists on the server but was never pulled is "new" on both sides.
    if (local === 'new' && remote) base.remote = 'changed';
    statuses.push({ ...base, hint: hint(base) });
  }
  return statuses;
}

function describe(s: PipelineStatus): string {
  const local =
    s.local === 'absent' ? '' : s.local === 'unchanged' ? `version ${s.pulledVersion}` : `${s.local} locally`;
  const remote =
    s.remote === 'changed' && s.serverVersion !== null
      ? `server at version ${s.serverVersion}${s.pulledVersion ? ` (pulled ${s.pulledVersion})` : ''}, saved by ${s.serverSavedBy} at ${s.serverSavedAt}`
      : s.remote === 'new'
        ? `on the server at version ${s.serverVersion}`
        : s.remote === 'absent'
          ? 'not on the server'
          : '';
  return [local, remote].filter(Boolean).join('; ');
}

export async function status(options: { dir: string; branch?: string }, out: Output): Promise<ExitCode> {
  const statuses = await collectStatus(options.dir, options.branch);
  const width = Math.max(8, ...statuses.map((s) => s.id.length));
  for (const s of statuses) out.say(`${s.id.padEnd(width)}  ${describe(s)}  → ${s.hint}`);
  if (statuses.length === 0) out.say('No pipelines here or on the server.');
  out.result({ pipelines: statuses });
  return EXIT.ok;
}
