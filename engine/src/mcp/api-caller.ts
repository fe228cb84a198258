// How MCP tools reach Tributary: through its REST API, with the caller's own token. A tool can
// therefore do exactly what that token may do through the API, through the same routes (the same
// validation, authorisation, use cases and audit entries), and nothing else.
export interface ApiReply {
  status: number;
  /** The parsed JSON body (a problem+json on 4xx), or null when there is none. */
  body: unknown;
}

export type ApiCaller = (
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
) => Promise<ApiReply>;

/** Calls `<base>/api<path>` with `token` as bearer. */
export function httpApiCaller(base: string, token: string): ApiCaller {
  return async (method, path, body) => {
    const response = await fetch(`${base}/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { detail: text.slice(0, 500) };
      }
    }
    return { status: response.status, body: parsed };
  };
}
