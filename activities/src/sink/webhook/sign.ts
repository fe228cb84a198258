// Signatures of the requests sink.webhook sends, so receivers can tell them from forgeries.
import { createHmac } from 'node:crypto';

/**
 * The value of `X-Tributary-Signature` for a request: `sha256=` and the hex HMAC-SHA256, keyed
 * with the signing secret, of `"<timestamp>.<body>"` — the `X-Tributary-Timestamp` header (unix
 * seconds), a dot, and the raw request body exactly as sent.
 *
 * Verifying, on the receiver:
 * 1. Read the raw body bytes before any JSON parsing (re-serialising changes them).
 * 2. Reject the request if `X-Tributary-Timestamp` is more than 5 minutes from your clock; this
 *    bounds replays of a captured request.
 * 3. Recompute the signature and compare it with the header in constant time:
 *
 *    ```ts
 *    import { createHmac, timingSafeEqual } from 'node:crypto';
 *    const timestamp = req.headers['x-tributary-timestamp'];
 *    const expected = Buffer.from(
 *      'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex'),
 *    );
 *    const given = Buffer.from(String(req.headers['x-tributary-signature'] ?? ''));
 *    const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300;
 *    const valid = fresh && given.length === expected.length && timingSafeEqual(given, expected);
 *    ```
 * 4. Deduplicate on `Idempotency-Key` (`<runId>:<nodeId>:<batch>`): a batch retried after a timeout
 *    or a 5xx arrives again with the same key and body (and a fresh timestamp and signature).
 */
export function signPayload(secret: string, timestamp: number | string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
