// Payload encryption end to end: a run started through the API keeps its plan, params and step
// results encrypted in Temporal's history, while the audit trail, usage and run views still read
// them (decoded through the codec), and the codec endpoint decodes only for an admin token.
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AesGcmPayloadCodec,
  ENCRYPTED_ENCODING,
  loadPayloadKey,
  parsePayloadKey,
} from '../../src/temporal/payload-codec.js';
import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generatePipeline, startApi, uniq, type ApiHarness, type Body } from '../api/api-harness.js';

const MARKER = `plaintext-marker-${uniq('p')}`;
const TEMPORAL_UI = 'http://localhost:8233';
let api: ApiHarness;
let runId: string;
let pipelineId: string;

beforeAll(async () => {
  api = await startApi({ codecCorsOrigins: [TEMPORAL_UI] });
  pipelineId = uniq('encrypted');
  const doc = generatePipeline(pipelineId, {
    params: { label: { type: 'string', default: 'none' } },
    nodes: [
      ...generatePipeline(pipelineId).nodes,
      {
        id: 'labelled',
        type: 'transform.sql',
        config: { sql: 'select n, {{ params.label }}::text as label from {{ inputs.g }}' },
      },
    ],
    edges: [{ from: 'g', to: 'labelled' }],
  });
  expect((await api.call('POST', '/api/pipelines', { body: doc })).status).toBe(201);
  const started = await api.call('POST', `/api/pipelines/${pipelineId}/runs`, {
    body: { params: { label: MARKER } },
  });
  expect(started.status).toBe(202);
  runId = started.body.runId;
  await api.h.platform.temporal.workflow.getHandle(runId).result();
});
afterAll(async () => api?.stop());

/** The history as Temporal stores it, read with a client that has no codec. */
async function rawHistoryBytes(): Promise<{
  bytes: Buffer;
  history: proto.temporal.api.history.v1.IHistory;
}> {
  const plain = new Client({ connection: api.h.platform.temporal.connection, namespace: 'default' });
  const history = await plain.workflow.getHandle(runId).fetchHistory();
  const bytes = Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish());
  return { bytes, history };
}

describe('payload encryption', () => {
  it('keeps params, plan and results out of the stored history', async () => {
    const { bytes, history } = await rawHistoryBytes();
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(Buffer.from(MARKER))).toBe(false);
    // Nor the SQL of the plan, nor a step result's table name.
    expect(bytes.includes(Buffer.from('params.label'))).toBe(false);
    expect(bytes.includes(Buffer.from('"rowsOut"'))).toBe(false);
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(Buffer.from(input.metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
    // Decoded through the platform's client the same history holds the param.
    const audit = await api.call('GET', `/api/runs/${runId}/audit`);
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).toContain(MARKER);
  });

  it('still serves the run, its audit trail and its usage', async () => {
    const run = await api.call('GET', `/api/runs/${runId}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ status: 'succeeded', params: { label: MARKER } });
    const audit = await api.call('GET', `/api/runs/${runId}/audit`);
    const types = audit.body.events.map((e: Body) => e.type);
    expect(types).toEqual(expect.arrayContaining(['run.requested', 'step.completed', 'run.completed']));
    const completed = audit.body.events.find((e: Body) => e.type === 'step.completed' && e.nodeId === 'g');
    expect(completed.details).toMatchObject({ rowsOut: 3 });
    const usage = await api.call('GET', `/api/runs/${runId}/usage`);
    expect(usage.status).toBe(200);
    expect(usage.body.steps.find((s: Body) => s.nodeId === 'labelled')).toMatchObject({ rowsOut: 3 });
  });

  it('decodes through the codec endpoint for an admin token only', async () => {
    const { history } = await rawHistoryBytes();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const json = {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(input.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(input.data!).toString('base64'),
        },
      ],
    };
    const none = await api.call('POST', '/api/codec/decode', { body: json, token: '' });
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    const reader = await api.token(['read', 'write', 'run']);
    expect((await api.call('POST', '/api/codec/decode', { body: json, token: reader })).status).toBe(403);
    const projectAdmin = await api.token(['admin:default']);
    expect((await api.call('POST', '/api/codec/decode', { body: json, token: projectAdmin })).status).toBe(
      403,
    );

    const decoded = await api.call('POST', '/api/codec/decode', { body: json });
    expect(decoded.status).toBe(200);
    const payload = decoded.body.payloads[0];
    expect(Buffer.from(payload.metadata.encoding, 'base64').toString()).toBe('json/plain');
    const plan = JSON.parse(Buffer.from(payload.data, 'base64').toString());
    expect(plan.plan.params).toEqual({ label: MARKER });

    // encode → decode is the identity, and a tampered payload is refused naming it.
    const encoded = await api.call('POST', '/api/codec/encode', { body: { payloads: [payload] } });
    expect(encoded.status).toBe(200);
    expect(encoded.body.payloads[0].data).not.toBe(payload.data);
    const again = await api.call('POST', '/api/codec/decode', { body: encoded.body });
    expect(again.body.payloads[0]).toEqual(payload);
    const sealed = Buffer.from(encoded.body.payloads[0].data, 'base64');
    sealed[20] = sealed[20]! ^ 1;
    const tampered = await api.call('POST', '/api/codec/decode', {
      body: { payloads: [{ ...encoded.body.payloads[0], data: sealed.toString('base64') }] },
    });
    expect(tampered.status).toBe(400);
    expect(tampered.body.errors[0]).toMatchObject({ in: 'body', path: 'payloads[0]' });
    const notBase64 = await api.call('POST', '/api/codec/decode', { body: { payloads: [{ data: '%%%' }] } });
    expect(notBase64.status).toBe(400);
    expect(notBase64.body.errors[0].path).toBe('payloads[0].data');
  });

  it('answers the Temporal UI preflight for its origin only', async () => {
    const preflight = await api.call('OPTIONS', '/api/codec/decode', {
      token: '',
      headers: {
        origin: TEMPORAL_UI,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(TEMPORAL_UI);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
    const other = await api.call('OPTIONS', '/api/codec/decode', {
      token: '',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('payload keys', () => {
  it('generates a 0600 key once per home, refuses a short one, and tells keys apart', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'payload-key-'));
    expect(loadPayloadKey(undefined, home, false)).toBeNull();
    const first = loadPayloadKey(undefined, home, true)!;
    expect(first).toHaveLength(32);
    expect(statSync(path.join(home, 'payload.key')).mode & 0o777).toBe(0o600);
    expect(loadPayloadKey(undefined, home, true)).toEqual(first);
    expect(() => parsePayloadKey('c2hvcnQ=')).toThrow(/TRIBUTARY_PAYLOAD_KEY must be 32 bytes/);
    expect(parsePayloadKey('ab'.repeat(32))).toEqual(Buffer.alloc(32, 0xab));
    const ours = new AesGcmPayloadCodec(first);
    const theirs = new AesGcmPayloadCodec(Buffer.alloc(32, 1));
    const sealed = await ours.encode([
      { metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new Uint8Array([1, 2]) },
    ]);
    await expect(theirs.decode(sealed)).rejects.toThrow(/encrypted with another key/);
    const [back] = await ours.decode(sealed);
    expect(Buffer.from(back!.data!)).toEqual(Buffer.from([1, 2]));
  });
});
