// sink.webhook: POSTs the input table to an HTTP endpoint as JSON batches, read from a server-side
// cursor (never the whole table in memory). Each batch is signed (sign.ts) and carries an
// Idempotency-Key, so a batch sent again — by a retry here or by Temporal retrying the step,
// which starts over from batch 1 — can be recognised by the receiver and applied once.
import { withTransaction } from '../../transaction.js';
import { bodyExcerpt, describeNetworkError, parseRetryAfter, sleep } from '../../source/http/http-client.js';
import { z } from 'zod';
import { configError, StepError, TransientError } from '../../errors.js';
import { configString, defineNodeType, type StepContext } from '../../node-type.js';
import { replacePlaceholders } from '../../placeholders.js';
import { quoteTable } from '../../sql.js';
import { signPayload } from './sign.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the sink sets itself. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'idempotency-key',
  'x-tributary-timestamp',
  'x-tributary-signature',
]);
/** One request gets this long for a complete response. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Backoff between tries of a batch never exceeds this. */
const MAX_BACKOFF_MS = 60_000;
/** A longer Retry-After is not waited out inside the step: Temporal retries the step after it. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

const ConfigSchema = z.object({
  url: z
    .string()
    .regex(/^https?:\/\//i, 'must be an http:// or https:// URL')
    .describe('Where the batches are POSTed; may contain {{ params.<name> }}'),
  batchSize: z.number().int().min(1).max(10_000).default(500).describe('Rows per request'),
  headers: z
    .record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), z.string())
    .default({})
    .superRefine((headers, issues) => {
      for (const name of Object.keys(headers)) {
        if (RESERVED_HEADERS.has(name.toLowerCase())) {
          issues.addIssue({ code: 'custom', path: [name], message: `${name} is set by the sink itself` });
        }
      }
    })
    .describe('Extra request headers (stored in the pipeline as plain text: no credentials here)'),
  signingSecret: z
    .string()
    .min(1)
    .optional()
    .describe('Name of the secret whose value signs each request (X-Tributary-Signature)')
    .meta({ 'x-widget': 'secret' }),
  maxRetries: z
    .number()
    .int()
    .min(0)
    .max(20)
    .default(5)
    .describe('Retries of a batch after a 5xx, a 429 or a network fault'),
  baseDelayMs: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(500)
    .describe('First wait before a retry; doubles on each further retry'),
});
type Config = z.infer<typeof ConfigSchema>;

export const webhookSink = defineNodeType({
  type: 'sink.webhook',
  kind: 'sink',
  title: 'Webhook',
  description: 'POSTs the rows as signed JSON batches to an HTTP endpoint, retrying failed batches.',
  icon: 'send',
  category: 'APIs',
  lineage: (config) => {
    const url = configString(config, 'url');
    return { writes: url ? [{ kind: 'url', name: url }] : [], columns: { from: 'input' } };
  },
  config: ConfigSchema,
  inputs: { min: 1, max: 1 },
  secrets: (config) => (config.signingSecret ? [config.signingSecret] : []),
  outsideBranch: () =>
    'sink.webhook would send rows to a URL outside the warehouse, where a branch has no copy; it runs on main only',
  async run(ctx, config, inputs) {
    const input = Object.values(inputs)[0];
    if (!input) throw new StepError('the webhook sink has no input table', 'config');
    // The signing secret never leaves the worker: only the signature it makes is sent. Its host
    // binding holds all the same: it signs only for the hosts it is bound to.
    const secret = config.signingSecret
      ? await ctx.secrets.resolve(config.signingSecret, {
          signFor: fillParams(ctx, config.url, 'url', encodeURIComponent),
        })
      : undefined;
    try {
      return await sendAll(ctx, config, quoteTable(input), secret);
    } catch (error) {
      // Nothing puts the secret into a message on purpose; this makes sure nothing does by accident.
      if (secret && error instanceof Error) error.message = error.message.split(secret).join('***');
      throw error;
    }
  },
});

async function sendAll(ctx: StepContext, config: Config, table: string, secret: string | undefined) {
  const url = fillParams(ctx, config.url, 'url', encodeURIComponent);
  try {
    new URL(url);
  } catch {
    throw configError('url', `"${displayUrl(url)}" is not a valid URL`);
  }
  const headers = Object.fromEntries(
    Object.entries(config.headers).map(([name, value]) => [name, fillParams(ctx, value, `headers.${name}`)]),
  );
  const target: Target = { url, where: `POST ${displayUrl(url)}`, headers, secret };
  let batch = 0;
  let rows = 0;
  let bytes = 0;
  await withTransaction(
    ctx.warehouse,
    async (client) => {
      // A scan from the table's first block (not joining another scan midway) reads rows in the same
      // order on every attempt, so a batch number — and its Idempotency-Key — always means the same rows.
      await client.query('set local synchronize_seqscans = off');
      await client.query(
        `declare webhook_rows no scroll cursor for select to_jsonb(r.*)::text as row from ${table} as r`,
      );
      for (;;) {
        const page = await client.query<{ row: string }>(
          `fetch forward ${config.batchSize} from webhook_rows`,
        );
        if (page.rows.length === 0) break;
        batch += 1;
        // Rows are spliced in as Postgres rendered them, so big numbers and numerics keep every digit.
        const body =
          `{"rows":[${page.rows.map((r) => r.row).join(',')}],"batch":${batch},` +
          `"runId":${JSON.stringify(ctx.runId)},"nodeId":${JSON.stringify(ctx.nodeId)}}`;
        await deliver(ctx, config, target, body, {
          batch,
          firstRow: rows + 1,
          lastRow: rows + page.rows.length,
        });
        rows += page.rows.length;
        bytes += Buffer.byteLength(body);
        ctx.heartbeat({ batch, rows });
        if (page.rows.length < config.batchSize) break;
      }
    },
    { isolation: 'repeatable read', readOnly: true },
  );
  ctx.log.info(`delivered ${rows} rows in ${batch} batches`, { rows, batches: batch });
  return { stats: { rowsIn: rows, rowsOut: 0, bytes } };
}

interface Target {
  url: string;
  /** The request as shown in messages: method and URL without credentials or query values. */
  where: string;
  headers: Record<string, string>;
  secret: string | undefined;
}

