// `tributary push`: a new version of every changed pipeline and a new pipeline for every new folder.
// Safe by default: each save names the version it was pulled at (If-Match), and a pipeline saved on
// the server since then is refused, naming who saved it; nothing is pushed while any is refused.
// --force saves without that check, and says what it overwrote.
import { ApiError } from '../api-client.js';
import type { ApiClient } from '../api-client.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { formatProblem, validateLocal } from '../local-validation.js';
import type { Output } from '../output.js';
import { contentHash } from '../pipeline-files.js';
import {
  getRemote,
  pipelinePath,
  versionsSince,
  type RemotePipeline,
  type VersionInfo,
} from '../remote-pipelines.js';
import { writeState, type PulledPipeline } from '../state-file.js';
import { localStatus, openWorkspace, selectIds, workspaceClient, type Workspace } from '../workspace.js';

export interface PushOptions {
  dir: string;
  pipeline?: string;
  branch?: string;
  force?: boolean;
}

interface Refusal {
  id: string;
  pulledVersion: number | null;
  serverVersion: number;
  savedBy: string[];
  message: string;
}

const who = (versions: VersionInfo[]) =>
  versions.map((v) => `version ${v.version} by ${v.createdBy} at ${v.createdAt}`).join(', ');

async function refusal(
  client: ApiClient,
  id: string,
  pulled: number | null,
  remote: RemotePipeline,
): Promise<Refusal> {
  const since = pulled === null ? [] : await versionsSince(client, id, pulled);
  const saves = since.length
    ? since
    : [
        {
          version: remote.version,
          versionHash: remote.versionHash,
          createdBy: remote.versionCreatedBy,
          createdAt: remote.versionCreatedAt,
        },
      ];
  const message =
    pulled === null
      ? `pipeline "${id}" already exists on the server (version ${remote.version}, saved by ${remote.versionCreatedBy} at ${remote.versionCreatedAt}) but was never pulled here; pull it, or give the new pipeline another id`
      : `pipeline "${id}" was changed on the server since your pull (you have version ${pulled}): ${who(saves)}. ` +
        'Take their change first: `git stash && tributary pull && git stash pop` merges it with yours through git; ' +
        'or push --force to overwrite it (it stays in the version history).';
  return {
    id,
    pulledVersion: pulled,
    serverVersion: remote.version,
    savedBy: [...new Set(saves.map((v) => v.createdBy))],
    message,
  };
}

const pulledFrom = (saved: RemotePipeline): PulledPipeline => ({
  version: saved.version,
  versionHash: saved.versionHash,
  contentHash: contentHash(saved.document),
  savedBy: saved.versionCreatedBy,
  savedAt: saved.versionCreatedAt,
});

export async function push(options: PushOptions, out: Output): Promise<ExitCode> {
  const ws = await openWorkspace(options.dir);
  const client = await workspaceClient(ws, options.branch);
  const candidates = selectIds(ws, options.pipeline).filter((id) =>
    ['new', 'modified', 'unreadable'].includes(localStatus(ws, id)),
  );

  // Nothing invalid goes up: the server would keep it as a draft that cannot run.
  const invalid = (
    await Promise.all(candidates.map((id) => validateLocal(ws.local.get(id)!, ws.state.project)))
  ).flat();
  if (invalid.length > 0) {
    for (const p of invalid) out.say(formatProblem(p));
    throw new CliError(
      `Nothing pushed ${client.where}: ${invalid.length} validation error${invalid.length === 1 ? '' : 's'} (above); fix them first`,
      EXIT.failed,
      { errors: invalid },
    );
  }

  const refusals: Refusal[] = [];
  const plan: { id: string; remote: RemotePipeline | undefined }[] = [];
  for (const id of candidates) {
    const pulled = ws.state.pipelines[id];
    const remote = await getRemote(client, id);
    const local = ws.local.get(id)!.document!;
    if (remote && contentHash(remote.document) === contentHash(local)) {
      // The server already has exactly this (someone pushed the same change): only the state moves.
      ws.state.pipelines[id] = pulledFrom(remote);
      out.say(
        `${id}: the server already has this at version ${remote.version} ${client.where}; nothing to push`,
      );
      continue;
    }
    const conflict = remote && (!pulled || remote.version !== pulled.version);
    if (conflict && !(options.force && pulled))
      refusals.push(await refusal(client, id, pulled?.version ?? null, remote));
    else plan.push({ id, remote });
  }
  if (refusals.length > 0) {
    await writeState(ws.dir, ws.state);
    throw new CliError(
      `Push ${client.where} refused, nothing was pushed:\n${refusals.map((r) => `  ${r.message}`).join('\n')}`,
      EXIT.conflict,
      { refused: refusals },
    );
  }

  const pushed = [];
  for (const { id, remote } of plan) {
    const saved = await save(ws, client, id, remote, options.force ?? false, out);
    ws.state.pipelines[id] = pulledFrom(saved.pipeline);
    pushed.push({ id, version: saved.pipeline.version, created: saved.created, forced: saved.forced });
    // Written after each save, so a failure half-way leaves the state true to the server.
    await writeState(ws.dir, ws.state);
  }
  await writeState(ws.dir, ws.state);
  if (pushed.length === 0) out.say(`Nothing to push ${client.where}: no pipeline changed since the pull.`);
  out.result({ pushed });
  return EXIT.ok;
}

async function save(
  ws: Workspace,
  client: ApiClient,
  id: string,
  remote: RemotePipeline | undefined,
  force: boolean,
  out: Output,
): Promise<{ pipeline: RemotePipeline; created: boolean; forced: boolean }> {
  const document = ws.local.get(id)!.document!;
  const pulled = ws.state.pipelines[id];
  try {
    if (!remote) {
      const reply = await client.request<RemotePipeline>('POST', '/pipelines', {
        body: document,
        onBranch: true,
      });
      out.say(`${id}: created ${client.where} (version ${reply.body.version})`);
      return { pipeline: reply.body, created: true, forced: false };
    }
    const forced = force && remote.version !== pulled!.version;
    const reply = await client.request<RemotePipeline>('PUT', pipelinePath(id), {
      body: document,
      onBranch: true,
      ...(force ? {} : { headers: { 'if-match': `"${pulled!.version}"` } }),
    });
    out.say(
      forced
        ? `${id}: --force: saved version ${reply.body.version} ${client.where} over version ${remote.version} by ${remote.versionCreatedBy} (${remote.versionCreatedAt}), which you had not pulled; their change is now only in the version history`
        : `${id}: pushed version ${reply.body.version} ${client.where} (was ${pulled!.version})${force ? ' (--force: saved without checking)' : ''}`,
    );
    return { pipeline: reply.body, created: false, forced };
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) {
      // Saved between our check and our save: the server's If-Match check caught it.
      const now = await getRemote(client, id);
      const r = now ? await refusal(client, id, pulled?.version ?? null, now) : undefined;
      throw new CliError(
        `Push of "${id}" ${client.where} refused: ${r?.message ?? error.problem.detail}`,
        EXIT.conflict,
        {
          refused: r ? [r] : [],
        },
      );
    }
    if (error instanceof ApiError && error.status === 400) {
      const details = (error.problem.errors ?? []).map(
        (e) => `  ${e.nodeId ? `node "${e.nodeId}": ` : ''}${e.message}`,
      );
      throw new CliError(
        `The server refused ${id} ${client.where}: ${error.problem.detail}\n${details.join('\n')}`,
        EXIT.failed,
      );
    }
    throw error;
  }
}
