// A secret a step uses (source.http with bearer auth against a local server, which even echoes the
// header back in its error bodies) must never appear in workflow history, the audit trail, usage
// telemetry, the warehouse telemetry tables, the platform audit log, or anything logged.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AuditLog, AuditSummaryError } from '../../src/audit/audit-log.store.js';
import { RunsClient } from '../../src/client/runs.js';
import { syncTelemetry } from '../../src/telemetry/telemetry-sync.js';
import { DEFAULT_CREDIT_RATES } from '../../src/telemetry/credit-rates.js';
import { createWorker } from '../../src/worker/worker.js';
import { startHarness, TEST_EGRESS, type Harness } from '../harness.js';
import {
  captureLogger,
  historyText,
  pipeline,
  rawHistory,
  startAuditApi,
  type AuditApi,
  type CapturedLog,
} from './audit-test-kit.js';

const SECRET = `tok_${randomBytes(18).toString('hex')}`;
const SECRET_NAME = 'audit_api_token';

let h: Harness;
let api: AuditApi;
let server: Server;
let base: string;
let worker: Worker;
let workerDone: Promise<void>;
let runs: RunsClient;
const log: CapturedLog = captureLogger();
const received: string[] = [];
const consoleLines: string[] = [];
const restore: (() => void)[] = [];

beforeAll(async () => {
  // Whatever this process prints while the runs happen (the SDK's own worker logs go to the console).
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      consoleLines.push(
        args
          .map((a) =>
            a instanceof Error ? `${a.message}\n${a.stack}` : typeof a === 'string' ? a : JSON.stringify(a),
          )
          .join(' '),
      );
      original.apply(console, args);
    };
    restore.push(() => (console[method] = original));
  }
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      consoleLines.push(String(chunk));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => (stream.write = original as typeof stream.write));
  }

  server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    received.push(auth);
    if (auth !== `Bearer ${SECRET}`) {
      res.writeHead(401).end('who are you?');
    } else if (req.url?.startsWith('/records')) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify([{ id: 1 }, { id: 2 }, { id: 3 }]));
    } else if (req.url?.startsWith('/flaky')) {
      // A careless server that quotes the credentials back in its error page.
      res.writeHead(503).end(`overloaded; you sent Authorization: ${auth}`);
    } else {
      res.writeHead(403).end(`forbidden for ${auth}`);
    }
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  h = await startHarness();
  await h.platform.secrets.set('default', SECRET_NAME, SECRET);
  api = await startAuditApi(h, log);
  // A worker of our own, so that everything it logs is captured.
  const taskQueue = `${h.taskQueue}-secrets`;
  const created = await createWorker({
    temporalAddress: inject('temporalAddress'),
    namespace: 'default',
    taskQueue,
    warehouse: h.platform.warehousePool,
    runner: h.platform.runnerPool,
    platform: h.platform.platformPool,
    egress: TEST_EGRESS,
    temporal: h.platform.temporal,
    payloadCodec: h.platform.payloadCodec,
    secrets: (project) => h.platform.secrets.resolverFor(project),
    dataDir: h.dataDir,
    log,
  });
  worker = created.worker;
  workerDone = worker.run().finally(() => created.connection.close());
  runs = new RunsClient(h.platform.temporal, taskQueue, h.platform.runs.records);
});

afterAll(async () => {
  worker?.shutdown();
  await workerDone;
  await api?.stop();
  await h?.stop();
  server?.close();
  for (const undo of restore) undo();
});

function httpPipeline(id: string, path: string) {
  return h.plan(
    pipeline(
      id,
      [
        {
          id: 'fetch',
          type: 'source.http',
          config: {
            url: `${base}${path}`,
            auth: { type: 'bearer', secret: SECRET_NAME },
            retry: { attempts: 1, baseDelayMs: 0 },
          },
          retry: { maxAttempts: 2, initialIntervalSeconds: 0.1, backoffCoefficient: 1 },
        },
      ],
      [],
    ),
  );
}

async function runToEnd(plan: ReturnType<typeof httpPipeline>): Promise<string> {
  const { runId } = await runs.start(plan, { trigger: { type: 'manual', actor: 'erin' } });
  await h.platform.temporal.workflow
    .getHandle(runId)
    .result()
    .catch(() => {});
  return runId;
}

