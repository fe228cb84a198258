// The client's addresses: `--branch` travels as `?branch=` on pipeline calls only, and a server
// URL given with or without `/api` means the same server.
import { describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';
import { normaliseUrl } from './config.js';

describe('ApiClient', () => {
  const config = { url: 'http://localhost:3000', token: 't' };

  it('adds ?branch= to pipeline reads, saves and runs when a branch is given', () => {
    const client = new ApiClient(config, 'feature/x');
    expect(client.url('/pipelines/daily', true)).toBe(
      'http://localhost:3000/api/pipelines/daily?branch=feature%2Fx',
    );
    expect(client.url('/pipelines?project=a', true)).toBe(
      'http://localhost:3000/api/pipelines?project=a&branch=feature%2Fx',
    );
    expect(client.url('/runs/r1')).toBe('http://localhost:3000/api/runs/r1');
    expect(new ApiClient(config).url('/pipelines/daily', true)).toBe(
      'http://localhost:3000/api/pipelines/daily',
    );
  });

  it('takes the server URL with or without /api and a trailing slash', () => {
    expect(normaliseUrl('http://localhost:3000/api/')).toBe('http://localhost:3000');
    expect(normaliseUrl('https://trb.example.com/base/')).toBe('https://trb.example.com/base');
    expect(() => normaliseUrl('localhost')).toThrow(/is not a URL/);
  });
});
