// The one validation middleware: parses `{ params, query, body, headers }` with a route's zod
// schemas, answers 400 with every issue (location + field path, and the node id inside a pipeline
// document), and hands the parsed values on. Express 5's `req.query` is a getter, so the parsed
// values live on `res.locals.input` (read them with `inputOf`); params and body are also replaced.
import type { Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import { HttpProblem, type ProblemDetail } from './problem.js';

export interface RequestSchemas {
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Keys in lower case; other headers pass untouched. */
  headers?: z.ZodType;
}

export interface ParsedInput {
  params: unknown;
  query: unknown;
  body: unknown;
  headers: unknown;
}

const JSON_TYPES = ['application/json', 'application/*+json'];
const LOCATIONS = ['params', 'query', 'body', 'headers'] as const;

export const inputOf = <T extends ParsedInput>(res: Response): T => res.locals.input as T;

/** `nodes[2].config.rows` from zod's `['nodes', 2, 'config', 'rows']`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

export function issueDetails(
  issues: readonly z.core.$ZodIssue[],
  location: (typeof LOCATIONS)[number],
  input: unknown,
): ProblemDetail[] {
  const where = location === 'headers' ? 'header' : location;
  return issues.map((issue) => {
    const path = formatPath(issue.path);
    const label = location === 'body' ? path || 'body' : path ? `${where} ${path}` : where;
    const detail: ProblemDetail = { in: where, message: `${label}: ${issue.message}`, code: issue.code };
    if (path) detail.path = path;
    // Inside a pipeline document, name the node too, so the builder can highlight it.
    if (location === 'body' && issue.path[0] === 'nodes' && typeof issue.path[1] === 'number') {
      const node = (input as { nodes?: { id?: unknown }[] } | undefined)?.nodes?.[issue.path[1]];
      if (typeof node?.id === 'string') detail.nodeId = node.id;
    }
    return detail;
  });
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

export function validate(schemas: RequestSchemas): RequestHandler {
  return (req, res, next) => {
    if (schemas.body && hasBody(req) && !req.is(JSON_TYPES)) {
      throw new HttpProblem(
        415,
        'Unsupported Media Type',
        `The request body must be JSON: send "Content-Type: application/json" (got "${req.get('content-type') ?? 'none'}")`,
      );
    }
    const raw: ParsedInput = { params: req.params, query: req.query, body: req.body, headers: req.headers };
    const parsed: ParsedInput = { ...raw, headers: {} };
    const errors: ProblemDetail[] = [];
    for (const location of LOCATIONS) {
      const schema = schemas[location];
      if (!schema) continue;
      // Postgres can store no NUL character (text nor jsonb): refuse it here, naming where it is,
      // rather than fail in the database with a 500 (found by fuzzing, engine/test/fuzz).
      const nuls = location === 'headers' ? [] : nulPaths(raw[location]);
      if (nuls.length > 0) {
        errors.push(...nuls.map((path) => nulDetail(location as Exclude<typeof location, 'headers'>, path)));
        continue;
      }
      const result = schema.safeParse(raw[location]);
      if (result.success) parsed[location] = result.data;
      else errors.push(...issueDetails(result.error.issues, location, raw[location]));
    }
    if (errors.length > 0) {
      throw new HttpProblem(
        400,
        'Bad Request',
        errors.length === 1 ? errors[0]!.message : `The request has ${errors.length} invalid values`,
        errors,
      );
    }
    req.params = parsed.params as Request['params'];
    Object.defineProperty(req, 'query', { value: parsed.query, configurable: true, enumerable: true });
    req.body = parsed.body;
    res.locals.input = parsed;
    next();
  };
}

/**
 * Paths of the strings (values and keys) holding a NUL character, at most 20. Linear in the size of
 * the value: each item remembers its parent, and a path is built only for what is found.
 */
function nulPaths(value: unknown): PropertyKey[][] {
  interface Item {
    value: unknown;
    parent: Item | null;
    key: PropertyKey | null;
  }
  const pathOf = (item: Item, last?: PropertyKey): PropertyKey[] => {
    const path: PropertyKey[] = last === undefined ? [] : [last];
    for (let at: Item | null = item; at && at.key !== null; at = at.parent) path.push(at.key);
    return path.reverse();
  };
  const found: PropertyKey[][] = [];
  const stack: Item[] = [{ value, parent: null, key: null }];
  while (stack.length > 0 && found.length < 20) {
    const item = stack.pop()!;
    const current = item.value;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) found.push(pathOf(item));
    } else if (Array.isArray(current)) {
      current.forEach((v, i) => stack.push({ value: v, parent: item, key: i }));
    } else if (current && typeof current === 'object') {
      for (const [k, v] of Object.entries(current)) {
        if (k.includes('\u0000')) found.push(pathOf(item, k));
        else stack.push({ value: v, parent: item, key: k });
      }
    }
  }
  return found.reverse();
}

function nulDetail(
  location: Exclude<(typeof LOCATIONS)[number], 'headers'>,
  path: PropertyKey[],
): ProblemDetail {
  const formatted = formatPath(path);
  const label = location === 'body' ? formatted || 'body' : formatted ? `${location} ${formatted}` : location;
  return {
    in: location,
    ...(formatted ? { path: formatted } : {}),
    message: `${label}: must not contain the NUL character (\\u0000)`,
    code: 'invalid_string',
  };
}