describe('secret values', () => {
  const runIds: Record<string, string> = {};
  beforeAll(async () => {
    runIds.ok = await runToEnd(httpPipeline('secret-ok', '/records'));
    runIds.retried = await runToEnd(httpPipeline('secret-retried', '/flaky'));
    runIds.denied = await runToEnd(httpPipeline('secret-denied', '/admin'));
  });

  it('are used by the step (the server saw them), so the scans below look for something real', async () => {
    expect(received.filter((a) => a === `Bearer ${SECRET}`).length).toBeGreaterThanOrEqual(4);
    expect((await h.platform.runs.get(runIds.ok!)).status).toBe('succeeded');
    const retried = await api.call('GET', `/api/runs/${runIds.retried}/audit`);
    const failed = retried.body.events.find((e: { type: string }) => e.type === 'step.attempt_failed');
    // The echoed credentials were in the error body, and were scrubbed from the message.
    expect(failed.message).toContain('HTTP 503');
    expect(failed.message).toContain('***');
    expect(retried.body.events.find((e: { type: string }) => e.type === 'step.started').attempt).toBe(2);
  });

  it('never appear in the full history, payloads decoded', async () => {
    for (const runId of Object.values(runIds)) {
      const text = historyText(await rawHistory(h, runId));
      expect(text).toContain(SECRET_NAME); // decoded: the step config names its secret
      expect(text).not.toContain(SECRET);
    }
  });

  it('never appear in the audit trail (JSON and JSON Lines) nor in usage telemetry', async () => {
    for (const runId of Object.values(runIds)) {
      const outputs = await Promise.all([
        api.call('GET', `/api/runs/${runId}/audit`),
        api.call('GET', `/api/runs/${runId}/audit?format=jsonl`),
        api.call('GET', `/api/runs/${runId}/usage`),
      ]);
      for (const reply of outputs) {
        expect(reply.status).toBe(200);
        expect(reply.text.length).toBeGreaterThan(100);
        expect(reply.text).not.toContain(SECRET);
      }
    }
    const report = await api.call('GET', '/api/telemetry/usage?groupBy=pipeline');
    expect(report.text).toContain('secret-ok');
    expect(report.text).not.toContain(SECRET);
  });

  it('never reach the warehouse telemetry tables', async () => {
    await syncTelemetry(
      {
        temporal: h.platform.temporal,
        runs,
        warehouse: h.platform.warehousePool,
        rates: DEFAULT_CREDIT_RATES,
        log,
      },
      { full: true },
    );
    const rows = await h.platform.warehousePool.query(
      `select to_jsonb(r) as run, (select jsonb_agg(to_jsonb(s)) from tributary_telemetry.steps s where s.run_id = r.run_id) as steps
         from tributary_telemetry.runs r where r.run_id = any($1)`,
      [Object.values(runIds)],
    );
    expect(rows.rowCount).toBe(3);
    expect(JSON.stringify(rows.rows)).not.toContain(SECRET);
    // Nor the run records the sync read them from (the platform database's copy of each run).
    const recorded = await h.platform.platformPool.query(
      'select summary, detail, audit, usage from tributary.run_records where run_id = any($1)',
      [Object.values(runIds)],
    );
    expect(recorded.rowCount).toBe(3);
    expect(JSON.stringify(recorded.rows)).not.toContain(SECRET);
  });

  it('are refused by the platform audit log, which records the secret by name only', async () => {
    const audit = new AuditLog(h.platform.platformPool);
    await expect(
      audit.record({
        actor: 'erin',
        project: 'default',
        action: 'secret.set',
        target: `secret:default/${SECRET_NAME}`,
        summary: { name: SECRET_NAME, value: SECRET },
      }),
    ).rejects.toThrow(AuditSummaryError);
    const entry = await audit.record({
      actor: 'erin',
      project: 'default',
      action: 'secret.set',
      target: `secret:default/${SECRET_NAME}`,
      summary: { name: SECRET_NAME },
    });
    const listed = await api.call('GET', `/api/audit?actor=erin&action=secret.set`);
    expect(listed.body.items[0]).toMatchObject({ id: entry.id, summary: { name: SECRET_NAME } });
    const all = await h.platform.platformPool.query('select * from tributary.audit_log');
    expect(JSON.stringify(all.rows)).not.toContain(SECRET);
  });

  it('never appear in anything logged or printed', () => {
    expect(log.lines.length).toBeGreaterThan(0); // the worker and the sync did log
    expect(log.lines.join('\n')).not.toContain(SECRET);
    // The SDK's worker log of the failed attempts was printed (and captured), scrubbed.
    expect(consoleLines.join('\n')).toContain('HTTP 503');
    expect(consoleLines.join('\n')).not.toContain(SECRET);
  });
});
