// POST /api/mcp: the MCP server over the Streamable HTTP transport, stateless (a server per
// request, so no session outlives its request). The bearer token authenticates the request and is
// the one every tool calls the API with; each tool call is recorded in the platform audit log
// (`mcp.tool_called`) with that token as the actor.
import type { NextFunction, Request, Response } from 'express';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { authenticate, bearerToken } from '../api/auth.js';
import type { ApiContext } from '../api/context.js';
import { httpApiCaller } from './api-caller.js';
import { createMcpServer } from './mcp-server.js';

/** This server as seen from itself: the address and port the request came in on. */
function loopbackBase(req: Request): string {
  const address = req.socket.localAddress ?? '127.0.0.1';
  const host = address.includes(':') ? `[${address}]` : address;
  return `http://${host}:${req.socket.localPort}`;
}

export function mcpHandler(deps: ApiContext) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const principal = await authenticate(req, deps.tokens);
      const server = createMcpServer({
        api: httpApiCaller(loopbackBase(req), bearerToken(req)!),
        version: deps.version,
        onToolCall: async (call) => {
          await deps.audit
            .record({
              actor: principal.actor,
              project: call.project,
              action: 'mcp.tool_called',
              target: call.target ?? `mcp:${call.tool}`,
              summary: { tool: call.tool, ok: call.ok, status: call.status },
            })
            .catch((error: Error) => deps.log.error('mcp audit entry failed', { error }));
        },
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      next(error);
    }
  };
}
