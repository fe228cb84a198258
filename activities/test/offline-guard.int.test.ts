// A connector without network (network: false) that tries to reach its service anyway: the real
// airbyte-source-github from PyPI (pinned by build-python-envs), in the bubblewrap sandbox, with a
// config that fits its spec. Its HTTP client is pointed at a proxy that refuses everything; the
// first try stops it, as a config error naming `network` and where it tried to go, instead of the
// minutes of back-off a connector spends on a network it does not have.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pythonHost } from '../src/create-activities.js';
import { StepError } from '../src/errors.js';
import { ensureEnvironment } from '../src/python/environment.js';
import { withAttempt } from '../src/python/python-runtime.js';
import { parseRequirements } from '../src/python/requirements.js';

const GITHUB = 'airbyte-source-github==2.7.1';

describe('a connector without network', () => {
  it('is stopped at its first try of the network, as a config error at network, naming the host', async () => {
    const python = pythonHost({ egress: { hosts: [], ranges: [] } });
    const env = await ensureEnvironment(
      python.options,
      parseRequirements([GITHUB], 'package'),
      'package',
      () => {},
    );
    const ctx = { signal: new AbortController().signal, python, heartbeat: () => {} };
    const failure = await withAttempt(ctx, async (attempt) => {
      await writeFile(
        path.join(attempt.scratchDir, 'config.json'),
        JSON.stringify({
          repositories: ['airbytehq/airbyte'],
          credentials: { option_title: 'PAT Credentials', personal_access_token: 'not-a-token' },
        }),
      );
      const { finished } = await attempt.run({
        argv: [
          '/env/bin/python',
          '/opt/tributary/launcher.py',
          '/env/bin/source-github',
          'check',
          '--config',
          '/scratch/config.json',
        ],
        env,
        network: false,
        failWhenOffline: true,
        // Far above what the back-off would take: the stop is the guard's, not the limit's.
        limits: { cpuSeconds: 600, memoryMb: 2048, wallSeconds: 600 },
        what: `${GITHUB} (test)`,
      });
      return finished.then(
        () => undefined,
        (error: unknown) => error,
      );
    });
    expect(failure).toBeInstanceOf(StepError);
    expect((failure as StepError).kind).toBe('config');
    expect((failure as StepError).message).toMatch(
      /^config\.network: airbyte-source-github==2\.7\.1 \(test\) tried to reach api\.github\.com:443, but its node has no network \(network: false\)/,
    );
  }, 600_000);
});
