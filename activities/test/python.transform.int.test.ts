// transform.python through real pipeline runs: a real pandas environment built with uv from PyPI
// (cached under .tributary/python), the real bubblewrap sandbox, Temporal and Postgres. Covers a
// transform over a SQL step's output, params, types, and what the sandbox refuses: a socket to
// loopback, a file outside the scratch directory, more memory than the limit, a syntax error, a
// package that does not exist, and a killed process on cancellation.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 600_000);
afterAll(async () => h?.stop());

const orders = {
  id: 'orders',
  type: 'transform.sql',
  config: {
    sql: `select g as id, 'customer-' || (g % 3) as customer, (g * 1.5)::numeric as total,
                 g % 2 = 0 as paid, date '2026-01-01' + g as day, null::text as note
            from generate_series(1, 10) g`,
  },
};
const seed = {
  id: 'seed',
  type: 'source.generate',
  config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
};

function pipeline(
  id: string,
  code: string,
  config: Record<string, unknown> = {},
  node: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    params: { min: { type: 'number', default: 4 } },
    settings: { keepStaging: true },
    nodes: [
      seed,
      { ...orders },
      { id: 'py', type: 'transform.python', config: { code, ...config }, ...node },
    ],
    edges: [
      { from: 'seed', to: 'orders' },
      { from: 'orders', to: 'py' },
    ],
  };
}

async function run(id: string, code: string, config: Record<string, unknown> = {}) {
  const result = await h.run(h.plan(pipeline(id, code, config, { retry: { maxAttempts: 1 } })));
  return { ...result, step: result.progress?.steps.py };
}

async function rows(runId: string, pipelineId: string) {
  const schema = stagingSchemaFor(runId, pipelineId);
  return (await h.platform.warehousePool.query(`select * from "${schema}".py order by 1`)).rows;
}

async function types(runId: string, pipelineId: string) {
  const schema = stagingSchemaFor(runId, pipelineId);
  const result = await h.platform.warehousePool.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [`"${schema}".py`],
  );
  return Object.fromEntries(result.rows.map((r) => [r.name, r.type]));
}

const AGGREGATE = `
import pandas as pd

def transform(inputs, params):
    orders = inputs["orders"]
    big = orders[orders["id"] >= params["min"]]
    out = big.groupby("customer", as_index=False).agg(
        orders=("id", "count"), total=("total", "sum"), paid=("paid", "all"), last_day=("day", "max"))
    out["tags"] = [{"n": int(n)} for n in out["orders"]]
    return out
`;

