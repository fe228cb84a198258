// source.http: records from a REST API, page after page (page number, offset, cursor, Link header or
// a next URL in the body), into the step's table. Credentials are resolved here at run time and
// scrubbed from every message; transient faults are retried per page inside the step.
import { z } from 'zod';
import { configError, dataError, StepError } from '../../errors.js';
import { configString, columnsOf, defineNodeType, type StepContext } from '../../node-type.js';
import { isPlainObject, loadRecords, tableBytes } from '../json/records-loader.js';
import {
  DEFAULT_RETRY,
  displayUrl,
  fetchWithRetry,
  getPath,
  makeRedactor,
  nextLink,
  readText,
  templateJson,
  templateParams,
  type HttpRequest,
} from './http-client.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const AuthSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('bearer'),
    secret: z.string().min(1).describe('Name of the secret holding the token').meta({ 'x-widget': 'secret' }),
  }),
  z.object({
    type: z.literal('basic'),
    secret: z
      .string()
      .min(1)
      .describe('Name of the secret holding user:password')
      .meta({ 'x-widget': 'secret' }),
  }),
  z.object({
    type: z.literal('header'),
    name: z.string().regex(HEADER_NAME, 'must be an HTTP header name').describe('Header to send'),
    secret: z
      .string()
      .min(1)
      .describe('Name of the secret holding the header value')
      .meta({ 'x-widget': 'secret' }),
  }),
]);

const paramName = z.string().min(1);

const PaginationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({
    type: z.literal('page'),
    param: paramName.default('page'),
    start: z.number().int().min(0).default(1),
    sizeParam: paramName.optional(),
    size: z.number().int().min(1).optional(),
  }),
  z.object({
    type: z.literal('offset'),
    param: paramName.default('offset'),
    limitParam: paramName.default('limit'),
    limit: z.number().int().min(1).default(100),
    start: z.number().int().min(0).default(0),
  }),
  z.object({
    type: z.literal('cursor'),
    param: paramName.default('cursor'),
    cursorPath: z
      .string()
      .min(1)
      .default('next_cursor')
      .describe('Dotted path of the next cursor in the body'),
  }),
  z.object({ type: z.literal('link') }),
  z.object({
    type: z.literal('next_url'),
    nextUrlPath: z.string().min(1).default('next').describe('Dotted path of the next page URL in the body'),
  }),
]);

const RetrySchema = z
  .object({
    attempts: z.number().int().min(1).max(10).default(DEFAULT_RETRY.attempts),
    baseDelayMs: z.number().int().min(0).max(60_000).default(DEFAULT_RETRY.baseDelayMs),
    maxDelayMs: z.number().int().min(0).max(300_000).default(DEFAULT_RETRY.maxDelayMs),
    rateLimitAttempts: z.number().int().min(1).max(50).default(DEFAULT_RETRY.rateLimitAttempts),
    maxRetryAfterMs: z.number().int().min(0).max(600_000).default(DEFAULT_RETRY.maxRetryAfterMs),
  })
  .describe('Retries of one request inside the step (5xx, network faults, 429), before the step fails');

const ConfigSchema = z
  .object({
    url: z.string().min(1).describe('The endpoint; may use {{ params.x }}'),
    method: z.enum(['GET', 'POST']).default('GET'),
    headers: z.record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), z.string()).default({}),
    query: z
      .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]))
      .default({})
      .describe('Query parameters; values may use {{ params.x }}'),
    body: z.unknown().optional().describe('JSON body for POST; strings may use {{ params.x }}'),
    auth: AuthSchema.optional(),
    recordsPath: z
      .string()
      .default('')
      .describe('Dotted path of the records array in each response; empty when the response is the array'),
    pagination: PaginationSchema.prefault({ type: 'none' }),
    maxPages: z.number().int().min(1).max(1_000_000).default(1000),
    flatten: z.boolean().default(false),
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000).describe('Per request'),
    maxResponseBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(100 * 1024 * 1024),
    retry: RetrySchema.prefault({}),
  })
  .superRefine((config, issues) => {
    if (!config.url.includes('{{') && !/^https?:\/\/[^/]/i.test(config.url)) {
      issues.addIssue({ code: 'custom', path: ['url'], message: 'must be an http:// or https:// URL' });
    }
    if (config.body !== undefined && config.method !== 'POST') {
      issues.addIssue({ code: 'custom', path: ['body'], message: 'a body needs method POST' });
    }
    const p = config.pagination;
    if (p.type === 'page' && p.size !== undefined && !p.sizeParam) {
      issues.addIssue({ code: 'custom', path: ['pagination', 'sizeParam'], message: 'size needs sizeParam' });
    }
  });

type Config = z.infer<typeof ConfigSchema>;

