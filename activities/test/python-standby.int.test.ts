// Warm standbys of transform.python (issue 28) through real pipeline runs: the real pandas
// environment, real bubblewrap, Temporal and Postgres. A step takes its environment's standby
// (an interpreter that has already imported pandas), which serves that one step and ends; the
// sandbox's refusals hold on it exactly as on a cold process; its CPU limit counts from the
// step's start; two steps in a row get different processes and scratch directories; a step with
// network starts cold; idle standbys end, and all of them on shutdown.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pythonStandbys } from '@tributary/activities';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { interpreterPrefix } from '../src/python/environment.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
}, 600_000);
afterAll(async () => h?.stop());

const seed = {
  id: 'seed',
  type: 'source.generate',
  config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
};
const orders = {
  id: 'orders',
  type: 'transform.sql',
  config: { sql: `select g as id, 'customer-' || (g % 3) as customer from generate_series(1, 3) g` },
};

function pipeline(id: string, code: string, config: Record<string, unknown> = {}) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { keepStaging: true },
    nodes: [
      seed,
      { ...orders },
      { id: 'py', type: 'transform.python', config: { code, ...config }, retry: { maxAttempts: 1 } },
    ],
    edges: [
      { from: 'seed', to: 'orders' },
      { from: 'orders', to: 'py' },
    ],
  };
}

async function run(id: string, code: string, config: Record<string, unknown> = {}) {
  const result = await h.run(h.plan(pipeline(id, code, config)));
  return { ...result, step: result.progress?.steps.py };
}

async function rows(runId: string, pipelineId: string) {
  const schema = stagingSchemaFor(runId, pipelineId);
  return (await h.platform.warehousePool.query(`select * from "${schema}".py`)).rows;
}

type Listed = ReturnType<typeof pythonStandbys.list>[number];

