// `tributary pull`: every pipeline of a project into one folder each, and the versions pulled into
// the state file. Local edits that were not pushed are not overwritten unless --force says so.
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ApiClient } from '../api-client.js';
import { loadConfig } from '../config.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { nodeCatalog } from '../node-catalog.js';
import { contentHash, documentToFiles, writePipelineFolder } from '../pipeline-files.js';
import { getRemote, listRemoteIds } from '../remote-pipelines.js';
import { readState, statePath, writeState, type State } from '../state-file.js';
import { localStatus, openWorkspace } from '../workspace.js';

export interface PullOptions {
  project: string;
  dir: string;
  branch?: string;
  force?: boolean;
}

async function exists(file: string): Promise<boolean> {
  return readdir(path.dirname(file)).then(
    (names) => names.includes(path.basename(file)),
    () => false,
  );
}

export async function pull(options: PullOptions, out: Output): Promise<ExitCode> {
  const config = await loadConfig();
  const client = new ApiClient(config, options.branch);
  const previous: State | undefined = (await exists(statePath(options.dir)))
    ? await readState(options.dir)
    : undefined;
  if (previous && previous.project !== options.project) {
    throw new CliError(
      `${path.resolve(options.dir)} holds project "${previous.project}", not "${options.project}"; pull into another folder`,
      EXIT.usage,
    );
  }
  if (previous && !options.force) {
    const ws = await openWorkspace(options.dir);
    const unpushed = Object.keys(previous.pipelines).filter((id) => localStatus(ws, id) === 'modified');
    if (unpushed.length > 0) {
      throw new CliError(
        `Not pulling: ${unpushed.join(', ')} ${unpushed.length === 1 ? 'has' : 'have'} local changes that were not pushed, ` +
          'and pulling would overwrite them. Push them (tributary push), or pull --force to throw them away.',
        EXIT.conflict,
        { modified: unpushed },
      );
    }
  }

  const ids = await listRemoteIds(client, options.project);
  const state: State = {
    server: config.url,
    project: options.project,
    branch: options.branch ?? null,
    pipelines: {},
  };
  const pulled = [];
  for (const id of ids) {
    const remote = await getRemote(client, id);
    if (!remote) continue; // deleted since the listing
    const files = documentToFiles(remote.document, nodeCatalog);
    await writePipelineFolder(path.join(options.dir, id), files);
    state.pipelines[id] = {
      version: remote.version,
      versionHash: remote.versionHash,
      contentHash: contentHash(remote.document),
      savedBy: remote.versionCreatedBy,
      savedAt: remote.versionCreatedAt,
    };
    pulled.push({ id, version: remote.version, files: [...files.keys()] });
  }
  // Pulled before, gone from the server now: its folder goes too, or a push would try to recreate it.
  const gone = Object.keys(previous?.pipelines ?? {}).filter((id) => !state.pipelines[id]);
  for (const id of gone) await rm(path.join(options.dir, id), { recursive: true, force: true });
  await writeState(options.dir, state);

  const where = options.branch ? ` (branch ${options.branch})` : '';
  out.say(
    `Pulled ${pulled.length} pipeline${pulled.length === 1 ? '' : 's'} of project ${options.project}${where} from ${config.url} into ${options.dir}`,
  );
  for (const p of pulled)
    out.say(`  ${p.id.padEnd(24)} version ${String(p.version).padEnd(4)} ${p.files.join(', ')}`);
  for (const id of gone) out.say(`  ${id.padEnd(24)} removed: deleted on the server`);
  out.say(`State: ${statePath(options.dir)} (commit it with the files: push checks against it)`);
  out.result({
    project: options.project,
    branch: options.branch ?? null,
    dir: options.dir,
    pipelines: pulled,
    removed: gone,
  });
  return EXIT.ok;
}