export const httpSource = defineNodeType({
  type: 'source.http',
  kind: 'source',
  title: 'REST API',
  description:
    'Reads JSON records from an HTTP API, following its pagination, with bearer, basic or header authentication.',
  icon: 'globe',
  category: 'APIs',
  lineage: (config) => {
    const url = configString(config, 'url');
    return {
      reads: url ? [{ kind: 'url', name: url, ...columnsOf(config) }] : [],
      columns: { from: 'read' },
    };
  },
  config: ConfigSchema,
  inputs: { min: 0, max: 0 },
  secrets: (config) => (config.auth ? [config.auth.secret] : []),
  async run(ctx, config) {
    // Credentials go to the configured origin only (redirects elsewhere are refused), so that is
    // the destination a host-bound secret is checked against.
    const secret = config.auth
      ? await ctx.secrets.resolve(config.auth.secret, {
          sendTo: templateParams(config.url, ctx.params, 'url', encodeURIComponent),
        })
      : undefined;
    const redact = makeRedactor(secret ? [secret] : []);
    const notes: string[] = [];
    try {
      const records = fetchRecords(ctx, config, secret, redact, notes);
      const result = await loadRecords(ctx.warehouse, ctx.outputTable, records, {
        flatten: config.flatten,
        signal: ctx.signal,
      });
      return {
        table: ctx.outputTable,
        stats: { rowsIn: 0, rowsOut: result.rows, bytes: await tableBytes(ctx.warehouse, ctx.outputTable) },
        notes: [...notes, ...result.notes],
      };
    } catch (error) {
      // Whatever failed (fetch's own messages quote header values), the secret does not leave.
      if (error instanceof Error && secret) error.message = redact(error.message);
      throw error;
    }
  },
});

interface Page {
  url: string;
  response: Response;
  body: unknown;
}

async function* fetchRecords(
  ctx: StepContext,
  config: Config,
  secret: string | undefined,
  redact: (text: string) => string,
  notes: string[],
): AsyncGenerator<unknown> {
  const base = new URL(templateParams(config.url, ctx.params, 'url', encodeURIComponent));
  for (const [key, value] of Object.entries(config.query)) {
    const text =
      typeof value === 'string' ? templateParams(value, ctx.params, `query.${key}`) : String(value);
    base.searchParams.set(key, text); // URLSearchParams does the encoding
  }
  const headers = requestHeaders(ctx, config, secret);
  const body =
    config.method === 'POST' && config.body !== undefined
      ? JSON.stringify(templateJson(config.body, ctx.params, 'body'))
      : undefined;
  const pagination = config.pagination;
  const origin = base.origin;

  let url = firstPageUrl(base, pagination);
  let pageNumber = pagination.type === 'page' ? pagination.start : 0;
  let offset = pagination.type === 'offset' ? pagination.start : 0;
  const seen = new Set<string>();
  let rows = 0;

  for (let pages = 1; ; pages++) {
    const page = await fetchPage(
      ctx,
      config,
      { url, method: config.method, headers, ...(body ? { body } : {}) },
      redact,
    );
    const records = extractRecords(page, config, pages === 1, redact);
    rows += records.length;
    yield* records;
    ctx.heartbeat({ page: pages, rows });
    ctx.log.info('page read', { page: pages, records: records.length, url: redact(displayUrl(page.url)) });

    // Where the next page is, or null when this was the last one.
    let next: string | null = null;
    switch (pagination.type) {
      case 'none':
        break;
      case 'page': {
        const short = pagination.size !== undefined && records.length < pagination.size;
        if (records.length > 0 && !short) {
          pageNumber += 1;
          next = withParam(base, pagination.param, String(pageNumber), pagination.sizeParam, pagination.size);
        }
        break;
      }
      case 'offset': {
        if (records.length > 0 && records.length >= pagination.limit) {
          offset += records.length;
          next = withParam(base, pagination.param, String(offset), pagination.limitParam, pagination.limit);
        }
        break;
      }
      case 'cursor': {
        const cursor = getPath(page.body, pagination.cursorPath);
        if (cursor !== undefined && cursor !== null && cursor !== '' && cursor !== false) {
          if (typeof cursor === 'object') {
            throw dataError(`the cursor at "${pagination.cursorPath}" is an object or array, not a value`);
          }
          next = withParam(base, pagination.param, String(cursor));
        }
        break;
      }
      case 'link':
        next = nextLink(page.response.headers.get('link'), page.url) ?? null;
        break;
      case 'next_url': {
        const target = getPath(page.body, pagination.nextUrlPath);
        if (typeof target === 'string' && target !== '') {
          try {
            next = new URL(target, page.url).toString();
          } catch {
            throw dataError(
              `the next page URL at "${pagination.nextUrlPath}" is not a URL: ${redact(target.slice(0, 200))}`,
            );
          }
        }
        break;
      }
    }
    if (next === null) return;
    if (pages >= config.maxPages) {
      notes.push(
        `stopped after maxPages (${config.maxPages}) pages with ${rows} rows; the API had more pages: raise maxPages to read them`,
      );
      return;
    }
    // A next page already read would repeat forever (until maxPages) and duplicate rows.
    seen.add(url);
    if (seen.has(next)) {
      throw dataError(
        `pagination loops: page ${pages + 1} would be ${redact(displayUrl(next))} again, which was already read`,
      );
    }
    // Credentials go only where the pipeline sends them, never to another host a response names.
    if (secret && new URL(next).origin !== origin) {
      throw new StepError(
        `the next page is on another origin (${new URL(next).origin}); credentials are sent only to ${origin}`,
        'config',
      );
    }
    url = next;
  }
}