/** The pandas standby once its imports are done (a first step starts it when there is none). */
async function readyStandby(): Promise<Listed> {
  for (let i = 0; i < 1200; i++) {
    const found = pythonStandbys.list().find((s) => s.kind === 'pandas' && s.ready);
    if (found) return found;
    if (i === 0 && !pythonStandbys.list().some((s) => s.kind === 'pandas')) {
      // None yet: any step of this environment starts one in the background.
      await run('warm-up', 'def transform(inputs, params):\n    return inputs["orders"]\n');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('no pandas standby became ready within two minutes');
}

/** Python that reports which process and scratch directory ran it, as one row. */
const WHO = `import builtins, os, time
import pandas as pd

def transform(inputs, params):
    started_cpu = time.process_time()
    # The worker's directory behind /scratch, as the mount table inside the sandbox names it.
    scratch = [l.split()[3] for l in open("/proc/self/mountinfo") if l.split()[4] == "/scratch"][0]
    before = getattr(builtins, "_left_by_a_step", None)
    builtins._left_by_a_step = "set"
    left = sorted(os.listdir("/scratch"))
    open("/scratch/left-behind.txt", "w").write("for the next step")
    pids = sorted(p for p in os.listdir("/proc") if p.isdigit())
    return pd.DataFrame({"scratch": [scratch], "before": [str(before)], "files": [",".join(left)],
                         "pids": [",".join(pids)], "started_cpu": [started_cpu]})
`;

describe('transform.python on a warm standby', () => {
  it('takes the standby once: two steps in a row get different processes and scratch directories', async () => {
    const first = await readyStandby();
    const a = await run('warm-a', WHO);
    expect(a.step?.error ?? null).toBeNull();
    const [ra] = await rows(a.runId, 'warm-a');
    // It ran in the standby that was waiting (its scratch directory), which has ended since.
    expect(ra.scratch).toBe(first.scratchDir);
    expect(pythonStandbys.list().some((s) => s.scratchDir === first.scratchDir)).toBe(false);
    expect(existsSync(first.scratchDir)).toBe(false);
    expect(alive(first.pid)).toBe(false);
    // pandas was imported before the step: its CPU time was spent before transform() ran.
    expect(Number(ra.started_cpu)).toBeGreaterThan(0.1);
    // Its own PID namespace: nothing of the worker's or other sandboxes' processes is visible.
    expect(ra.pids.split(',').length).toBeLessThanOrEqual(3);
    expect(ra.files).toBe('inputs,step.py');

    const second = await readyStandby();
    expect(second.scratchDir).not.toBe(first.scratchDir);
    expect(second.pid).not.toBe(first.pid);
    const b = await run('warm-b', WHO);
    const [rb] = await rows(b.runId, 'warm-b');
    expect(rb.scratch).toBe(second.scratchDir);
    // Nothing the first step left (a module-level value, a file) reaches the second.
    expect(rb.before).toBe('None');
    expect(rb.files).toBe('inputs,step.py');
  }, 600_000);

  it('counts the CPU limit from the step’s start, not the standby’s', async () => {
    await readyStandby();
    // 1.9 s of CPU of its own under a 2 s limit: allowed, though the standby's imports used CPU
    // before (a limit counted from the standby's start would kill it once those exceed 0.1 s).
    const spin = `import time
import pandas as pd

def transform(inputs, params):
    started = time.process_time()
    while time.process_time() - started < 1.9:
        pass
    return pd.DataFrame({"started_cpu": [started]})
`;
    const ok = await run('warm-cpu-ok', spin, { limits: { cpuSeconds: 2 } });
    expect(ok.step?.error ?? null).toBeNull();
    const [row] = await rows(ok.runId, 'warm-cpu-ok');
    expect(Number(row.started_cpu)).toBeGreaterThan(0.1);

    // And the limit holds: code that never stops is killed for it.
    await readyStandby();
    const forever = `def transform(inputs, params):\n    while True:\n        pass\n`;
    const killed = await run('warm-cpu-killed', forever, { limits: { cpuSeconds: 1 } });
    expect(killed.step?.status).toBe('failed');
    expect(killed.step?.error).toMatch(/exceeded its CPU-time limit of 1 s/);

    // The same on the cold path (no standbys at all).
    pythonStandbys.configure({ max: 0 });
    try {
      const cold = await run('cold-cpu-killed', forever, { limits: { cpuSeconds: 1 } });
      expect(cold.step?.error).toMatch(/exceeded its CPU-time limit of 1 s/);
      expect(pythonStandbys.list()).toEqual([]);
    } finally {
      pythonStandbys.configure({ max: 2 });
    }
  }, 600_000);

  it('refuses a socket to loopback on a standby: the sandbox has no network', async () => {
    const standby = await readyStandby();
    const port = new URL(inject('warehouseUrl')).port;
    const code = `import socket\ndef transform(inputs, params):\n    socket.create_connection(("127.0.0.1", ${port}), timeout=5)\n    return inputs["orders"]\n`;
    const { step } = await run('warm-socket', code);
    expect(taken(standby)).toBe(true);
    expect(step?.status).toBe('failed');
    expect(step?.error).toMatch(/ConnectionRefusedError|Network is unreachable|OSError/);
    expect(step?.error).toMatch(/code, line 3/);
  }, 300_000);

  it('cannot read a file outside its scratch directory nor write outside it, on a standby', async () => {
    const standby = await readyStandby();
    const secret = path.join(h.dataDir, 'warm-secret.txt');
    const code = `import os
import pandas as pd
def transform(inputs, params):
    seen = {p: os.path.exists(p) for p in [${JSON.stringify(secret)}, "/etc/shadow", ${JSON.stringify(process.cwd() + '/package.json')}, ${JSON.stringify(standby.scratchDir)}]}
    try:
        open("/usr/evil", "w")
        wrote = "yes"
    except OSError as e:
        wrote = str(e)
    return pd.DataFrame({"path": list(seen), "visible": list(seen.values()), "write": [wrote] * len(seen)})
`;
    const { runId, status } = await run('warm-files', code);
    expect(status).toBe('succeeded');
    expect(taken(standby)).toBe(true);
    const got = await rows(runId, 'warm-files');
    expect(got.map((r) => r.visible)).toEqual([false, false, false, false]);
    expect(got[0]!.write).toMatch(/Read-only file system/);
  }, 300_000);

  it('cannot raise the limits the standby lowered for the step', async () => {
    const standby = await readyStandby();
    const code = `import resource
import pandas as pd
def transform(inputs, params):
    tried = {}
    for name in ("RLIMIT_CPU", "RLIMIT_AS"):
        which = getattr(resource, name)
        try:
            resource.setrlimit(which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            tried[name] = "raised"
        except (ValueError, OSError) as e:
            tried[name] = "refused: " + str(e)
    tried["cpu now"] = str(resource.getrlimit(resource.RLIMIT_CPU))
    tried["as now"] = str(resource.getrlimit(resource.RLIMIT_AS))
    return pd.DataFrame({"what": list(tried), "result": list(tried.values())})
`;
    const { runId, status } = await run('warm-raise', code, { limits: { cpuSeconds: 30, memoryMb: 1024 } });
    expect(status).toBe('succeeded');
    expect(taken(standby)).toBe(true);
    const got = Object.fromEntries((await rows(runId, 'warm-raise')).map((r) => [r.what, r.result]));
    expect(got.RLIMIT_CPU).toMatch(/^refused/);
    expect(got.RLIMIT_AS).toMatch(/^refused/);
    expect(got['as now']).toBe(`(${1024 * 1024 * 1024}, ${1024 * 1024 * 1024})`);
    // The step's 30 s on top of the imports' CPU time (under a second), soft then hard.
    const [soft, hard] = got['cpu now'].replace(/[()]/g, '').split(', ').map(Number);
    expect(soft).toBeGreaterThanOrEqual(30);
    expect(soft).toBeLessThanOrEqual(32);
    expect(hard).toBe(soft + 1);
  }, 300_000);

  it('stops code that exceeds its memory limit on a standby (the limit is lowered to the step’s)', async () => {
    const standby = await readyStandby();
    const code = `def transform(inputs, params):\n    blob = bytearray(600 * 1024 * 1024)\n    return inputs["orders"]\n`;
    const { step } = await run('warm-memory', code, { limits: { memoryMb: 400 } });
    expect(taken(standby)).toBe(true);
    expect(step?.status).toBe('failed');
    expect(step?.error).toMatch(/exceeded its memory limit of 400 MB: MemoryError/);
    // The worker is healthy and the next standby serves the next step.
    const next = await readyStandby();
    const after = await run('warm-after-memory', WHO);
    expect(after.status).toBe('succeeded');
    expect((await rows(after.runId, 'warm-after-memory'))[0]!.scratch).toBe(next.scratchDir);
  }, 300_000);

  it('kills the standby running a step when the run is cancelled', async () => {
    const standby = await readyStandby();
    const marker = `warm-cancel-${Date.now()}`;
    const code = `import time\ndef transform(inputs, params):\n    time.sleep(120)  # ${marker}\n    return inputs["orders"]\n`;
    const { runId } = await h.platform.runs.start(h.plan(pipeline('warm-cancel', code)), {
      trigger: { type: 'manual', actor: 'test' },
    });
    // The step's code lands in the standby's scratch directory; wait until it runs there (the file
    // exists, empty, for a moment before its code is written).
    const stepFile = path.join(standby.scratchDir, 'step.py');
    const running = () =>
      existsSync(stepFile) && readFileSync(stepFile, 'utf8').includes(marker) && alive(standby.pid);
    for (let i = 0; i < 300 && !running(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(path.join(standby.scratchDir, 'step.py'), 'utf8')).toContain(marker);
    await h.platform.runs.cancel(runId, 'test', 'stop the sleeper');
    await h.platform.temporal.workflow
      .getHandle(runId)
      .result()
      .catch(() => {});
    for (let i = 0; i < 100 && alive(standby.pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(standby.pid)).toBe(false);
    expect((await h.platform.runs.get(runId)).status).toBe('cancelled');
  }, 300_000);

  it('a step with network starts cold and leaves the standby waiting', async () => {
    const standby = await readyStandby();
    const { status } = await run(
      'warm-network',
      'def transform(inputs, params):\n    return inputs["orders"]\n',
      {
        network: true,
      },
    );
    expect(status).toBe('succeeded');
    expect(taken(standby)).toBe(false);
  }, 300_000);

  it('keeps at most the configured number: a new mode’s standby replaces the oldest', async () => {
    const pandas = await readyStandby();
    const env = { dir: pandas.envDir, basePrefix: await interpreterPrefix('python3'), built: false };
    pythonStandbys.configure({ max: 1 });
    try {
      pythonStandbys.prepare({ env, kind: 'arrow' }, 'bwrap');
      const left = pythonStandbys.list();
      expect(left.map((s) => s.kind)).toEqual(['arrow']);
      for (let i = 0; i < 100 && alive(pandas.pid); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive(pandas.pid)).toBe(false);
      // Without pyarrow in the environment the arrow standby still gets ready: the step itself
      // meets the missing import, with the traceback a cold step shows.
      expect(await pythonStandbys.whenReady({ env, kind: 'arrow' })).toBe(true);
    } finally {
      // Leave the pool as the other tests expect it: empty, two at most.
      await pythonStandbys.endAll();
      pythonStandbys.configure({ max: 2 });
    }
  }, 300_000);

  it('ends idle standbys after the idle time, and all of them on shutdown', async () => {
    const standby = await readyStandby();
    pythonStandbys.configure({ idleMs: 300 });
    try {
      // The waiting one keeps its timer; the next one started gets the short one.
      await run('warm-idle', 'def transform(inputs, params):\n    return inputs["orders"]\n');
      expect(taken(standby)).toBe(true);
      let left = pythonStandbys.list();
      for (let i = 0; i < 100 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = pythonStandbys.list();
      }
      expect(left).toEqual([]);
    } finally {
      pythonStandbys.configure({ idleMs: 300_000 });
    }
    const last = await readyStandby();
    await pythonStandbys.endAll();
    expect(pythonStandbys.list()).toEqual([]);
    expect(existsSync(last.scratchDir)).toBe(false);
    expect(alive(last.pid)).toBe(false);
    pythonStandbys.configure({});
  }, 300_000);
});

/** Whether `standby` was taken by a step (it is no longer waiting, and its directory is gone). */
function taken(standby: Listed): boolean {
  return (
    !pythonStandbys.list().some((s) => s.scratchDir === standby.scratchDir) && !existsSync(standby.scratchDir)
  );
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    // A zombie is not alive: it is reaped by the worker soon after.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
