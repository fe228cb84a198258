// Helpers for the source connectors' integration tests: a throwaway local HTTP server per test,
// one-node pipelines, reading what a run left behind (its rows, its step result, its failures), and
// finding a connector's sandbox to kill it mid-read.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Harness } from '../../engine/test/harness.js';
import type { StepActivityResult } from '../src/step-activity.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';
import { decodeHistory } from '../../engine/src/temporal/payload-codec.js';

export interface SeenRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

export interface TestServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export type Handler = (request: SeenRequest, response: ServerResponse, index: number) => void | Promise<void>;

/** A node:http server on 127.0.0.1 and a free port, recording every request it answers. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        query: new URL(req.url ?? '/', 'http://x').searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(seen);
      Promise.resolve(handler(seen, res, requests.length - 1)).catch((error: Error) => {
        res.statusCode = 599;
        res.end(`test handler failed: ${error.message}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(
  res: ServerResponse,
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A pipeline of one source node whose staging tables are kept, so tests can read them. */
export function onePipeline(
  id: string,
  type: string,
  config: Record<string, unknown>,
  node: Record<string, unknown> = {},
  params: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    params,
    settings: { keepStaging: true },
    nodes: [{ id: 'src', type, config, ...node }],
  };
}

/** The staging schema a run wrote to, by the engine's own naming rule. */
export function stagingSchemaOf(runId: string, pipelineId: string): string {
  return stagingSchemaFor(runId, pipelineId);
}

export async function tableRows(
  h: Harness,
  runId: string,
  pipelineId: string,
  orderBy?: string,
): Promise<Record<string, unknown>[]> {
  const schema = stagingSchemaOf(runId, pipelineId);
  const result = await h.platform.warehousePool.query(
    `select * from "${schema}".src${orderBy ? ` order by ${orderBy}` : ''}`,
  );
  return result.rows;
}

export async function columnTypes(
  h: Harness,
  runId: string,
  pipelineId: string,
): Promise<Record<string, string>> {
  const schema = stagingSchemaOf(runId, pipelineId);
  const result = await h.platform.warehousePool.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [`"${schema}".src`],
  );
  return Object.fromEntries(result.rows.map((r) => [r.name, r.type]));
}

/** What a run's history recorded for its `src` step: the completed result and every failure message. */
export async function stepHistory(
  h: Harness,
  runId: string,
): Promise<{ result: StepActivityResult | undefined; failures: string[] }> {
  // Payloads are encrypted in history (the harness turns the payload codec on): decode them first.
  const history = await decodeHistory(
    await h.platform.temporal.workflow.getHandle(runId).fetchHistory(),
    h.platform.temporal.options.loadedDataConverter.payloadCodecs,
  );
  const converter = h.platform.temporal.options.loadedDataConverter.payloadConverter;
  const scheduled = new Map<string, string>();
  let result: StepActivityResult | undefined;
  const failures: string[] = [];
  for (const event of history.events ?? []) {
    const scheduledAttributes = event.activityTaskScheduledEventAttributes;
    if (scheduledAttributes) scheduled.set(String(event.eventId), scheduledAttributes.activityId ?? '');
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && scheduled.get(String(completed.scheduledEventId)) === 'src') {
      result = converter.fromPayload(completed.result!.payloads![0]!) as StepActivityResult;
    }
    const failed = event.activityTaskFailedEventAttributes;
    if (failed && scheduled.get(String(failed.scheduledEventId)) === 'src') {
      for (let f = failed.failure; f; f = f.cause) failures.push(f.message ?? '');
    }
  }
  return { result, failures };
}

/** The process id of a running bubblewrap sandbox whose command line `matches`, if there is one. */
export function findSandbox(matches: (argv: string[]) => boolean): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // gone
    }
    if (argv[0]?.endsWith('bwrap') && matches(argv)) return Number(entry);
  }
  return undefined;
}

/**
 * Waits for such a sandbox (up to 3 minutes: on a loaded machine a connector's spec and discover
 * alone take a while) and kills its whole process group with SIGKILL, `afterMs` after it appeared;
 * returns its process id, undefined when none appeared.
 */
export async function killSandboxWhenFound(
  matches: (argv: string[]) => boolean,
  afterMs: number,
): Promise<number | undefined> {
  let pid: number | undefined;
  for (let i = 0; i < 1800 && !pid; i++) {
    pid = findSandbox(matches);
    if (!pid) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!pid) return undefined;
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  process.kill(-pid, 'SIGKILL');
  return pid;
}
