// `tributary branch update [NAME]`: brings a development branch up to date with main. Pipelines the
// branch did not change take main's latest version (and pipelines made on main arrive); a pipeline
// changed on both sides needs --keep-branch ID or --take-main ID, or nothing is updated (exit 3).
import { ApiClient } from '../api-client.js';
import type { BranchUpdated, BranchUpdatePreview } from '../api-types.js';
import { loadConfig } from '../config.js';
import { CliError, EXIT, usageError, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { readState } from '../state-file.js';

export interface BranchUpdateOptions {
  /** The branch; default: the one the folder was pulled from. */
  name?: string;
  /** The project; default: the folder's. */
  project?: string;
  dir: string;
  keepBranch: string[];
  takeMain: string[];
}

/** What an update will do (before) and did (after) to a pipeline. */
const WILL: Record<string, string> = {
  updated: "takes main's latest version",
  added: 'made on main, comes into the branch',
  removed: 'deleted on main, leaves the branch',
};
const DID: Record<string, string> = {
  updated: "took main's latest version",
  added: 'made on main, now in the branch',
  removed: 'deleted on main, left the branch',
  'took-main': "took main's version (the branch's change is dropped)",
  'kept-branch': "kept the branch's version, now over main's latest",
};

const versions = (from: number | null, to: number | null) =>
  `(main version ${from ?? '–'} → ${to ?? 'deleted'})`;

async function folder(dir: string) {
  try {
    return await readState(dir);
  } catch {
    return undefined;
  }
}

export async function branchUpdate(options: BranchUpdateOptions, out: Output): Promise<ExitCode> {
  const state = await folder(options.dir);
  const name = options.name ?? state?.branch ?? undefined;
  const project = options.project ?? state?.project;
  if (!name || !project)
    throw usageError(
      'Name the branch and its project (tributary branch update NAME --project P), or run it in a folder pulled with --branch',
    );
  const both = options.keepBranch.filter((id) => options.takeMain.includes(id));
  if (both.length) throw usageError(`--keep-branch and --take-main both name ${both.join(', ')}: choose one`);
  const client = new ApiClient(await loadConfig(), name);
  const where = client.where;
  const path = `/projects/${encodeURIComponent(project)}/branches/${encodeURIComponent(name)}/update`;

  const preview = (await client.request<BranchUpdatePreview>('GET', path)).body;
  if (preview.upToDate) {
    out.say(`Branch "${name}" of ${project} is up to date with main; nothing to update ${where}`);
    out.result({ applied: [] });
    return EXIT.ok;
  }
  const choices: Record<string, { take: 'branch' | 'main'; mainVersion: number | null }> = {};
  for (const c of preview.conflicts) {
    if (options.keepBranch.includes(c.pipelineId))
      choices[c.pipelineId] = { take: 'branch', mainVersion: c.mainVersion };
    if (options.takeMain.includes(c.pipelineId))
      choices[c.pipelineId] = { take: 'main', mainVersion: c.mainVersion };
  }
  const open = preview.conflicts.filter((c) => !choices[c.pipelineId]);
  if (open.length > 0) {
    for (const c of preview.changes)
      out.say(
        `  ${c.pipelineId.padEnd(24)} ${WILL[c.change]} ${versions(c.baseVersion, c.mainVersion)} ${where}`,
      );
    for (const c of open) {
      out.say(
        `  ${c.pipelineId.padEnd(24)} changed on both sides: main is at ${c.mainVersion === null ? 'no version (deleted)' : `version ${c.mainVersion}`}, ` +
          `the branch's is version ${c.branchVersion} (from main version ${c.baseVersion ?? '–'}) ${where}`,
      );
      const { nodes, edges } = c.diff;
      for (const n of nodes.changed)
        out.say(`      ~ node ${n.id}: ${n.changes.map((x) => x.path).join(', ')} (main → branch)`);
      for (const n of nodes.added) out.say(`      + node ${n.id} (${n.type}) only in the branch`);
      for (const n of nodes.removed) out.say(`      − node ${n.id} (${n.type}) only on main`);
      for (const e of [...edges.added, ...edges.removed]) out.say(`      ~ edge ${e}`);
    }
    throw new CliError(
      `Nothing updated ${where}: ${open.length} pipeline${open.length === 1 ? '' : 's'} changed on both sides; ` +
        `choose for each with --keep-branch ID or --take-main ID (${open.map((c) => c.pipelineId).join(', ')})`,
      EXIT.conflict,
      { conflicts: open },
    );
  }
  const updated = (await client.request<BranchUpdated>('POST', path, { body: { choices } })).body;
  out.say(`Updated branch "${name}" of ${project} from main: ${updated.applied.length} pipeline(s) ${where}`);
  for (const a of updated.applied)
    out.say(
      `  ${a.pipelineId.padEnd(24)} ${DID[a.change]} ${versions(a.baseVersion, a.mainVersion)} ${where}`,
    );
  out.result(updated);
  return EXIT.ok;
}