/** POSTs one batch, retrying 5xx, 408, 429 and network faults; every try is signed afresh. */
async function deliver(
  ctx: StepContext,
  config: Config,
  target: Target,
  body: string,
  batch: { batch: number; firstRow: number; lastRow: number },
): Promise<void> {
  const which = `batch ${batch.batch} (rows ${batch.firstRow}–${batch.lastRow})`;
  for (let attempt = 1; ; attempt++) {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      ...target.headers,
      'Content-Type': 'application/json',
      'X-Tributary-Timestamp': String(timestamp),
      'Idempotency-Key': `${ctx.runId}:${ctx.nodeId}:${batch.batch}`,
    };
    if (target.secret) headers['X-Tributary-Signature'] = signPayload(target.secret, timestamp, body);
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let failure: string;
    let retryAfterMs: number | undefined;
    try {
      const response = await ctx.fetch(target.url, {
        method: 'POST',
        headers,
        body,
        // A redirected POST may turn into a GET and lose the batch: redirects are a config problem.
        redirect: 'manual',
        signal: AbortSignal.any([ctx.signal, timeout]),
      });
      const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (response.ok) {
        await response.body?.cancel().catch(() => {});
        return;
      }
      const excerpt = await bodyExcerpt(response);
      if (response.status === 429 || response.status === 408 || response.status >= 500) {
        failure = `${status}${excerpt}`;
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      } else if (response.status >= 300 && response.status < 400) {
        const location = response.headers.get('location');
        throw new StepError(
          `${target.where} answered ${status} for ${which}, a redirect${location ? ` to ${displayUrl(location)}` : ''}; ` +
            'set url to the final address',
          'config',
        );
      } else {
        const hint = response.status === 413 ? ' (lower batchSize)' : '';
        throw new StepError(
          `${target.where} answered ${status} for ${which}${hint}${excerpt}`,
          response.status === 401 || response.status === 403
            ? 'auth'
            : response.status === 404 || response.status === 410
              ? 'not_found'
              : 'data',
        );
      }
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (error instanceof StepError) throw error;
      failure = timeout.aborted
        ? `no response within ${REQUEST_TIMEOUT_MS / 1000} s`
        : describeNetworkError(error);
    }
    if (attempt > config.maxRetries) {
      throw new TransientError(
        `${target.where} failed for ${which} after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${failure}`,
        retryAfterMs,
      );
    }
    const delay = retryAfterMs ?? Math.min(MAX_BACKOFF_MS, config.baseDelayMs * 2 ** (attempt - 1));
    if (delay > MAX_RETRY_AFTER_MS) {
      throw new TransientError(
        `${target.where} asked to retry ${which} in ${Math.ceil(delay / 1000)} s: ${failure}`,
        delay,
      );
    }
    ctx.log.warn(`${which}: ${failure}; retrying in ${delay} ms`, { batch: batch.batch, attempt });
    await sleep(delay, ctx.signal);
  }
}

/** `{{ params.x }}` in the URL or a header becomes the run's param value. */
function fillParams(
  ctx: StepContext,
  text: string,
  field: string,
  encode: (value: string) => string = (v) => v,
): string {
  return replacePlaceholders(text, (p) => {
    if (p.namespace !== 'params' || !Object.hasOwn(ctx.params, p.name)) {
      throw configError(field, `${p.text} cannot be used here; only {{ params.<name> }} of the run`);
    }
    const value = ctx.params[p.name];
    return encode(value === null || value === undefined ? '' : String(value));
  });
}

/** Retry-After as delta-seconds or an HTTP date, in ms; undefined when absent or unreadable. */
/** A URL fit for messages: no user info, no query (it may carry a token). */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return url.replace(/\?.*$/, '?…').replace(/\/\/[^/@]*@/, '//');
  }
}
