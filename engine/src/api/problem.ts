// Errors as RFC 9457 `application/problem+json`. Route code throws HttpProblem (or a ZodError via
// the validation middleware); one handler turns every error into a response.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../infra/logger.js';

export interface ProblemDetail {
  path?: string;
  message: string;
  code?: string;
  nodeId?: string;
  edgeId?: string;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors: ProblemDetail[] = [],
  ) {
    super(detail ?? title);
  }
}

export const notFound = (what: string) => new HttpProblem(404, 'Not Found', `${what} does not exist`);

const typeFor = (status: number) => `https://tributary.dev/problems/${status}`;

export const unknownRoute: RequestHandler = (req, _res, next) => {
  next(new HttpProblem(404, 'Not Found', `No route for ${req.method} ${req.path}`));
};

export function problemHandler(log: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let problem: HttpProblem;
    if (error instanceof HttpProblem) {
      problem = error;
    } else if (error?.type === 'entity.too.large') {
      problem = new HttpProblem(
        413,
        'Payload Too Large',
        `The request body is larger than ${error.limit} bytes`,
      );
    } else if (error?.type === 'entity.parse.failed') {
      problem = new HttpProblem(400, 'Bad Request', `The request body is not valid JSON: ${error.message}`);
    } else {
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
    res
      .status(problem.status)
      .type('application/problem+json')
      .json({
        type: typeFor(problem.status),
        title: problem.title,
        status: problem.status,
        ...(problem.detail ? { detail: problem.detail } : {}),
        ...(problem.errors.length ? { errors: problem.errors } : {}),
      });
  };
}
