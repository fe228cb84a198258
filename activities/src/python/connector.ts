// What source.airbyte and source.singer share: a connector is a process in the Python sandbox that
// speaks JSON lines on stdout. Here: the config fields both declare alike, the dataset a connector
// node reads (for lineage), one JSON message a line, running a connector command line by line, and
// the step result of a stream read (its STATE handed back to be stored only when the run succeeds).
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { configString, type NodeLineage, type StepContext } from '../node-type.js';
import { LimitsSchema } from '../transform/python/python.transform.js';
import type { Attempt, RunOptions } from './python-runtime.js';

/** Config fields every Python connector node has, with the same meaning. */
export const connectorFields = {
  secrets: z
    .record(z.string(), z.string().min(1))
    .default({})
    .describe('Secret fields of the config (dotted path) → the name of the project secret that fills it'),
  syncMode: z
    .enum(['full_refresh', 'incremental'])
    .default('full_refresh')
    .describe('incremental: each run reads only what is new since the last successful run'),
  network: z
    .boolean()
    .default(false)
    .describe('Let the connector reach its service over HTTP(S), through the egress fence'),
  limits: LimitsSchema.prefault({}),
};

/** The stream a connector node reads, as a dataset of its own: `<ecosystem>:<package>/<stream>`. */
export function connectorLineage(
  ecosystem: 'airbyte' | 'singer',
): (config: Record<string, unknown>) => NodeLineage {
  return (config) => ({
    reads: [
      {
        kind: 'external',
        name: `${ecosystem}:${(configString(config, 'package') ?? '?').split('==')[0]!.trim()}/${configString(config, 'stream') ?? '?'}`,
      },
    ],
    columns: { from: 'read' },
  });
}

/** A line of stdout as a message (`{"type": …}`); connectors also print plain text, which is not one. */
export function parseJsonLine<T extends { type: string }>(line: string): T | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const message = JSON.parse(line) as T;
    return typeof message?.type === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs a connector command in the attempt's sandbox and hands each line of its stdout to
 * `onLine` (awaited, so a full COPY stream slows the reading); resolves when the process ended
 * well, and throws its classified error otherwise.
 */
export async function runConnector(
  attempt: Attempt,
  options: Omit<RunOptions, 'argv'> & { command: string[] },
  onLine: (line: string) => Promise<void> | void,
  onStderrLine?: (line: string) => void,
): Promise<void> {
  const { command, ...rest } = options;
  const { process: child, finished } = await attempt.run({
    failWhenOffline: true,
    ...rest,
    argv: ['/env/bin/python', '/opt/tributary/launcher.py', ...command],
  });
  if (onStderrLine) child.onStderrLine(onStderrLine);
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    const pending = onLine(line);
    if (pending) await pending;
  }
  await finished;
}

/** A stream read's step result: rows, notes, and (incremental) the STATE to store on success. */
export function streamReadResult(
  ctx: Pick<StepContext, 'outputTable'>,
  read: { rows: number; state: unknown },
  options: {
    stream: string;
    syncMode: 'full_refresh' | 'incremental';
    stored: { streams?: Record<string, unknown> } | null | undefined;
    previous: unknown;
    stats: { rows: number; bytes: number };
  },
) {
  const { stream, syncMode, stored, previous, stats } = options;
  return {
    table: ctx.outputTable,
    stats: { rowsIn: read.rows, rowsOut: stats.rows, bytes: stats.bytes },
    ...(syncMode === 'incremental'
      ? { pendingState: { streams: { ...stored?.streams, [stream]: read.state ?? previous } } }
      : {}),
    notes: [
      `${read.rows} records of stream ${stream} (${syncMode}${previous !== undefined ? ', from the stored state' : ''})`,
    ],
  };
}
