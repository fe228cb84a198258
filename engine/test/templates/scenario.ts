// A template's golden scenario (fixtures/scenario.json) and what it runs against: data files, stand-in
// external databases, a fixture API, a signature-checking webhook receiver, exact table comparisons.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { z } from 'zod';

const RunSchema = z.strictObject({
  /** Run params, by name. */
  params: z.record(z.string(), z.unknown()).default({}),
  /** Before the run: data files (in `${files}`) replaced by these fixtures. */
  files: z.record(z.string(), z.string()).default({}),
  /** Before the run: SQL fixtures run on a scenario database (`warehouse` too), `${…}` filled in. */
  sql: z.array(z.strictObject({ database: z.string(), file: z.string() })).default([]),
  /** The fixtures folder the API serves during the run. */
  api: z.string().default('api'),
  /** Query params every API request of the run must carry. */
  expectQuery: z.record(z.string(), z.string()).optional(),
  status: z.enum(['succeeded', 'failed']),
  /** Step statistics the run must show, e.g. `{ "read": { "rowsOut": 2 } }` for an incremental read. */
  steps: z
    .record(z.string(), z.strictObject({ rowsIn: z.number().optional(), rowsOut: z.number().optional() }))
    .default({}),
  /** For a failed run: the step that failed and what its message must say. */
  error: z.strictObject({ step: z.string(), contains: z.array(z.string()).min(1) }).optional(),
});

const ExpectedTable = z.strictObject({
  /** `schema.table`; `${schema}` is the scenario's own warehouse schema. */
  table: z.string(),
  /** `warehouse`, or the name of a scenario database. */
  database: z.string().default('warehouse'),
  /** In `expected/`: the table as Postgres writes it with COPY … CSV HEADER (UTC, ISO dates). */
  file: z.string(),
  orderBy: z.array(z.string()).min(1),
});

const ExpectedWebhook = z.strictObject({
  /** In `expected/`: every row the receiver got (each batch once), as a JSON array. */
  webhook: z.string(),
  orderBy: z.array(z.string()).min(1),
});

export const ScenarioSchema = z.strictObject({
  description: z.string().min(1),
  /** Values that differ from the template's examples only because of the test environment. */
  values: z.record(z.string(), z.unknown()).default({}),
  /** Secrets of the scenario's project, by name. */
  secrets: z.record(z.string(), z.string()).default({}),
  /** Databases created for the scenario (standing in for external ones), each with its setup SQL. */
  databases: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.string()).default({}),
  /** A warehouse schema given the telemetry tables, by telemetry-sync's own DDL, before the runs. */
  telemetrySchema: z.string().optional(),
  /**
   * Another project that publishes a table as a data product and shares it with the scenario's
   * project: its setup SQL (in `${producer_schema}`) makes the table; `${product}` is its id.
   */
  producer: z.strictObject({ setup: z.string(), table: z.string() }).optional(),
  api: z.strictObject({ token: z.string().optional(), pageParam: z.string().optional() }).optional(),
  webhook: z.strictObject({ secret: z.string() }).optional(),
  runs: z.array(RunSchema).min(1),
  expected: z.array(z.union([ExpectedTable, ExpectedWebhook])).min(1),
});
export type Scenario = z.infer<typeof ScenarioSchema>;

export function readScenario(templateDir: string): Scenario {
  const file = path.join(templateDir, 'fixtures', 'scenario.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: every template has a golden scenario`);
  return ScenarioSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** Replaces `${name}` in every string of a JSON value; an unknown name is an error in the scenario. */
export function fillVariables<T>(value: T, variables: Record<string, string>): T {
  const fill = (text: string) =>
    text.replace(/\$\{([a-z:_]+)\}/g, (match, name: string) => {
      const found = variables[name];
      if (found === undefined) throw new Error(`scenario uses ${match}, which this test does not provide`);
      return found;
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fill(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface LocalServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

async function listen(
  handler: (request: SeenRequest, response: ServerResponse) => void,
  requests: SeenRequest[] = [],
): Promise<LocalServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      try {
        handler(seen, res);
      } catch (error) {
        res.writeHead(500).end(`test server failed: ${(error as Error).message}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface FixtureApi extends LocalServer {
  /** Serves this fixtures folder from now on. */
  serve(folder: string): void;
}

/**
 * A JSON API over fixture files: `GET /customers?page=2` answers `<folder>/customers.page-2.json`
 * (a page past the last file is an empty array), `GET /customers` answers `<folder>/customers.json`.
 * With a token, any request without `Authorization: Bearer <token>` gets 401.
 */
export async function startFixtureApi(
  fixturesDir: string,
  options: { token?: string; pageParam?: string },
): Promise<FixtureApi> {
  let folder = 'api';
  const api = await listen((request, res) => {
    if (options.token && request.headers.authorization !== `Bearer ${options.token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const page = options.pageParam ? request.query[options.pageParam] : undefined;
    const base = path.join(fixturesDir, folder, request.path.replace(/^\/+/, ''));
    const file = page !== undefined ? `${base}.page-${page}.json` : `${base}.json`;
    const body = existsSync(file) ? readFileSync(file, 'utf8') : page !== undefined ? '[]' : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  return {
    ...api,
    serve: (next) => {
      folder = next;
    },
  };
}

export interface WebhookReceiver extends LocalServer {
  /** Rows of every batch received once (by Idempotency-Key), in arrival order. */
  rows(): Record<string, unknown>[];
}

/** Receives sink.webhook batches; a request with a wrong signature gets 401 and is not counted. */
export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const batches = new Map<string, Record<string, unknown>[]>();
  const receiver = await listen((request, res) => {
    const timestamp = String(request.headers['x-tributary-timestamp'] ?? '');
    const expected = Buffer.from(
      `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`,
    );
    const given = Buffer.from(String(request.headers['x-tributary-signature'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end('bad signature');
      return;
    }
    const key = String(request.headers['idempotency-key'] ?? '');
    if (!batches.has(key))
      batches.set(key, (JSON.parse(request.body) as { rows: Record<string, unknown>[] }).rows);
    res.writeHead(200).end('ok');
  });
  return { ...receiver, rows: () => [...batches.values()].flat() };
}

/** Orders rows by the given keys (numbers as numbers, the rest as text), for a stable comparison. */
export function sortRows(rows: Record<string, unknown>[], keys: string[]): Record<string, unknown>[] {
  const compare = (a: unknown, b: unknown) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a ?? '').localeCompare(String(b ?? ''));
  return [...rows].sort((x, y) => {
    for (const key of keys) {
      const d = compare(x[key], y[key]);
      if (d !== 0) return d;
    }
    return 0;
  });
}

/**
 * A table exactly as COPY … CSV HEADER writes it, ordered, in UTC with ISO dates: NULL is an empty
 * field and an empty string is `""`, so the comparison sees every value and its formatting.
 */
export async function tableAsCsv(db: pg.Pool, table: string, orderBy: string[]): Promise<string> {
  const [schema, name] = table.split('.');
  const quoted = `${pg.escapeIdentifier(schema!)}.${pg.escapeIdentifier(name!)}`;
  const order = orderBy.map((c) => pg.escapeIdentifier(c)).join(', ');
  const client = await db.connect();
  try {
    await client.query(`set timezone to 'UTC'; set datestyle to 'ISO, MDY'`);
    const stream = client.query(
      copyTo(`copy (select * from ${quoted} order by ${order}) to stdout with (format csv, header)`),
    );
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await client.query('reset timezone; reset datestyle').catch(() => {});
    client.release();
  }
}
