// Bearer-token authentication and scope checks. A token carries scopes (`read`, `write`, `run`,
// `admin`), each for every project, for the token's `projects`, or for one project
// (`write:analytics`). `admin` includes the other three.
import type { Request } from 'express';
import type { ApiToken, Scope, TokenStore } from '../store/tokens.store.js';
import { HttpProblem } from './problem.js';

export interface Principal {
  token: ApiToken;
  /** Who did it, as recorded on runs and versions: `token:<id>/<name>`. */
  actor: string;
}

/** `undefined`: any project will do; `null`: the scope must hold for every project. */
export type ProjectRequirement = string | null | undefined;

interface Grant {
  scope: Scope;
  /** null: every project. */
  projects: string[] | null;
}

function grantsOf(token: Pick<ApiToken, 'scopes' | 'projects'>): Grant[] {
  return token.scopes.map((entry) => {
    const at = entry.indexOf(':');
    return at < 0
      ? { scope: entry as Scope, projects: token.projects }
      : { scope: entry.slice(0, at) as Scope, projects: [entry.slice(at + 1)] };
  });
}

const covers = (grant: Grant, scope: Scope) => grant.scope === scope || grant.scope === 'admin';

export function allows(
  token: Pick<ApiToken, 'scopes' | 'projects'>,
  scope: Scope,
  project: ProjectRequirement,
): boolean {
  return grantsOf(token).some(
    (g) =>
      covers(g, scope) &&
      (project === undefined || g.projects === null || (project !== null && g.projects.includes(project))),
  );
}

/** The projects a scope reaches: null for every project. */
export function projectsWith(token: Pick<ApiToken, 'scopes' | 'projects'>, scope: Scope): string[] | null {
  const grants = grantsOf(token).filter((g) => covers(g, scope));
  if (grants.some((g) => g.projects === null)) return null;
  return [...new Set(grants.flatMap((g) => g.projects ?? []))].sort();
}

export function requireScope(principal: Principal, scope: Scope, project: ProjectRequirement): void {
  if (allows(principal.token, scope, project)) return;
  const reach = projectsWith(principal.token, scope);
  let detail: string;
  if (reach === null || reach.length === 0) {
    detail = `This token lacks the "${scope}" scope`;
  } else if (project === null) {
    detail = `This needs the "${scope}" scope on every project; this token has it only for ${list(reach)}`;
  } else {
    detail = `This token lacks the "${scope}" scope for project "${project}" (it has it only for ${list(reach)})`;
  }
  throw new HttpProblem(403, 'Forbidden', detail, [{ message: detail, code: 'missing_scope' }]);
}

const list = (projects: string[]) => projects.map((p) => `"${p}"`).join(', ');

const unauthorized = (detail: string, error?: string) =>
  new HttpProblem(401, 'Unauthorized', detail, [], {
    'WWW-Authenticate': `Bearer realm="tributary"${error ? `, error="${error}"` : ''}`,
  });

export function bearerToken(req: Request): string | undefined {
  const header = req.get('authorization');
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export async function authenticate(req: Request, tokens: TokenStore): Promise<Principal> {
  const presented = bearerToken(req);
  if (!presented) {
    throw unauthorized(
      req.get('authorization')
        ? 'The Authorization header is not "Bearer <token>"'
        : 'This needs an API token: send "Authorization: Bearer <token>" (the admin token is in $TRIBUTARY_HOME/admin-token)',
    );
  }
  const token = await tokens.findByToken(presented);
  if (!token) throw unauthorized('The token is unknown or was revoked', 'invalid_token');
  if (token.expiresAt && Date.parse(token.expiresAt) <= Date.now())
    throw unauthorized(`The token expired at ${token.expiresAt}`, 'invalid_token');
  return { token, actor: `token:${token.id}/${token.name}` };
}
