// Hostile input: starts a throwaway stack (`start.ts`, embedded Temporal and Postgres, its own
// TRIBUTARY_HOME and port), then runs schemathesis over the served /api/openapi.json on every
// route, once with an admin token and once with a token limited to one project. A 5xx, or an
// error response that is not application/problem+json, fails the run (exit code 1).
//
//   npx tsx engine/test/fuzz/run-fuzz.ts            (FUZZ_EXAMPLES per operation, default 25;
//                                                    FUZZ_MAX_SECONDS per pass, default 150)
// schemathesis comes from SCHEMATHESIS (a binary), else .tributary/fuzz-venv (made with pip).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/infra/ports.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const EXAMPLES = process.env.FUZZ_EXAMPLES ?? '25';
const MAX_SECONDS = process.env.FUZZ_MAX_SECONDS ?? '150';

function schemathesis(): string {
  if (process.env.SCHEMATHESIS) return process.env.SCHEMATHESIS;
  const venv = path.join(ROOT, '.tributary', 'fuzz-venv');
  const bin = path.join(venv, 'bin', 'schemathesis');
  if (!existsSync(bin)) {
    process.stdout.write('fuzz: installing schemathesis into .tributary/fuzz-venv\n');
    const made = spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    const pip =
      made.status === 0
        ? spawnSync(path.join(venv, 'bin', 'pip'), ['install', '-q', 'schemathesis'], { stdio: 'inherit' })
        : made;
    if (pip.status !== 0)
      throw new Error('could not install schemathesis (python3 -m venv + pip install schemathesis)');
  }
  return bin;
}

async function main(): Promise<number> {
  const st = schemathesis();
  const home = mkdtempSync(path.join(os.tmpdir(), 'tributary-fuzz-'));
  chmodSync(home, 0o755); // the embedded Postgres runs as the postgres user
  const port = await findFreePort();
  const admin = `trb_fuzz_${randomBytes(18).toString('hex')}`;
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(home, 'stack.log');
  const stack = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'engine/src/cli/start.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.TEMPORAL_CLI_PATH ? { TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH } : {}),
      TRIBUTARY_HOME: home,
      PORT: String(port),
      POSTGRES_PORT: String(await findFreePort()),
      TEMPORAL_PORT: String(await findFreePort()),
      TEMPORAL_UI_PORT: String(await findFreePort()),
      TRIBUTARY_ADMIN_TOKEN: admin,
      TRIBUTARY_TELEMETRY_SYNC_MINUTES: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer) => {
    log += chunk.toString();
  };
  stack.stdout.on('data', keep);
  stack.stderr.on('data', keep);
  const stopped = new Promise((resolve) => stack.once('exit', resolve));
  try {
    const deadline = Date.now() + 180_000;
    while (
      !(await fetch(`${base}/api/health`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (stack.exitCode !== null || Date.now() > deadline)
        throw new Error(`the stack did not come up:\n${log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const call = async (method: string, route: string, body: unknown) => {
      const r = await fetch(`${base}${route}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${await r.text()}`);
      return r.json() as Promise<Record<string, unknown>>;
    };
    // Something for the fuzzer to find: a project, a pipeline in it, a token limited to it.
    await call('POST', '/api/projects', { id: 'fuzz', name: 'Fuzz' });
    await call('POST', '/api/pipelines', {
      apiVersion: 'tributary/v1',
      id: 'fuzz-pipeline',
      name: 'Fuzz',
      project: 'fuzz',
      nodes: [
        {
          id: 'g',
          type: 'source.generate',
          config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
        },
      ],
    });
    const limited = (
      await call('POST', '/api/tokens', {
        name: 'fuzz-limited',
        scopes: ['read', 'write', 'run'],
        projects: ['fuzz'],
      })
    ).token as string;
    // The bootstrap admin token has the fixed id "admin", which DELETE /tokens/{tokenId} would
    // sooner or later guess and revoke mid-run: fuzz with an admin token of a random id instead.
    const fuzzAdmin = (await call('POST', '/api/tokens', { name: 'fuzz-admin', scopes: ['admin'] }))
      .token as string;

    let failed = false;
    // Schemathesis learns ids from responses (GET /tokens lists them) and would revoke the very tokens
    // it fuzzes with; DELETE /tokens/{tokenId} gets a pass of its own, last.
    // One operation needs less time: fuzzing repeats until its budget is spent.
    const short = String(Math.min(Number(MAX_SECONDS), 30));
    const passes: [string, string, string[], string][] = [
      ['admin token', fuzzAdmin, ['--exclude-operation-id', 'deleteToken'], MAX_SECONDS],
      ['project-limited token', limited, ['--exclude-operation-id', 'deleteToken'], MAX_SECONDS],
      ['project-limited token, token revocation', limited, ['--include-operation-id', 'deleteToken'], short],
      ['admin token, token revocation', fuzzAdmin, ['--include-operation-id', 'deleteToken'], short],
    ];
    for (const [label, token, only, seconds] of passes) {
      process.stdout.write(
        `\nfuzz: schemathesis with the ${label} (${EXAMPLES} examples per operation, at most ${seconds} s)\n`,
      );
      const reportPath = path.join(home, `report-${label.replace(/\W+/g, '-')}.json`);
      const run = spawnSync(
        st,
        [
          'run',
          `${base}/api/openapi.json`,
          '--url',
          `${base}/api`,
          '-H',
          `Authorization: Bearer ${token}`,
          '--checks',
          'not_a_server_error,content_type_conformance',
          '--max-examples',
          EXAMPLES,
          '--max-time',
          seconds,
          '--phases',
          'examples,coverage,fuzzing',
          // One worker: hypothesis compiling strategies in threads trips a CPython 3.11 bug
          // ("AST constructor recursion depth mismatch"), a runtime error that is not the API's.
          '--workers',
          '1',
          '--seed',
          process.env.FUZZ_SEED ?? '1',
          '--no-color',
          '--suppress-health-check',
          'all',
          '--report',
          'json',
          '--report-json-path',
          reportPath,
          '--request-timeout',
          '30',
          ...only,
        ],
        { stdio: 'inherit', env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' } },
      );
      if (run.status !== 0) failed = true;
      if (existsSync(reportPath)) process.stdout.write(`fuzz: report ${reportPath}\n`);
    }
    const errors = log.split('\n').filter((l) => /unhandled error/.test(l));
    if (errors.length) {
      failed = true;
      process.stdout.write(
        `fuzz: the API logged ${errors.length} unhandled errors:\n${errors.slice(0, 20).join('\n')}\n`,
      );
    }
    process.stdout.write(`\nfuzz: ${failed ? 'FAILED' : 'passed'}\n`);
    return failed ? 1 : 0;
  } finally {
    stack.kill('SIGTERM');
    await stopped;
    writeFileSync(logFile, log);
    if (!process.env.FUZZ_KEEP_HOME) rmSync(home, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`fuzz: ${error.message}\n`);
    process.exit(2);
  },
);
