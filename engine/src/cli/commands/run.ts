// `tributary run PIPELINE`: starts a run of the server's current version; with --wait, follows it
// (the run's event stream, or polling when a proxy cuts the stream) with a line per step change,
// and exits 0 only when the run succeeded.
import { ApiClient } from '../api-client.js';
import { loadConfig } from '../config.js';
import { CliError, EXIT, usageError, type ExitCode } from '../exit-codes.js';
import type { Output } from '../output.js';
import type { RunStarted, RunView, StepView } from '../api-types.js';
import { pipelinePath } from '../remote-pipelines.js';
import { readState } from '../state-file.js';

export interface RunOptions {
  pipeline: string;
  /** `--param name=value`, repeated. */
  param: string[];
  wait?: boolean;
  branch?: string;
  /** A pulled folder (default: the current one): its branch is the run's unless --branch says otherwise. */
  dir?: string;
}

/** The branch a pulled folder was pulled from; none when it is not a pulled folder or is of main. */
async function folderBranch(dir: string): Promise<string | undefined> {
  try {
    return (await readState(dir)).branch ?? undefined;
  } catch {
    return undefined;
  }
}

export function parseParams(pairs: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw usageError(`--param "${pair}" must be name=value, e.g. --param since=2026-01-01`);
    params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return params;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A step's line; it ends with where the run is (`in branch "x"` / `on main`), like every line about a run. */
export function stepLine(id: string, step: StepView, where: string): string {
  const took =
    step.startedAt && step.endedAt
      ? `  ${seconds(Date.parse(step.endedAt) - Date.parse(step.startedAt))}`
      : '';
  const rows = step.rowsOut !== null ? `  ${step.rowsIn ?? 0} rows in, ${step.rowsOut} rows out` : '';
  const attempt = step.attempt > 1 ? `  attempt ${step.attempt}` : '';
  const error = step.error ? `\n      ${step.error}` : '';
  return `  ${id.padEnd(20)} ${step.status.padEnd(10)}${rows}${took}${attempt}  ${where}` + error;
}

/** Yields the run each time it changes: from SSE while the stream lasts, then by polling. */
async function* follow(client: ApiClient, runId: string): AsyncGenerator<RunView> {
  const path = `/runs/${encodeURIComponent(runId)}`;
  const response = await client.raw('GET', `${path}/events`, { headers: { accept: 'text/event-stream' } });
  if (response.ok && response.body) {
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = frame.match(/^event: (.*)$/m)?.[1];
          const data = frame.match(/^data: (.*)$/m)?.[1];
          if (event === 'progress' && data) yield JSON.parse(data) as RunView;
          if (event === 'end') return;
        }
      }
    } catch {
      // A stream cut half-way (proxy timeout, network): polling below picks up where it was.
    }
  }
  for (;;) {
    const run = (await client.request<RunView>('GET', path)).body;
    yield run;
    if (run.status !== 'running') return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function run(options: RunOptions, out: Output): Promise<ExitCode> {
  // In a folder pulled from a branch, `run` runs the branch's copy, as `push` there saves it.
  const client = new ApiClient(
    await loadConfig(),
    options.branch ?? (await folderBranch(options.dir ?? '.')),
  );
  const params = parseParams(options.param);
  const startedAt = Date.now();
  const started = await client
    .request<RunStarted>('POST', `${pipelinePath(options.pipeline)}/runs`, {
      body: { params },
      onBranch: true,
      accept: [400, 404, 409],
    })
    .then((reply) => {
      if (reply.status < 300) return reply.body;
      const problem = reply.body as unknown as { detail?: string };
      throw new CliError(
        `Run of "${options.pipeline}" ${client.where} not started: ${problem.detail ?? reply.status}`,
        reply.status === 409 ? EXIT.conflict : EXIT.failed,
      );
    });
  out.say(
    `Started run ${started.runId} of ${options.pipeline} version ${started.pipelineVersion} ${client.where}`,
  );
  if (!options.wait) {
    out.say(
      `Follow run ${started.runId} ${client.where} with: tributary run … --wait, or GET ${client.url(`/runs/${started.runId}`)}`,
    );
    out.result(started);
    return EXIT.ok;
  }

  const shown = new Map<string, string>();
  let last: RunView | undefined;
  for await (const view of follow(client, started.runId)) {
    last = view;
    for (const [id, step] of Object.entries(view.steps)) {
      const key = `${step.status}/${step.attempt}`;
      if (shown.get(id) === key || step.status === 'pending') continue;
      shown.set(id, key);
      out.say(stepLine(id, step, client.where));
    }
  }
  const status = last?.status ?? 'unknown';
  const ok = status === 'succeeded';
  out.say(
    // The server's duration needs the run's close time, which Temporal's visibility may not have yet.
    `Run ${started.runId} ${status} in ${seconds(last?.durationMs ?? Date.now() - startedAt)} ${client.where}`,
  );
  out.result(last ?? started);
  return ok ? EXIT.ok : EXIT.failed;
}
