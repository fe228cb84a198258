// HTTP plumbing shared by source.http and source.json's `url`: one request with bounded in-step
// retries (429 honours Retry-After, 5xx and network faults back off exponentially), failure
// classification, `{{ params.x }}` templating, and URLs and messages safe to show (no secrets).
import { configError, StepError, TransientError } from '../../errors.js';
import { replacePlaceholders } from '../../placeholders.js';

export interface RetrySettings {
  /** Tries of one request on 5xx, 408 and network faults, the first included. */
  attempts: number;
  /** First backoff; doubles on every further try. */
  baseDelayMs: number;
  /** Cap of one backoff wait. */
  maxDelayMs: number;
  /** Tries of one request on 429 (Too Many Requests), the first included. */
  rateLimitAttempts: number;
  /** A Retry-After longer than this is not waited out in the step: Temporal retries it later. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetrySettings = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  rateLimitAttempts: 10,
  maxRetryAfterMs: 60_000,
};

export interface HttpRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface HttpClientOptions {
  fetch: typeof fetch;
  signal: AbortSignal;
  retry: RetrySettings;
  timeoutMs: number;
  /** Removes secrets from any text that may end up in an error or a log line. */
  redact: (text: string) => string;
  /** When credentials are sent: the only origin redirects may lead to. */
  credentialsOrigin?: string;
  /** Told about each wait, for logs. */
  onRetry?: (info: { reason: string; delayMs: number; attempt: number }) => void;
}

/**
 * Sends a request and hands a 2xx response to `read`, retrying transient failures (of the request
 * or of `read`, e.g. a connection dropped mid-body) within the bounds of `retry`. 4xx → StepError;
 * retries exhausted → TransientError, so Temporal retries the whole step. `timeoutMs` covers the
 * request and `read`; whatever `read` leaves unread (a streamed body) is not timed.
 */
export async function fetchWithRetry<T>(
  request: HttpRequest,
  options: HttpClientOptions,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  const { retry, signal, redact } = options;
  const where = `${request.method} ${redact(displayUrl(request.url))}`;
  let faults = 0;
  let rateLimited = 0;
  for (;;) {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error('timeout')), options.timeoutMs);
    let response: Response | undefined;
    try {
      response = await send(request, options, AbortSignal.any([signal, timeout.signal]), where);
      if (response.ok) return await read(response);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof StepError) throw error;
      faults += 1;
      const reason = timeout.signal.aborted
        ? `no complete response within ${options.timeoutMs} ms`
        : describeNetworkError(error);
      if (faults >= retry.attempts) {
        throw new TransientError(redact(`${where} failed after ${faults} attempts: ${reason}`));
      }
      await wait(backoff(faults, retry), reason, faults, options);
      continue;
    } finally {
      clearTimeout(timer);
    }
    const status = response.status;
    if (status === 429) {
      rateLimited += 1;
      await response.body?.cancel().catch(() => {});
      const asked = parseRetryAfter(response.headers.get('retry-after'));
      const delay = asked ?? backoff(rateLimited, retry);
      if (delay > retry.maxRetryAfterMs || rateLimited >= retry.rateLimitAttempts) {
        throw new TransientError(
          redact(
            `${where} was rate limited (HTTP 429) ${rateLimited} time${rateLimited === 1 ? '' : 's'}` +
              (asked !== undefined ? `; the server asked to wait ${Math.ceil(asked / 1000)} s` : ''),
          ),
          delay,
        );
      }
      await wait(delay, 'HTTP 429', rateLimited, options);
      continue;
    }
    if (status >= 500 || status === 408) {
      faults += 1;
      const excerpt = await bodyExcerpt(response);
      if (faults >= retry.attempts) {
        throw new TransientError(
          redact(`HTTP ${status} ${response.statusText} from ${where} after ${faults} attempts${excerpt}`),
        );
      }
      await wait(backoff(faults, retry), `HTTP ${status}`, faults, options);
      continue;
    }
    const excerpt = await bodyExcerpt(response);
    throw new StepError(
      redact(`HTTP ${status} ${response.statusText} from ${where}${excerpt}`),
      status === 401 || status === 403 ? 'auth' : status === 404 || status === 410 ? 'not_found' : 'config',
    );
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * fetch with redirects followed here rather than by fetch, so that credentials (in any header, not
 * only Authorization) never follow a redirect to another origin.
 */
async function send(request: HttpRequest, options: HttpClientOptions, signal: AbortSignal, where: string) {
  let { url, method, body } = request;
  let headers = request.headers;
  for (let hops = 0; ; hops++) {
    const response = await options.fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal,
      redirect: 'manual',
    });
    const location = REDIRECTS.has(response.status) ? response.headers.get('location') : null;
    if (!location) return response;
    await response.body?.cancel().catch(() => {});
    if (hops >= 10) throw new StepError(`${where} redirected more than 10 times`, 'config');
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new StepError(`${where} redirected to an invalid URL`, 'data');
    }
    if (options.credentialsOrigin && next.origin !== options.credentialsOrigin) {
      throw new StepError(
        `${where} redirected to another origin (${next.origin}); credentials are sent only to ${options.credentialsOrigin}`,
        'config',
      );
    }
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && method === 'POST')
    ) {
      method = 'GET';
      body = undefined;
      headers = Object.fromEntries(
        Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-type'),
      );
    }
    url = next.toString();
  }
}

