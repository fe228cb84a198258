// The API tests' response check (response-contract.ts) fails a body that does not match its route's
// declared schema and a success status the route does not declare, and accepts what is declared.
import { describe, expect, it } from 'vitest';
import { responseContract } from './response-contract.js';

const check = responseContract();
const json = 'application/json; charset=utf-8';
const problem = { type: 'https://tributary.dev/problems/503', title: 'Service Unavailable', status: 503 };

describe('the response contract', () => {
  it('accepts a body that matches its declared schema', () => {
    expect(() => check('GET', '/api/connectors', 200, json, { items: [], nextCursor: null })).not.toThrow();
  });

  it('fails a body that does not, naming the route and the field', () => {
    expect(() => check('GET', '/api/connectors', 200, json, { items: 'none' })).toThrow(
      /GET \/connectors → 200: the body does not match its declared schema: .*items/,
    );
    expect(() =>
      check('GET', '/api/pipelines/p/nodes/out/target', 200, json, { nodeId: 'out', table: 1 }),
    ).toThrow(/GET \/pipelines\/\{id\}\/nodes\/\{nodeId\}\/target → 200/);
  });

  it('fails a success status the route does not declare', () => {
    expect(() => check('GET', '/api/connectors', 201, json, {})).toThrow(/declares no 201 response/);
  });

  it('checks any error as a Problem, also of a status the route does not list', () => {
    expect(() => check('GET', '/api/connectors', 503, 'application/problem+json', problem)).not.toThrow();
    expect(() => check('GET', '/api/connectors', 503, 'application/problem+json', { oops: true })).toThrow(
      /not a Problem/,
    );
  });
});
