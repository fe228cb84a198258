// A small client of the REST API for the CLI: bearer token, JSON in and out, problem+json turned
// into errors a person can act on. `branch` is sent as `?branch=` on pipeline reads, saves and
// runs (see docs/concepts/branches.md); a server without branches ignores it.
import { CliError, EXIT } from './exit-codes.js';
import type { Problem as ContractProblem } from './api-types.js';
import type { CliConfig } from './config.js';

/** The server's problem+json (the contract's Problem); from a proxy's answer, only a status and text. */
export type Problem = Pick<ContractProblem, 'status'> & Partial<ContractProblem>;

/** A response the caller did not expect; `problem` is the server's explanation. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    what: string,
  ) {
    super(`${what} failed: ${problem.detail ?? problem.title ?? `HTTP ${status}`}`);
  }
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Adds `?branch=` (when the client has one). */
  onBranch?: boolean;
  /** Statuses returned to the caller instead of thrown. */
  accept?: number[];
}

export interface ApiReply<T> {
  status: number;
  headers: Headers;
  body: T;
}

export class ApiClient {
  constructor(
    readonly config: CliConfig,
    readonly branch?: string,
  ) {}

  /** Where the client works, for every line about a push or a run: `in branch "x"` or `on main`. */
  get where(): string {
    return this.branch ? `in branch "${this.branch}"` : 'on main';
  }

  url(path: string, onBranch = false): string {
    const url = new URL(`${this.config.url}/api${path}`);
    if (onBranch && this.branch) url.searchParams.set('branch', this.branch);
    return url.href;
  }

  async raw(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.config.token}`,
      accept: 'application/json',
      ...options.headers,
    };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.url(path, options.onBranch), {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(
        `Cannot reach the Tributary server at ${this.config.url} (${cause?.code ?? cause?.message ?? (error as Error).message}). ` +
          'Is it running, and is the URL right? Check with `tributary login` or TRIBUTARY_URL.',
        EXIT.auth,
      );
    }
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiReply<T>> {
    const response = await this.raw(method, path, options);
    const text = await response.text();
    let body: unknown = text;
    if (/json/.test(response.headers.get('content-type') ?? '') && text) body = JSON.parse(text);
    if (response.ok || options.accept?.includes(response.status)) {
      return { status: response.status, headers: response.headers, body: body as T };
    }
    const problem: Problem =
      typeof body === 'object' && body !== null
        ? (body as Problem)
        : { status: response.status, detail: text };
    if (response.status === 401 || response.status === 403) {
      throw new CliError(
        `The server at ${this.config.url} refused the token (${response.status}): ${problem.detail ?? problem.title}`,
        EXIT.auth,
      );
    }
    throw new ApiError(response.status, problem, `${method} ${path}`);
  }
}
