// The MCP server through the SDK's own client, over Streamable HTTP (/api/mcp) and over stdio
// (`tributary mcp`, a real child process): an agent lists the tools, validates a broken document
// (problems, nothing saved), creates the pipeline, runs it, reads its failure, fixes the draft and
// runs it again; every tool call is in the audit log with its token; a token of another project
// gets nothing of this one; no token gets nothing at all.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { fileURLToPath } from 'node:url';
import { projectSchemaName } from '@tributary/activities';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreviewRefusedError, previewStepOutput } from '../../src/store/preview.js';
import { projectRole } from '../../src/warehouse/roles.js';
import { startApi, uniq, type ApiHarness, type Body } from '../api/api-harness.js';

let api: ApiHarness;
const project = uniq('mcp');
const other = uniq('mcpo');
const REPO = fileURLToPath(new URL('../../../', import.meta.url));

beforeAll(async () => {
  api = await startApi();
  for (const id of [project, other])
    expect((await api.call('POST', '/api/projects', { body: { id, name: id } })).status).toBe(201);
});
afterAll(async () => {
  await api?.stop();
});

function transportFor(kind: 'http' | 'stdio', token: string): Transport {
  if (kind === 'http')
    return new StreamableHTTPClientTransport(new URL('/api/mcp', api.base), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
  return new StdioClientTransport({
    command: process.execPath,
    args: [`${REPO}bin/tributary.js`, 'mcp'],
    cwd: REPO,
    env: { ...(process.env as Record<string, string>), TRIBUTARY_URL: api.base, TRIBUTARY_TOKEN: token },
    stderr: 'pipe',
  });
}

async function connect(kind: 'http' | 'stdio', token: string): Promise<Client> {
  const client = new Client({ name: 'tributary-test', version: '1.0.0' });
  await client.connect(transportFor(kind, token));
  return client;
}

/** A tool's structured answer. */
async function tool(client: Client, name: string, args: Record<string, unknown>, onprogress?: () => void) {
  const reply = await client.callTool(
    { name, arguments: args },
    undefined,
    onprogress ? { onprogress, timeout: 120_000 } : { timeout: 120_000 },
  );
  return { isError: reply.isError === true, body: reply.structuredContent as Body };
}

const doc = (id: string, sql: string, settings: Record<string, unknown> = {}) => ({
  apiVersion: 'tributary/v1',
  id,
  name: id,
  project,
  settings,
  nodes: [
    {
      id: 'gen',
      type: 'source.generate',
      config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    { id: 'calc', type: 'transform.sql', config: { sql } },
    { id: 'out', type: 'sink.postgres', config: { table: `${id.replace(/-/g, '_')}_out`, mode: 'replace' } },
  ],
  edges: [
    { from: 'gen', to: 'calc' },
    { from: 'calc', to: 'out' },
  ],
});

describe.each(['http', 'stdio'] as const)('MCP over %s', (kind) => {
  let token: string;
  let client: Client;
  const id = `${project}-${kind}`;
  beforeAll(async () => {
    token = await api.token(['read', 'write', 'run'], [project]);
    client = await connect(kind, token);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
  });

  it('lists the tools, resources and the prompt', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'get_lineage',
      'get_run',
      'list_connectors',
      'list_templates',
      'preview_step',
      'publish_draft',
      'run_pipeline',
      'save_draft',
      'search_catalog',
      'validate_pipeline',
    ]);
    const validate = tools.find((t) => t.name === 'validate_pipeline')!;
    expect(validate.inputSchema).toMatchObject({ type: 'object', required: ['document'] });
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['build_pipeline']);
    const prompt = await client.getPrompt({
      name: 'build_pipeline',
      arguments: { description: 'revenue by week', project },
    });
    expect(JSON.stringify(prompt.messages)).toContain('validate_pipeline');
    const connectors = await tool(client, 'list_connectors', {});
    expect(connectors.body.items.map((c: { type: string }) => c.type)).toContain('transform.sql');
  });

  it('validates a broken document: the problems with node, line and column, and nothing saved', async () => {
    const broken = doc(id, 'select n,\n  n * from {{ inputs.gen }}');
    const reply = await tool(client, 'validate_pipeline', { document: broken });
    expect(reply.isError).toBe(false);
    expect(reply.body.valid).toBe(false);
    expect(reply.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'invalid_sql', nodeId: 'calc', line: 2, column: expect.any(Number) }),
      ]),
    );
    expect((await api.call('GET', `/api/pipelines/${id}`)).status).toBe(404);
  });

  it('creates the pipeline only when told to, runs it, reads its failure, fixes the draft and runs it again', async () => {
    const failing = doc(id, 'select n, 10 / (n - 2) as q from {{ inputs.gen }}');
    const refused = await tool(client, 'save_draft', { document: failing });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.body)).toContain('create: true');
    expect((await api.call('GET', `/api/pipelines/${id}`)).status).toBe(404);

    const created = await tool(client, 'save_draft', { document: failing, create: true });
    expect(created).toMatchObject({ isError: false, body: { created: true, id, version: 1 } });

    let progress = 0;
    const failed = await tool(client, 'run_pipeline', { pipelineId: id }, () => progress++);
    expect(failed.isError).toBe(false);
    expect(failed.body.status).toBe('failed');
    expect(progress).toBeGreaterThan(0);
    const status = await tool(client, 'get_run', { runId: failed.body.runId });
    expect(status.body.failedSteps).toEqual([
      { node: 'calc', status: 'failed', error: expect.stringContaining('division by zero') },
    ]);

    const fixed = doc(id, 'select n, 10 / nullif(n - 2, 0) as q from {{ inputs.gen }}', {
      keepStaging: true,
    });
    const draft = await tool(client, 'save_draft', { document: fixed });
    expect(draft).toMatchObject({ isError: false, body: { created: false } });
    // A draft is not a version: the pipeline is still at version 1.
    expect((await api.call('GET', `/api/pipelines/${id}`)).body.version).toBe(1);

    const succeeded = await tool(client, 'run_pipeline', { pipelineId: id, draft: true });
    expect(succeeded.body).toMatchObject({ status: 'succeeded', draft: true, failedSteps: [] });
    const preview = await tool(client, 'preview_step', {
      runId: succeeded.body.runId,
      nodeId: 'calc',
      limit: 5,
    });
    expect(preview.isError).toBe(false);
    expect(preview.body.rows).toHaveLength(3);

    const published = await tool(client, 'publish_draft', { pipelineId: id });
    expect(published).toMatchObject({ isError: false, body: { version: 2 } });

    const resource = await client.readResource({ uri: `tributary://pipelines/${id}` });
    expect((resource.contents[0] as { text: string }).text).toContain('nullif');

    // The pipeline's lineage: q is computed from the generated n, back to where it was made.
    const lineage = await tool(client, 'get_lineage', { pipelineId: id });
    expect(lineage.isError).toBe(false);
    expect(lineage.body.columns).toContainEqual({
      table: `${projectSchemaName(project)}.${id.replace(/-/g, '_')}_out`,
      column: 'q',
      sources: [{ table: `${id}/gen`, column: 'n', transformation: 'derived' }],
      indirect: [],
    });
    expect(lineage.body.problems).toEqual([]);
    const neither = await tool(client, 'get_lineage', {});
    expect(neither.isError).toBe(true);
    expect(JSON.stringify(neither.body)).toContain('table (schema.table) or pipelineId');

    // Every tool call is in the audit log, with the token that made it.
    const audit = await api.call('GET', `/api/audit?action=mcp.tool_called&project=${project}&limit=200`);
    const entries = (
      audit.body.items as { actor: string; target: string; summary: { tool: string } }[]
    ).filter((e) => e.target === `pipeline:${id}` || e.target.startsWith('run:'));
    expect(
      entries.map((e) => e.summary.tool),
      JSON.stringify(audit.body).slice(0, 3000),
    ).toEqual(
      expect.arrayContaining(['save_draft', 'run_pipeline', 'get_run', 'preview_step', 'publish_draft']),
    );
    const actors = new Set(entries.filter((e) => e.target === `pipeline:${id}`).map((e) => e.actor));
    expect(actors.size).toBe(1);
    expect([...actors][0]).toMatch(/^token:/);
    // Every call this token made, those that name no project and the refused ones too, is there.
    const byToken = await api.call(
      'GET',
      `/api/audit?action=mcp.tool_called&actor=${encodeURIComponent([...actors][0]!)}&limit=200`,
    );
    const calls = byToken.body.items as { summary: { tool: string; ok: boolean; status: number } }[];
    expect(new Set(calls.map((e) => e.summary.tool))).toEqual(
      new Set([
        'list_connectors',
        'validate_pipeline',
        'save_draft',
        'run_pipeline',
        'get_run',
        'preview_step',
        'publish_draft',
        'get_lineage',
      ]),
    );
    expect(calls).toContainEqual(
      expect.objectContaining({ summary: { tool: 'save_draft', ok: false, status: expect.any(Number) } }),
    );
  }, 180_000);

  it('gives a token of another project nothing of this one', async () => {
    const stranger = await connect(kind, await api.token(['admin'], [other]));
    try {
      const runs = await api.call('GET', `/api/runs?pipelineId=${id}`);
      const runId = runs.body.items[0].runId as string;
      for (const [name, args] of [
        ['get_run', { runId }],
        ['run_pipeline', { pipelineId: id }],
        ['preview_step', { runId, nodeId: 'calc' }],
        ['save_draft', { document: doc(id, 'select 1 as one') }],
        ['publish_draft', { pipelineId: id }],
        ['get_lineage', { pipelineId: id }],
      ] as const) {
        const reply = await tool(stranger, name, args);
        expect(reply.isError, name).toBe(true);
        expect(reply.body.status, name).toBe(403);
        expect(JSON.stringify(reply.body), name).not.toContain('division');
      }
      // The refused calls are in the audit log too, with the stranger's token and the API's 403.
      const audit = await api.call('GET', `/api/audit?action=mcp.tool_called&limit=200`);
      const refused = (
        audit.body.items as {
          actor: string;
          target: string;
          summary: { tool: string; ok: boolean; status: number };
        }[]
      ).filter((e) => e.target === `run:${runId}` && e.summary.tool === 'preview_step' && !e.summary.ok);
      expect(refused.map((e) => e.summary.status)).toContain(403);
      const resource = await stranger.readResource({ uri: `tributary://pipelines/${id}` });
      expect((resource.contents[0] as { text: string }).text).not.toContain('inputs.gen');
      const { resources } = await stranger.listResources();
      expect(resources.map((r) => r.uri)).not.toContain(`tributary://pipelines/${id}`);
    } finally {
      await stranger.close();
    }
  }, 60_000);
});

