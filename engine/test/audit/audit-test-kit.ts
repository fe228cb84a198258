// Shared pieces of the audit and telemetry tests: the audit/telemetry routes in-process on a random
// port (through the real route table machinery), real HTTP calls with tokens, and small helpers to
// read a raw workflow history without the code under test.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import express from 'express';
import type { AppDeps } from '../../src/api/context.js';
import { auditRoutes } from '../../src/api/audit.routes.js';
import { createContext } from '../../src/api/context.js';
import { problemHandler, unknownRoute } from '../../src/api/problem.js';
import { mountRoutes } from '../../src/api/route.js';
import { telemetryRoutes } from '../../src/api/telemetry.routes.js';
import { silentLogger, type Logger } from '../../src/infra/logger.js';
import type { PipelineInput } from '../../src/model/pipeline.schema.js';
import { TokenStore } from '../../src/store/tokens.store.js';
import type { Harness } from '../harness.js';
import { decodeHistory } from '../../src/temporal/payload-codec.js';

/** A response body: tests check its shape with assertions, not with types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

export interface AuditApi {
  base: string;
  admin: string;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown },
  ): Promise<{
    status: number;
    headers: Headers;
    body: Body;
    text: string;
  }>;
  token(scopes: string[], projects?: string[]): Promise<string>;
  stop(): Promise<void>;
}

export const uniq = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function startAuditApi(
  h: Harness,
  log: Logger = silentLogger,
  extra: Partial<AppDeps> = {},
): Promise<AuditApi> {
  const app = express();
  app.use(express.json());
  const api = express.Router();
  mountRoutes(
    api,
    [...auditRoutes, ...telemetryRoutes],
    createContext({
      pool: h.platform.platformPool,
      warehousePool: h.platform.warehousePool,
      temporal: h.platform.temporal,
      runs: h.platform.runs,
      taskQueue: h.taskQueue,
      secrets: h.platform.secrets,
      version: 'test',
      log,
      ...extra,
    }),
  );
  api.use(unknownRoute);
  app.use('/api', api);
  app.use(problemHandler(log));
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokens = new TokenStore(h.platform.platformPool);
  const token = async (scopes: string[], projects?: string[]) =>
    (await tokens.create({ name: uniq('audit-test'), scopes, projects: projects ?? null, createdBy: 'test' }))
      .token;
  const admin = await token(['admin']);
  return {
    base,
    admin,
    token,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? admin}` };
      let body: string | undefined;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] = 'application/json';
      }
      const response = await fetch(`${base}${path}`, { method, headers, ...(body ? { body } : {}) });
      const text = await response.text();
      const json =
        /[/+]json/.test(response.headers.get('content-type') ?? '') && text ? JSON.parse(text) : text;
      return { status: response.status, headers: response.headers, body: json, text };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export const fastRetry = { maxAttempts: 3, initialIntervalSeconds: 0.1, backoffCoefficient: 1 };

export function pipeline(
  id: string,
  nodes: PipelineInput['nodes'],
  edges: [string, string][],
  extra: Partial<PipelineInput> = {},
): PipelineInput {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    nodes: nodes.map((n) => ({ retry: fastRetry, ...n })),
    edges: edges.map(([from, to]) => ({ from, to })),
    ...extra,
  };
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

/** A history as plain JSON, the way `temporal workflow show --output json` prints it. */
export interface RawEvent {
  eventId: string;
  eventTime: { seconds: string; nanos?: number };
  eventType: string;
  [attributes: string]: unknown;
}

export async function rawHistory(h: Harness, runId: string): Promise<RawEvent[]> {
  // Payloads are encrypted in history (the harness turns the payload codec on): decode them first.
  const history = await decodeHistory(
    await h.platform.temporal.workflow.getHandle(runId).fetchHistory(),
    h.platform.temporal.options.loadedDataConverter.payloadCodecs,
  );
  return (JSON.parse(JSON.stringify(history)) as { events: RawEvent[] }).events;
}

export const eventMs = (e: RawEvent) => Number(e.eventTime.seconds) * 1000 + (e.eventTime.nanos ?? 0) / 1e6;

/** Decodes a base64 `json/plain` payload by hand (not through the SDK's converter). */
export function payloadJson(payloads: unknown): unknown {
  const data = (payloads as { payloads?: { data?: string }[] } | undefined)?.payloads?.[0]?.data;
  return data ? JSON.parse(Buffer.from(data, 'base64').toString('utf8')) : undefined;
}

/** Every string a history holds, payloads decoded, as one text to search. */
export function historyText(events: RawEvent[]): string {
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') return;
    for (const [key, item] of Object.entries(value)) {
      if ((key === 'data' || key === 'encoding') && typeof item === 'string')
        decoded.push(Buffer.from(item, 'base64').toString('utf8'));
      walk(item);
    }
  };
  walk(events);
  return `${JSON.stringify(events)}\n${decoded.join('\n')}`;
}

export interface CapturedLog extends Logger {
  lines: string[];
}

/** A logger that keeps every line (message and fields) so a test can search what would be printed. */
export function captureLogger(lines: string[] = []): CapturedLog {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(
      `${level} ${message} ${JSON.stringify(fields ?? {}, (_k, v) => (v instanceof Error ? `${v.message}\n${v.stack}` : v))}`,
    );
  };
  const logger: CapturedLog = {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: () => logger,
  };
  return logger;
}
