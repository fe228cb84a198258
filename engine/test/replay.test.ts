// Replays recorded workflow histories against today's interpreter: a change that is not
// deterministic (a reordered activity call, a new timer without `patched()`) fails here, before it
// can break runs that are in flight in production. Record new ones with histories/record.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { installTemporalRuntime, workflowBundle } from '../src/worker/worker.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

describe('recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    installTemporalRuntime();
    // The files hold fetchHistory()'s objects as JSON; fromObject turns them back into protobufs.
    const history = proto.temporal.api.history.v1.History.fromObject(
      JSON.parse(readFileSync(path.join(DIR, file), 'utf8')),
    );
    const result = await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
    expect(result).toBeUndefined();
  });
});