async function wait(delayMs: number, reason: string, attempt: number, options: HttpClientOptions) {
  options.onRetry?.({ reason: options.redact(reason), delayMs, attempt });
  await sleep(delayMs, options.signal);
}

/** Exponential backoff with a little jitter, capped. */
export function backoff(attempt: number, retry: Pick<RetrySettings, 'baseDelayMs' | 'maxDelayMs'>): number {
  const exponential = retry.baseDelayMs * 2 ** (attempt - 1);
  const jitter = 1 + Math.random() * 0.2;
  return Math.min(retry.maxDelayMs, Math.round(exponential * jitter));
}

/** Retry-After as delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Waits, waking early with the signal's reason when the step is cancelled. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function describeNetworkError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? e?.message ?? String(error);
}

/** `: <first 300 characters of the body>` or nothing; never throws. */
export async function bodyExcerpt(response: Response, max = 300): Promise<string> {
  try {
    const text = await readText(response, 64 * 1024, { truncate: true });
    const clean = text.replace(/\s+/g, ' ').trim();
    if (!clean) return '';
    return `: ${clean.length > max ? `${clean.slice(0, max)}…` : clean}`;
  } catch {
    return '';
  }
}

/**
 * Reads a body as text, at most `maxBytes`: beyond that it either stops (truncate) or fails, so a
 * runaway response cannot exhaust memory.
 */
export async function readText(
  response: Response,
  maxBytes: number,
  options: { truncate?: boolean; what?: string } = {},
): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => {});
      if (options.truncate) {
        text += decoder.decode(value.subarray(0, value.byteLength - (bytes - maxBytes)), { stream: true });
        return text;
      }
      throw new StepError(
        `${options.what ?? 'the response'} is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB; ` +
          `page it (pagination) or raise maxResponseBytes`,
        'data',
      );
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

const SECRET_QUERY_KEY = /(token|key|secret|password|passwd|pwd|signature|sig|auth|credential|session)/i;

/** A URL fit for messages: no user info, and values of secret-looking query params hidden. */
export function displayUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\?.*$/, '?…');
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of new Set(parsed.searchParams.keys())) {
    if (SECRET_QUERY_KEY.test(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}

/** Builds a function that replaces every given secret (and its usual encodings) with `***`. */
export function makeRedactor(secrets: string[]): (text: string) => string {
  const variants = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    variants.add(secret);
    variants.add(encodeURIComponent(secret));
    variants.add(Buffer.from(secret).toString('base64'));
    variants.add(JSON.stringify(secret).slice(1, -1));
    // For basic auth, the password alone may be echoed back.
    const colon = secret.indexOf(':');
    if (colon >= 0 && secret.length - colon - 1 >= 4) variants.add(secret.slice(colon + 1));
  }
  const list = [...variants].filter((v) => v.length >= 3).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const v of list) out = out.split(v).join('***');
    return out;
  };
}

/**
 * Replaces `{{ params.x }}` with the run's param value, through `encode` (e.g. encodeURIComponent
 * for URLs). The compiler has already checked the names; an unknown one here is a config error.
 */
export function templateParams(
  text: string,
  params: Record<string, unknown>,
  field: string,
  encode: (value: string) => string = (v) => v,
): string {
  return replacePlaceholders(text, (p) => {
    if (p.namespace !== 'params')
      throw configError(field, `${p.text} cannot be used here; only {{ params.<name> }}`);
    if (!(p.name in params)) throw configError(field, `${p.text} names no param of this run`);
    const value = params[p.name];
    return encode(value === null || value === undefined ? '' : String(value));
  });
}

/** Replaces placeholders in every string of a JSON value; a string that is one placeholder keeps the param's type. */
export function templateJson(value: unknown, params: Record<string, unknown>, field: string): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*params\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(value);
    if (whole && whole[1]! in params) return params[whole[1]!] ?? null;
    return templateParams(value, params, field);
  }
  if (Array.isArray(value)) return value.map((v, i) => templateJson(v, params, `${field}.${i}`));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, templateJson(v, params, `${field}.${k}`)]),
    );
  return value;
}

/** Reads a dotted path (`data.items`, `results.0.rows`) from a parsed JSON value. */
export function getPath(value: unknown, path: string): unknown {
  if (!path) return value;
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** The `rel="next"` target of an RFC 8288 Link header, resolved against the request URL. */
export function nextLink(header: string | null, base: string): string | undefined {
  if (!header) return undefined;
  // Split on commas that start a new link (`, <`), not commas inside URLs or parameters.
  for (const part of header.split(/,\s*(?=<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2]!);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) {
      try {
        return new URL(match[1]!, base).toString();
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
