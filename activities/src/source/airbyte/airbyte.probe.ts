// source.airbyte's probe: its spec (the node's form) and, with a config, discover's streams (the
// stream picker), run with the connector's own commands in the sandbox (python/connector-probe.ts).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StepError } from '../../errors.js';
import { connectorConfig } from '../../python/config-paths.js';
import {
  PROBE_LIMITS,
  type ProbeContext,
  type ProbeRequest,
  type ProbeResult,
} from '../../python/connector-probe.js';
import { prepareEnvironment, withAttempt } from '../../python/python-runtime.js';
import { parseRequirements } from '../../python/requirements.js';
import { streamColumns } from '../../python/stream-table.js';
import { formSpec, requireFitsSpec } from '../../python/spec-check.js';
import { secretPaths } from './airbyte-protocol.js';
import { collect, connectorCommand } from './airbyte.source.js';

export async function probeAirbyte(ctx: ProbeContext, request: ProbeRequest): Promise<ProbeResult> {
  if (!/^airbyte-source-[a-z0-9-]+\s*==\s*[A-Za-z0-9.+!_-]+$/.test(request.package)) {
    throw new StepError('config.package: write airbyte-source-<name>==<version>', 'config');
  }
  const requirements = [request.package, ...(request.requirements ?? [])];
  parseRequirements(requirements, 'requirements');
  const env = await prepareEnvironment(ctx, requirements, 'package');
  const command = await connectorCommand(env, request.package);
  const what = request.package;
  return withAttempt(ctx, async (attempt) => {
    ctx.heartbeat({ phase: 'spec' });
    const messages = await collect(
      attempt,
      env,
      [command, 'spec'],
      { network: false, limits: PROBE_LIMITS },
      what,
    );
    const schema = messages.find((m) => m.type === 'SPEC')?.spec?.connectionSpecification;
    if (!schema) throw new StepError(`${what} printed no SPEC message`, 'config');
    const secretFields = secretPaths(schema);
    if (request.action === 'spec')
      return { action: 'spec', spec: formSpec(request.package, { schema, secretFields }) };
    requireFitsSpec(request.package, { schema, secretFields }, request.config ?? {}, request.secrets ?? {});

    const values = await connectorConfig(ctx, {
      pkg: request.package,
      plain: request.config ?? {},
      secrets: request.secrets ?? {},
      secretFields: new Set(secretFields),
    });
    await writeFile(path.join(attempt.scratchDir, 'config.json'), JSON.stringify(values), { mode: 0o600 });
    ctx.heartbeat({ phase: 'discover' });
    const discovered = await collect(
      attempt,
      env,
      [command, 'discover', '--config', '/scratch/config.json'],
      { network: request.network ?? false, limits: PROBE_LIMITS },
      what,
    );
    const catalog = discovered.find((m) => m.type === 'CATALOG')?.catalog;
    if (!catalog) throw new StepError(`${what}: discover printed no CATALOG message`, 'config');
    return {
      action: 'discover',
      streams: catalog.streams.map((s) => ({
        name: s.name,
        columns: streamColumns(s.json_schema).map((c) => ({ name: c.name, type: c.type })),
        syncModes: (s.supported_sync_modes ?? ['full_refresh']).filter(
          (m): m is 'full_refresh' | 'incremental' => m === 'full_refresh' || m === 'incremental',
        ),
        sourceDefinedCursor: !!s.source_defined_cursor,
        defaultCursorField: s.default_cursor_field ?? [],
      })),
    };
  });
}
