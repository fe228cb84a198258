// One mapping from domain errors to problem+json: each kind gets its status and title, keeps its
// message as the detail and its fields as `errors[]`, whatever use case threw it.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, InvalidError, NotFoundError, type DomainError } from '../errors.js';
import { silentLogger } from '../infra/logger.js';
import { problemHandler } from './problem.js';

const thrown: Record<string, DomainError> = {
  invalid: new InvalidError('Node "x": Table is required', [
    { path: 'nodes.x.config.table', message: 'required' },
  ]),
  forbidden: new ForbiddenError('table a.b belongs to project a'),
  missing: new NotFoundError('Pipeline "p" does not exist'),
  conflict: new ConflictError('Pipeline "p" is at version 3, not 2'),
};

let base: string;
let close: () => void;
beforeAll(async () => {
  const app = express();
  app.get('/:kind', (req) => {
    throw thrown[req.params.kind]!;
  });
  app.use(problemHandler(silentLogger));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close?.());

describe('domain errors as problem+json', () => {
  it.each([
    ['invalid', 400, 'Bad Request'],
    ['forbidden', 403, 'Forbidden'],
    ['missing', 404, 'Not Found'],
    ['conflict', 409, 'Conflict'],
  ])('maps %s to %i %s with its detail and fields', async (kind, status, title) => {
    const reply = await fetch(`${base}/${kind}`);
    expect(reply.status).toBe(status);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
    const error = thrown[kind]!;
    expect(await reply.json()).toEqual({
      type: `https://tributary.dev/problems/${status}`,
      title,
      status,
      detail: error.message,
      instance: `/${kind}`,
      ...(error.errors.length ? { errors: error.errors } : {}),
    });
  });
});
