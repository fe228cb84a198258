// Errors as RFC 9457 `application/problem+json`. Route code throws HttpProblem; use cases and stores
// throw domain errors (../errors.ts), and the runs client its own: this is the one place that maps
// them to a status, and one handler turns every error into a response.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { RunNotFoundError, RunRefusedError } from '../client/runs.js';
import type { Logger } from '../infra/logger.js';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidError,
  NotFoundError,
  type FieldProblem,
} from '../errors.js';
import { PreviewRefusedError, PreviewUnavailableError } from '../store/preview.js';
import { RunLimitError } from '../runs/run-limits.js';
import { JsonTooDeepError } from './json-body.js';
import { outageProblem, unreachableComponent } from './outage.js';

/** One entry of a problem's `errors[]`: a field at fault (the domain's FieldProblem). */
export type ProblemDetail = FieldProblem;

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors: ProblemDetail[] = [],
    readonly headers: Record<string, string> = {},
    /** Extension members of the problem (RFC 9457 §3.2), e.g. the component of a 503. */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
  }
}

export const notFound = (what: string) => new HttpProblem(404, 'Not Found', `${what} does not exist`);
export const badRequest = (detail: string, errors: ProblemDetail[] = []) =>
  new HttpProblem(400, 'Bad Request', detail, errors);
export const conflict = (detail: string) => new HttpProblem(409, 'Conflict', detail);

export const typeFor = (status: number) => `https://tributary.dev/problems/${status}`;

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, 'Not Found', `No route for ${req.method} ${req.path}`));
};

/** The status and title of each domain error. */
function domainStatus(error: DomainError): [number, string] {
  if (error instanceof InvalidError) return [400, 'Bad Request'];
  if (error instanceof ForbiddenError) return [403, 'Forbidden'];
  if (error instanceof NotFoundError) return [404, 'Not Found'];
  if (error instanceof ConflictError) return [409, 'Conflict'];
  return [400, 'Bad Request'];
}

/** Errors with a known meaning: the domain's, and those of the runs client and previews. */
function knownProblem(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  // Temporal or Postgres cannot be reached: a plain 503 naming which (outage.ts).
  const down = unreachableComponent(error);
  if (down) return outageProblem(down);
  if (error instanceof DomainError) {
    const [status, title] = domainStatus(error);
    return new HttpProblem(status, title, error.message, error.errors);
  }
  if (error instanceof RunNotFoundError) return new HttpProblem(404, 'Not Found', error.message);
  if (error instanceof PreviewUnavailableError) return new HttpProblem(404, 'Not Found', error.message);
  if (error instanceof PreviewRefusedError) return new HttpProblem(403, 'Forbidden', error.message);
  if (error instanceof RunRefusedError) return new HttpProblem(409, 'Conflict', error.message);
  if (error instanceof RunLimitError)
    return new HttpProblem(400, 'Bad Request', error.message, [
      { in: 'body', path: error.path, nodeId: error.nodeId, message: error.message, code: 'run_limit' },
    ]);
  if (error instanceof JsonTooDeepError)
    return new HttpProblem(400, 'Bad Request', error.message, [
      {
        in: 'body',
        ...(error.path ? { path: error.path } : {}),
        message: `${error.path || 'body'}: nests deeper than ${error.maxDepth} levels`,
        code: 'too_deep',
      },
    ]);
  const e = error as { type?: string; limit?: number; message?: string } | undefined;
  if (e?.type === 'entity.too.large')
    return new HttpProblem(413, 'Payload Too Large', `The request body is larger than ${e.limit} bytes`);
  if (e?.type === 'entity.parse.failed')
    return new HttpProblem(400, 'Bad Request', `The request body is not valid JSON: ${e.message}`);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported')
    return new HttpProblem(415, 'Unsupported Media Type', e.message);
  // Backstops for input the route schemas let through (found by fuzzing, engine/test/fuzz): a value
  // Postgres cannot hold (a number out of range, a malformed date) or that Temporal refuses as an
  // argument is the request's fault, not ours. Schemas should catch them first, naming the field.
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^22(003|P02|P05|007|008|023|001|021)$/.test(code))
    return new HttpProblem(
      400,
      'Bad Request',
      `A value in the request is out of range or malformed: ${e?.message}`,
    );
  if (
    (error as { name?: string } | undefined)?.name === 'ServiceError' &&
    grpcCodeOf(error) === GRPC_INVALID_ARGUMENT
  )
    return new HttpProblem(400, 'Bad Request', `Temporal refused a value of the request: ${e?.message}`);
  return undefined;
}

const GRPC_INVALID_ARGUMENT = 3;
function grpcCodeOf(error: unknown): number | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'number' ? cause.code : undefined;
}

export function problemHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let problem = knownProblem(error);
    if (!problem) {
      // Unknown errors are logged with their stack; the client only learns that it was our fault.
      log.error('unhandled error', {
        method: req.method,
        path: req.path,
        error: error?.stack ?? String(error),
      });
      problem = new HttpProblem(
        500,
        'Internal Server Error',
        'Something went wrong on our side; it has been logged.',
      );
    }
    if (res.headersSent) {
      // A stream (SSE) already started: all that is left is to end it.
      res.end();
      return;
    }
    res
      .status(problem.status)
      .set(problem.headers)
      .type('application/problem+json')
      .json({
        type: typeFor(problem.status),
        title: problem.title,
        status: problem.status,
        ...(problem.detail ? { detail: problem.detail } : {}),
        // Without the query string: it may carry a webhook token.
        instance: req.originalUrl.split('?')[0],
        ...(problem.errors.length ? { errors: problem.errors } : {}),
        ...problem.extensions,
      });
  };
}
