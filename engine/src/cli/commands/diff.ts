// `tributary diff [pipeline]`: the local files against the server's current version, as a summary
// of node, edge, param and settings changes and a unified diff of pipeline.yaml and the SQL files.
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { diffPipelines, type Change, type PipelineDiff } from '../../pipelines/pipeline-diff.js';
import { PipelineSchema } from '../../model/pipeline.schema.js';
import { nodeCatalog } from '../node-catalog.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import { contentHash, documentToFiles } from '../pipeline-files.js';
import { getRemote } from '../remote-pipelines.js';
import { openWorkspace, selectIds, workspaceClient } from '../workspace.js';

const show = (v: unknown) =>
  typeof v === 'string' && v.includes('\n') ? '(multi-line text)' : JSON.stringify(v);

function changeLine(c: Change): string {
  if (c.kind === 'added') return `${c.path} added: ${show(c.to)}`;
  if (c.kind === 'removed') return `${c.path} removed (was ${show(c.from)})`;
  // SQL shows in the unified diff below; the summary only says that it changed.
  if (/(^|\.)sql$/.test(c.path)) return `${c.path} changed`;
  return `${c.path}: ${show(c.from)} → ${show(c.to)}`;
}

export function summaryLines(d: PipelineDiff): string[] {
  return [
    ...d.nodes.added.map((n) => `+ node ${n.id} (${n.type})`),
    ...d.nodes.removed.map((n) => `- node ${n.id} (${n.type})`),
    ...d.nodes.changed.map((n) => `~ node ${n.id} (${n.type}): ${n.changes.map(changeLine).join('; ')}`),
    ...d.edges.added.map((e) => `+ edge ${e}`),
    ...d.edges.removed.map((e) => `- edge ${e}`),
    ...[...d.params, ...d.settings, ...d.metadata].map((c) => `~ ${changeLine(c)}`),
  ];
}

/** A unified diff of the two folders' files, each rendered the same way so only content differs. */
function filePatches(
  id: string,
  before: Map<string, string>,
  after: Map<string, string>,
  label: string,
): string {
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  return names
    .filter((n) => before.get(n) !== after.get(n))
    .map((n) =>
      createTwoFilesPatch(
        before.has(n) ? `a/${id}/${n}` : '/dev/null',
        after.has(n) ? `b/${id}/${n}` : '/dev/null',
        before.get(n) ?? '',
        after.get(n) ?? '',
        label,
        'local',
      ).replace(/^=+\n/, ''),
    )
    .join('');
}

export async function diff(
  options: { dir: string; pipeline?: string; branch?: string },
  out: Output,
): Promise<ExitCode> {
  const ws = await openWorkspace(options.dir);
  const client = await workspaceClient(ws, options.branch);
  const results = [];
  for (const id of selectIds(ws, options.pipeline)) {
    const local = ws.local.get(id);
    const remote = await getRemote(client, id);
    if (local && !local.document) {
      out.say(`${id}: ${path.join(id, 'pipeline.yaml')} cannot be read; tributary validate says why`);
      results.push({ id, error: 'unreadable' });
      continue;
    }
    if (remote && local?.document && contentHash(remote.document) === contentHash(local.document)) {
      if (options.pipeline) out.say(`${id}: no differences from server version ${remote.version}`);
      results.push({ id, serverVersion: remote.version, same: true });
      continue;
    }
    const label = remote ? `server version ${remote.version}` : 'not on the server';
    const before = remote ? documentToFiles(remote.document, nodeCatalog) : new Map<string, string>();
    const after = local?.document ? documentToFiles(local.document, nodeCatalog) : new Map<string, string>();
    const a = remote ? PipelineSchema.safeParse(remote.document) : undefined;
    const b = local?.document ? PipelineSchema.safeParse(local.document) : undefined;
    const summary = a?.success && b?.success ? diffPipelines(a.data, b.data) : undefined;
    const patch = filePatches(id, before, after, label);
    out.say(`${id}: local against ${label}${!local ? ' (deleted locally)' : ''}`);
    for (const line of summary ? summaryLines(summary) : []) out.say(`  ${line}`);
    if (patch) out.say(patch.trimEnd());
    out.say();
    results.push({
      id,
      serverVersion: remote?.version ?? null,
      same: false,
      summary: summary ?? null,
      patch,
    });
  }
  if (!out.json && results.every((r) => r.same)) out.say('No differences from the server.');
  out.result({ pipelines: results });
  return EXIT.ok;
}
