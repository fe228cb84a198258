// Pure parts of the HTTP plumbing: Retry-After, Link headers, safe URLs, redaction, templating,
// backoff and cancellable waits.
import { describe, expect, it } from 'vitest';
import {
  backoff,
  displayUrl,
  getPath,
  makeRedactor,
  nextLink,
  parseRetryAfter,
  sleep,
  templateJson,
  templateParams,
} from './http-client.js';

describe('http client helpers', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('finds rel="next" in a Link header among other relations, resolving relative targets', () => {
    const base = 'https://api.example.com/v1/items?page=1';
    expect(
      nextLink(
        '<https://api.example.com/v1/items?page=1>; rel="first", </v1/items?page=2&a=1,2>; rel="next"',
        base,
      ),
    ).toBe('https://api.example.com/v1/items?page=2&a=1,2');
    expect(nextLink('<?page=3>; title="x"; rel=next', base)).toBe('https://api.example.com/v1/items?page=3');
    expect(nextLink('<https://x.test/2>; rel="prev next"', base)).toBe('https://x.test/2');
    expect(nextLink('<https://x.test/1>; rel="prev"', base)).toBeUndefined();
    expect(nextLink(null, base)).toBeUndefined();
  });

  it('shows URLs without user info or secret-looking query values', () => {
    expect(displayUrl('https://bob:pw@api.test/x?api_key=abc&page=2&access_token=t&q=a%20b')).toBe(
      'https://api.test/x?api_key=***&page=2&access_token=***&q=a+b',
    );
  });

  it('redacts a secret, its encodings and a basic-auth password', () => {
    const redact = makeRedactor(['alice:p@ss w0rd']);
    const base64 = Buffer.from('alice:p@ss w0rd').toString('base64');
    expect(redact(`Basic ${base64} / alice:p@ss w0rd / alice%3Ap%40ss%20w0rd / pw=p@ss w0rd`)).toBe(
      'Basic *** / *** / *** / pw=***',
    );
    expect(makeRedactor([])('nothing to hide')).toBe('nothing to hide');
  });

  it('fills {{ params.x }} placeholders, encoded where asked', () => {
    const params = { q: 'a&b c', n: 5, none: null };
    expect(
      templateParams('https://x.test/{{ params.q }}/{{params.n}}', params, 'url', encodeURIComponent),
    ).toBe('https://x.test/a%26b%20c/5');
    expect(templateParams('[{{ params.none }}]', params, 'x')).toBe('[]');
    expect(() => templateParams('{{ params.missing }}', params, 'query.q')).toThrow(/config\.query\.q/);
    expect(
      templateJson({ n: '{{ params.n }}', s: 'n={{ params.n }}', list: ['{{ params.q }}'] }, params, 'body'),
    ).toEqual({
      n: 5,
      s: 'n=5',
      list: ['a&b c'],
    });
  });

  it('reads dotted paths through objects and arrays', () => {
    const body = { data: { items: [{ id: 1 }] }, meta: null };
    expect(getPath(body, 'data.items.0.id')).toBe(1);
    expect(getPath(body, '')).toBe(body);
    expect(getPath(body, 'meta.next')).toBeUndefined();
  });

  it('backs off exponentially up to the cap', () => {
    const retry = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoff(1, retry)).toBeGreaterThanOrEqual(100);
    expect(backoff(1, retry)).toBeLessThanOrEqual(120);
    expect(backoff(3, retry)).toBeGreaterThanOrEqual(400);
    expect(backoff(10, retry)).toBe(1000);
  });

  it('wakes a wait at once when its signal aborts, with the abort reason', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(60_000, controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled')), 20);
    await expect(waiting).rejects.toThrow('cancelled');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
