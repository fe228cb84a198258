// The route table's shape. Every API route is declared once as data — method, path, scope, zod
// schemas of its input and output, handler — and both the Express router and the OpenAPI document
// are built from that one list, so they cannot drift apart.
import type { NextFunction, Request, Response, Router } from 'express';
import { z } from 'zod';
import { branchName } from '../branches/branch-name.js';
import { openWorkspace, type Workspace } from '../pipelines/workspace.js';
import type { Scope } from '../store/tokens.store.js';
import { authenticate, requireScope, type Principal, type ProjectRequirement } from './auth.js';
import type { ApiContext } from './context.js';
import { HttpProblem } from './problem.js';
import { inputOf, validate, type ParsedInput } from './validate.js';

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
  /** Other types the route answers on request (e.g. `?format=jsonl`), documented without a schema. */
  alternateContentTypes?: string[];
}

export interface HandlerContext<P, Q, B, H> {
  params: P;
  query: Q;
  body: B;
  headers: H;
  /** The caller; null on public routes. */
  principal: Principal | null;
  /** Who acts, as recorded on versions and runs. */
  actor: string;
  /** Throws 403 unless the caller has the route's scope (or `scope`) for `project`. */
  authorize(project: ProjectRequirement, scope?: Scope): void;
  /**
   * Where the pipeline work happens, resolved once from `?branch=` on routes that take it (see
   * `workspace` below); main on every other route.
   */
  workspace: Workspace;
  deps: ApiContext;
  req: Request;
  res: Response;
}

/** `?branch=NAME`: the development branch a workspace route works in (main without it). */
export const BranchQuery = z.object({ branch: branchName.optional() });

export interface RouteSpec<P, Q, B, H> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Express syntax, relative to /api: `/pipelines/:id`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** The scope a token needs; null for a public route. */
  scope: Scope | null;
  /**
   * Scopes needed besides `scope`, on the same project: a schedule or a webhook starts runs later,
   * so making or changing one needs `run` as well as `write`.
   */
  alsoNeeds?: Scope[];
  /** The scope must hold for every project, not only some (token management). */
  allProjects?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  responses: Record<number, ResponseSpec>;
  /** Problem statuses beyond those implied (400 with input, 401/403 with a scope, 404 with path params). */
  problems?: number[];
  /** The route works in a workspace: it takes `?branch=` (added to its query) and gets `workspace`. */
  workspace?: boolean;
  handler(ctx: HandlerContext<Out<P>, Out<Q>, Out<B>, Out<H>>): Promise<void> | void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any, any>;

/** Declares a route; the generics give the handler the parsed types of its schemas. */
export function route<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  H extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<P, Q, B, H>): AnyRoute {
  if (!spec.workspace) return spec as AnyRoute;
  const query = spec.query as z.ZodObject | undefined;
  return { ...spec, query: query ? query.extend(BranchQuery.shape) : BranchQuery } as AnyRoute;
}

/** Every scope a route needs, its own first (so a 403 names that one when both are missing). */
export const scopesOf = (spec: AnyRoute): Scope[] =>
  spec.scope ? [spec.scope, ...(spec.alsoNeeds ?? [])] : [];

/** `/pipelines/:id` → a regex matching concrete paths, for the 405 answer. */
const pathPattern = (path: string) =>
  new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]\w*/g, '[^/]+')}/?$`);

export function mountRoutes(router: Router, routes: readonly AnyRoute[], deps: ApiContext): void {
  for (const spec of routes) {
    const authn = async (req: Request, res: Response, next: NextFunction) => {
      let principal: Principal | null = null;
      if (spec.scope) {
        principal = await authenticate(req, deps.tokens);
        // The route's scope is checked before the input, so a caller without it learns nothing more.
        for (const scope of scopesOf(spec))
          requireScope(principal, scope, spec.allProjects ? null : undefined);
        deps.tokens
          .touch(principal.token.id)
          .catch((error: Error) => deps.log.warn('token touch failed', { error }));
      }
      res.locals.principal = principal;
      next();
    };
    const handle = async (req: Request, res: Response) => {
      const input = inputOf<ParsedInput>(res);
      const principal = res.locals.principal as Principal | null;
      await spec.handler({
        params: input.params,
        query: input.query,
        body: input.body,
        headers: input.headers,
        principal,
        actor: principal?.actor ?? 'anonymous',
        authorize: (project, scope) => {
          const needed = scope ? [scope] : scopesOf(spec);
          if (needed.length === 0) return;
          if (!principal) throw new HttpProblem(401, 'Unauthorized', 'This needs an API token');
          for (const s of needed) requireScope(principal, s, project);
        },
        workspace: openWorkspace(
          deps,
          spec.workspace ? (input.query as { branch?: string } | undefined)?.branch : undefined,
        ),
        deps,
        req,
        res,
      });
    };
    router[spec.method](spec.path, authn, validate(spec), handle);
  }

  const patterns = routes.map((r) => ({ pattern: pathPattern(r.path), method: r.method.toUpperCase() }));
  router.use((req, _res, next) => {
    const allowed = [...new Set(patterns.filter((p) => p.pattern.test(req.path)).map((p) => p.method))];
    if (allowed.length === 0) return next();
    next(
      new HttpProblem(
        405,
        'Method Not Allowed',
        `${req.method} is not supported on ${req.baseUrl}${req.path}; use ${allowed.join(', ')}`,
        [],
        { Allow: allowed.join(', ') },
      ),
    );
  });
}