describe('MCP over HTTP without a valid token', () => {
  it('is refused with 401 before any tool runs', async () => {
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    for (const authorization of [undefined, 'Bearer not-a-token']) {
      const response = await fetch(`${api.base}/api/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify(init),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });
});

describe("a step's preview (preview_step, the builder's data view)", () => {
  it("reads under the run's project role: another project's role is refused by the warehouse itself", async () => {
    const id = `${project}-preview`;
    const saved = await api.call('POST', '/api/pipelines', {
      body: doc(id, 'select n, n * 2 as twice from {{ inputs.gen }}', { keepStaging: true }),
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(201);
    const started = await api.call('POST', `/api/pipelines/${id}/runs`, { body: {} });
    await api.h.platform.temporal.workflow.getHandle(started.body.runId).result();
    const runId = started.body.runId as string;
    const page = { limit: 10, offset: 0 };
    const pool = api.h.platform.runnerPool;

    const own = await previewStepOutput({ pool, role: projectRole(project) }, runId, 'calc', page);
    expect(own.rows).toEqual([
      { n: 1, twice: 2 },
      { n: 2, twice: 4 },
      { n: 3, twice: 6 },
    ]);
    // The other project's role (as if a check above had been fooled) gets nothing: Postgres says no.
    const refused = await previewStepOutput({ pool, role: projectRole(other) }, runId, 'calc', page).catch(
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(PreviewRefusedError);
    expect((refused as Error).message).toContain('permission denied');

    // Through the API the same reader: a page of rows, bounded by the route's limit.
    const reply = await api.call('GET', `/api/runs/${runId}/steps/calc/preview?limit=2`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ rows: [{ n: 1 }, { n: 2 }], hasMore: true });
    expect((await api.call('GET', `/api/runs/${runId}/steps/calc/preview?limit=100000`)).status).toBe(400);
  }, 120_000);
});
