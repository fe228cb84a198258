// `tributary mcp`: an MCP server on stdin/stdout for a local agent, acting with the logged-in token
// (TRIBUTARY_URL / TRIBUTARY_TOKEN, or `tributary login`). See docs/guides/agents-mcp.md.
import { runStdioBridge } from '../../mcp/stdio-bridge.js';
import { loadConfig } from '../config.js';
import { EXIT, type ExitCode } from '../exit-codes.js';

export async function mcp(): Promise<ExitCode> {
  const config = await loadConfig();
  await runStdioBridge({ url: config.url, token: config.token });
  return EXIT.ok;
}
