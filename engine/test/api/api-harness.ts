// The API in-process on a random port, wired to the test harness's real platform (Postgres,
// Temporal, a worker on the test's own task queue), plus small helpers for real HTTP calls.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { createApp } from '../../src/api/app.js';
import type { AppDeps } from '../../src/api/context.js';
import { silentLogger } from '../../src/infra/logger.js';
import { TokenStore } from '../../src/store/tokens.store.js';
import { startHarness, type Harness } from '../harness.js';
import { responseContract } from './response-contract.js';

/** A response body: tests check its shape with assertions, not with types. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

export interface Reply<T = Body> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is (no JSON encoding). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface ApiHarness {
  h: Harness;
  base: string;
  /** A token with `admin` on every project. */
  admin: string;
  call<T = Body>(method: string, path: string, options?: CallOptions): Promise<Reply<T>>;
  /** A new token with these scopes (and project limit). */
  token(scopes: string[], projects?: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** A unique slug, so test files sharing one database and one Temporal never collide. */
export const uniq = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function startApi(extra: Partial<AppDeps> = {}, existing?: Harness): Promise<ApiHarness> {
  const h = existing ?? (await startHarness());
  const app = createApp({
    pool: h.platform.platformPool,
    warehousePool: h.platform.warehousePool,
    runnerPool: h.platform.runnerPool,
    dataDir: h.dataDir,
    temporal: h.platform.temporal,
    runs: h.platform.runs,
    taskQueue: h.taskQueue,
    secrets: h.platform.secrets,
    version: 'test',
    log: silentLogger,
    ssePollMs: 200,
    ...extra,
  });
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokens = new TokenStore(h.platform.platformPool);
  const token = async (scopes: string[], projects?: string[]) =>
    (await tokens.create({ name: uniq('test'), scopes, projects: projects ?? null, createdBy: 'test' }))
      .token;
  const admin = await token(['admin']);

  const checkResponse = responseContract();
  const call = async (method: string, path: string, options: CallOptions = {}): Promise<Reply> => {
    const headers: Record<string, string> = { ...options.headers };
    const auth = options.token === undefined ? admin : options.token;
    if (auth) headers.authorization = `Bearer ${auth}`;
    let body: string | undefined = options.raw;
    // GET and HEAD carry no body; table-driven tests may pass one for every method.
    if (options.body !== undefined && method !== 'GET' && method !== 'HEAD') {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    const contentType = response.headers.get('content-type') ?? '';
    if (/json/.test(contentType) && text) parsed = JSON.parse(text);
    checkResponse(method, path, response.status, contentType, parsed);
    return { status: response.status, headers: response.headers, body: parsed, text };
  };

  return {
    h,
    base,
    admin,
    call,
    token,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (!existing) await h.stop();
    },
  };
}

/** A small valid pipeline of one `source.generate` node. */
export function generatePipeline(id: string, overrides: Record<string, unknown> = {}) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: `Pipeline ${id}`,
    nodes: [
      {
        id: 'g',
        type: 'source.generate',
        config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
      },
    ],
    ...overrides,
  };
}
