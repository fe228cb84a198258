// source.singer's probe: the tap's `--about` settings (the node's form, when it offers them) and,
// with a config, discover's streams, run in the sandbox (python/connector-probe.ts).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StepError } from '../../errors.js';
import { connectorConfig } from '../../python/config-paths.js';
import {
  PROBE_LIMITS,
  type DiscoveredStream,
  type ProbeContext,
  type ProbeRequest,
  type ProbeResult,
} from '../../python/connector-probe.js';
import { prepareEnvironment, withAttempt } from '../../python/python-runtime.js';
import { formSpec, requireFitsSpec } from '../../python/spec-check.js';
import { streamColumns } from '../../python/stream-table.js';
import { catalogFacts, tapAbout, tapCommand, tapDiscover, type CatalogStream } from './singer.source.js';

export async function probeSinger(ctx: ProbeContext, request: ProbeRequest): Promise<ProbeResult> {
  if (!/^tap-[a-z0-9-]+\s*==\s*[A-Za-z0-9.+!_-]+$/.test(request.package)) {
    throw new StepError('config.package: write tap-<name>==<version>', 'config');
  }
  if (request.command !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(request.command)) {
    throw new StepError('config.command: a command name (letters, digits, "-", "_")', 'config');
  }
  const env = await prepareEnvironment(ctx, [request.package], 'package');
  const command = tapCommand(request.package, request.command);
  const what = request.package;
  const files = request.files ? await ctx.resolveDataPath(request.files, 'files') : undefined;
  const readOnly = files ? [{ host: files, path: '/data' }] : [];
  return withAttempt(ctx, async (attempt) => {
    ctx.heartbeat({ phase: 'about' });
    const about = await tapAbout(attempt, env, command, { limits: PROBE_LIMITS }, what);
    if (request.action === 'spec') {
      return {
        action: 'spec',
        spec: about.settings
          ? formSpec(request.package, {
              schema: about.settings,
              secretFields: [...(about.secretFields ?? [])],
            })
          : {
              schema: null,
              secretFields: [],
              note: `${request.package} offers no settings schema (it does not answer --about --format json): write its config as JSON, and name in "secrets" the fields that hold secrets`,
            },
      };
    }
    if (about.settings)
      requireFitsSpec(
        request.package,
        { schema: about.settings, secretFields: [...(about.secretFields ?? [])] },
        request.config ?? {},
        request.secrets ?? {},
      );
    const values = await connectorConfig(ctx, {
      pkg: request.package,
      plain: request.config ?? {},
      secrets: request.secrets ?? {},
      secretFields: about.secretFields,
    });
    await writeFile(path.join(attempt.scratchDir, 'config.json'), JSON.stringify(values), { mode: 0o600 });
    ctx.heartbeat({ phase: 'discover' });
    const catalog = await tapDiscover(
      attempt,
      env,
      command,
      { network: request.network ?? false, limits: PROBE_LIMITS },
      readOnly,
      what,
    );
    return { action: 'discover', streams: catalog.streams.map(singerStream) };
  });
}

function singerStream(s: CatalogStream): DiscoveredStream {
  const { incremental, replicationKeys } = catalogFacts(s);
  return {
    name: s.tap_stream_id,
    columns: streamColumns(s.schema).map((c) => ({ name: c.name, type: c.type })),
    syncModes: incremental ? ['full_refresh', 'incremental'] : ['full_refresh'],
    // A tap keeps its own bookmark: there is no cursor field to choose, only (where its catalog
    // lists several) the replication key.
    sourceDefinedCursor: true,
    defaultCursorField: replicationKeys.slice(0, 1),
    ...(replicationKeys.length > 1 ? { replicationKeys } : {}),
  };
}
