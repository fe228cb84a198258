// `tributary mcp`: the MCP server for clients that start a local process (Claude Desktop, MCP
// Inspector, IDEs). It bridges stdio to the server's /api/mcp over Streamable HTTP with the CLI's
// token, so the tools, their authorisation and the audit log are the server's, in one place.
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Readable, Writable } from 'node:stream';

export interface BridgeOptions {
  /** The server, e.g. http://localhost:3000. */
  url: string;
  token: string;
  stdin?: Readable;
  stdout?: Writable;
  /** Where the bridge's own complaints go (stdout carries only JSON-RPC). */
  log?: (line: string) => void;
}

/** Runs until stdin closes. */
export async function runStdioBridge(options: BridgeOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const local = new StdioServerTransport(options.stdin, options.stdout);
  const remote = new StreamableHTTPClientTransport(new URL('/api/mcp', options.url), {
    requestInit: { headers: { authorization: `Bearer ${options.token}` } },
  });
  local.onmessage = (message: JSONRPCMessage) => {
    remote.send(message).catch((error: Error) => {
      log(`tributary mcp: ${error.message}`);
      // A request that could not be delivered still gets an answer, so the client does not wait forever.
      if ('id' in message && 'method' in message) {
        void local.send({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32000, message: `Tributary server at ${options.url}: ${error.message}` },
        });
      }
    });
  };
  remote.onmessage = (message) => void local.send(message);
  remote.onerror = (error) => log(`tributary mcp: ${error.message}`);
  await remote.start();
  const closed = new Promise<void>((resolve) => {
    local.onclose = () => resolve();
    (options.stdin ?? process.stdin).once('end', () => resolve());
  });
  await local.start();
  await closed;
  await remote.close();
  await local.close();
}