function requestHeaders(
  ctx: StepContext,
  config: Config,
  secret: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [name, value] of Object.entries(config.headers)) {
    headers[name.toLowerCase()] = templateParams(value, ctx.params, `headers.${name}`);
  }
  if (config.method === 'POST' && config.body !== undefined && !headers['content-type']) {
    headers['content-type'] = 'application/json';
  }
  if (config.auth && secret !== undefined) {
    switch (config.auth.type) {
      case 'bearer':
        headers.authorization = `Bearer ${secret}`;
        break;
      case 'basic':
        if (!secret.includes(':')) {
          throw configError(
            'auth.secret',
            `secret "${config.auth.secret}" must hold user:password for basic auth`,
          );
        }
        headers.authorization = `Basic ${Buffer.from(secret).toString('base64')}`;
        break;
      case 'header':
        headers[config.auth.name.toLowerCase()] = secret;
        break;
    }
  }
  return headers;
}

function firstPageUrl(base: URL, pagination: Config['pagination']): string {
  switch (pagination.type) {
    case 'page':
      return withParam(
        base,
        pagination.param,
        String(pagination.start),
        pagination.sizeParam,
        pagination.size,
      );
    case 'offset':
      return withParam(
        base,
        pagination.param,
        String(pagination.start),
        pagination.limitParam,
        pagination.limit,
      );
    default:
      return base.toString();
  }
}

function withParam(base: URL, name: string, value: string, extraName?: string, extraValue?: number): string {
  const url = new URL(base);
  url.searchParams.set(name, value);
  if (extraName && extraValue !== undefined) url.searchParams.set(extraName, String(extraValue));
  return url.toString();
}

async function fetchPage(
  ctx: StepContext,
  config: Config,
  request: HttpRequest,
  redact: (text: string) => string,
): Promise<Page> {
  const where = `${request.method} ${redact(displayUrl(request.url))}`;
  return fetchWithRetry(
    request,
    {
      fetch: ctx.fetch,
      signal: ctx.signal,
      retry: config.retry,
      timeoutMs: config.timeoutMs,
      redact,
      ...(config.auth ? { credentialsOrigin: new URL(request.url).origin } : {}),
      onRetry: ({ reason, delayMs, attempt }) =>
        ctx.log.warn('retrying request', { url: where, reason, delayMs, attempt }),
    },
    async (response) => {
      const text = await readText(response, config.maxResponseBytes, { what: `the response of ${where}` });
      const contentType = response.headers.get('content-type') ?? '(none)';
      if (response.status === 204 || text.trim() === '') {
        return { url: response.url || request.url, response, body: [] };
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        const start = text.replace(/\s+/g, ' ').trim().slice(0, 200);
        const jsonType = /[/+]json\b/i.test(contentType);
        throw dataError(
          redact(
            jsonType
              ? `the response of ${where} is not valid JSON (${(error as Error).message}); content-type ${contentType}; it starts with: ${start}`
              : `the response of ${where} is not JSON: content-type ${contentType}; it starts with: ${start}`,
          ),
        );
      }
      return { url: response.url || request.url, response, body };
    },
  );
}

function extractRecords(
  page: Page,
  config: Config,
  first: boolean,
  redact: (text: string) => string,
): unknown[] {
  const value = getPath(page.body, config.recordsPath);
  if (Array.isArray(value)) return value;
  const where = config.recordsPath ? `at recordsPath "${config.recordsPath}"` : 'at the top of the response';
  if (value === undefined || value === null) {
    // A last page may leave the array out; a first page without it means recordsPath is wrong.
    if (!first) return [];
    if (Array.isArray(page.body) && page.body.length === 0) return [];
    throw dataError(redact(`no records ${where} of ${displayUrl(page.url)}${describeKeys(page.body)}`));
  }
  if (isPlainObject(value) && config.pagination.type === 'none') return [value];
  throw dataError(
    redact(
      `expected an array of records ${where} of ${displayUrl(page.url)}, found ${Array.isArray(value) ? 'an array' : typeof value}` +
        describeKeys(value),
    ),
  );
}

function describeKeys(value: unknown): string {
  if (!isPlainObject(value)) return '';
  const keys = Object.keys(value).slice(0, 15);
  return keys.length ? `; its keys are: ${keys.join(', ')}` : '';
}