describe('transform.python', () => {
  it('runs pandas over a SQL step output with params, typing the output columns', async () => {
    const { runId, status, step } = await run('py-aggregate', AGGREGATE);
    expect(step?.error ?? null).toBeNull();
    expect(status).toBe('succeeded');
    expect(step).toMatchObject({ status: 'succeeded', rowsIn: 10, rowsOut: 3 });
    expect(await types(runId, 'py-aggregate')).toEqual({
      customer: 'text',
      orders: 'bigint',
      total: 'double precision',
      paid: 'boolean',
      last_day: 'timestamp without time zone',
      tags: 'jsonb',
    });
    const got = await rows(runId, 'py-aggregate');
    // ids 4..10: customer-0 gets 6, 9; customer-1 gets 4, 7, 10; customer-2 gets 5, 8.
    expect(got.map((r) => [r.customer, Number(r.orders), r.total, r.paid, r.tags])).toEqual([
      ['customer-0', 2, 22.5, false, { n: 2 }],
      ['customer-1', 3, 31.5, false, { n: 3 }],
      ['customer-2', 2, 19.5, false, { n: 2 }],
    ]);
    expect(step?.notes?.[0]).toContain('output columns: customer text');
  }, 600_000);

  it('keeps NULL apart from the empty string and passes the rows through unchanged', async () => {
    const code = `def transform(inputs, params):\n    df = inputs["orders"]\n    df["blank"] = ""\n    return df[["id", "note", "blank"]]\n`;
    const { runId, status } = await run('py-nulls', code);
    expect(status).toBe('succeeded');
    const got = await rows(runId, 'py-nulls');
    expect(got).toHaveLength(10);
    expect(got[0]).toEqual({ id: '1', note: null, blank: '' });
  }, 300_000);

  it('fails a syntax error as bad code, naming the line, without retrying', async () => {
    const code = `def transform(inputs, params):\n    x = 1\n    return inputs["orders"]]\n`;
    const result = await h.run(h.plan(pipeline('py-syntax', code)));
    const step = result.progress?.steps.py;
    expect(result.status).toBe('failed');
    expect(step?.attempt).toBe(1);
    expect(step?.error).toMatch(/SyntaxError.*\(code, line 3\)/);
  }, 300_000);

  it('names the line of the user code an exception was raised at', async () => {
    const code = `def helper(df):\n    return df["missing_column"]\n\ndef transform(inputs, params):\n    return helper(inputs["orders"]).to_frame()\n`;
    const { step } = await run('py-keyerror', code);
    expect(step?.error).toMatch(/KeyError: 'missing_column' \(code, line 2, in helper\)/);
  }, 300_000);

  it('refuses a socket to loopback: the sandbox has no network', async () => {
    // Postgres of this test listens on loopback of the worker; the sandbox has a loopback of its own.
    const port = new URL(inject('warehouseUrl')).port;
    const code = `import socket\ndef transform(inputs, params):\n    socket.create_connection(("127.0.0.1", ${port}), timeout=5)\n    return inputs["orders"]\n`;
    const { step } = await run('py-socket', code);
    expect(step?.status).toBe('failed');
    expect(step?.error).toMatch(/ConnectionRefusedError|Network is unreachable|OSError/);
    expect(step?.error).toMatch(/code, line 3/);
  }, 300_000);

  it('with network on, reaches an allowed host only through the egress proxy', async () => {
    // The harness's egress policy allows loopback (where tests' servers listen): the worker's.
    const server = createServer((_req, res) => res.end('hello from the worker side'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const code = `import os, urllib.request
import pandas as pd
def transform(inputs, params):
    body = urllib.request.urlopen("http://127.0.0.1:${port}/", timeout=10).read().decode()
    return pd.DataFrame({"body": [body], "proxy": [os.environ.get("HTTP_PROXY", "")]})
`;
      const { runId, status, step } = await run('py-proxy-ok', code, { network: true });
      expect(step?.error ?? null).toBeNull();
      expect(status).toBe('succeeded');
      const [row] = await rows(runId, 'py-proxy-ok');
      expect(row!.body).toBe('hello from the worker side');
      // The sandbox's own loopback port of the bridge to the worker's proxy, not the server's.
      expect(row!.proxy).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      server.close();
    }
  }, 300_000);

  it('through the proxy, refuses a cloud metadata address with the egress check named', async () => {
    const code = `import urllib.request\ndef transform(inputs, params):\n    urllib.request.urlopen("http://169.254.169.254/latest/meta-data/", timeout=5)\n    return inputs["orders"]\n`;
    const { step } = await run('py-proxy', code, { network: true });
    expect(step?.status).toBe('failed');
    expect(step?.error).toMatch(/outbound connection to 169\.254\.169\.254(:80)? refused: .*link-local/);
  }, 300_000);

  it('with network on, a direct socket that ignores the proxy finds no route', async () => {
    const code = `import socket\ndef transform(inputs, params):\n    socket.create_connection(("1.1.1.1", 443), timeout=5)\n    return inputs["orders"]\n`;
    const { step } = await run('py-direct', code, { network: true });
    expect(step?.status).toBe('failed');
    expect(step?.error).toMatch(/Network is unreachable|OSError/);
  }, 300_000);

  it('cannot read a file outside its scratch directory nor write outside it', async () => {
    const secret = path.join(h.dataDir, 'py-secret.txt');
    writeFileSync(secret, 'top secret');
    const code = `import os
def transform(inputs, params):
    seen = {}
    for p in [${JSON.stringify(secret)}, "/etc/shadow", ${JSON.stringify(process.cwd() + '/package.json')}]:
        seen[p] = os.path.exists(p)
    try:
        open("/usr/evil", "w")
        wrote = True
    except OSError as e:
        wrote = str(e)
    import pandas as pd
    return pd.DataFrame({"path": list(seen), "visible": list(seen.values()), "write": [str(wrote)] * len(seen)})
`;
    const { runId, status } = await run('py-files', code);
    expect(status).toBe('succeeded');
    const got = await rows(runId, 'py-files');
    expect(got.map((r) => r.visible)).toEqual([false, false, false]);
    expect(got[0]!.write).toMatch(/Read-only file system/);
  }, 300_000);

  it('stops code that exceeds its memory limit, and the worker stays healthy', async () => {
    const code = `def transform(inputs, params):\n    blob = bytearray(600 * 1024 * 1024)\n    return inputs["orders"]\n`;
    const { step } = await run('py-memory', code, { limits: { memoryMb: 400 } });
    expect(step?.status).toBe('failed');
    expect(step?.error).toMatch(/exceeded its memory limit of 400 MB: MemoryError/);
    const after = await run('py-after-memory', AGGREGATE);
    expect(after.status).toBe('succeeded');
  }, 300_000);

  it('names a package that does not exist as a config error', async () => {
    const code = `def transform(inputs, params):\n    return inputs["orders"]\n`;
    const { step } = await run('py-missing', code, {
      requirements: ['pandas==2.2.3', 'tributary-no-such-package-xyz==1.0'],
    });
    expect(step?.status).toBe('failed');
    expect(step?.error).toMatch(
      /config\.requirements\.1: package "tributary-no-such-package-xyz==1\.0" was not found in the package index/,
    );
  }, 300_000);

  it('refuses installer options smuggled into the requirements', async () => {
    const code = `def transform(inputs, params):\n    return inputs["orders"]\n`;
    const { step } = await run('py-smuggle', code, { requirements: ['--index-url=http://evil/simple'] });
    expect(step?.error).toMatch(
      /config\.requirements\.0: "--index-url=http:\/\/evil\/simple" is not a package requirement/,
    );
  }, 300_000);

  it('kills code that runs past its wall time', async () => {
    const code = `import time\ndef transform(inputs, params):\n    time.sleep(60)\n    return inputs["orders"]\n`;
    const started = Date.now();
    const { step } = await run('py-wall', code, { limits: { wallSeconds: 3 } });
    expect(step?.error).toMatch(/exceeded its wall-time limit of 3 s/);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 300_000);
});
