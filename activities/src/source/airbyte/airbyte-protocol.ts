// The parts of the Airbyte protocol a source speaks on stdout (one JSON message a line) that we
// use: SPEC, CATALOG, RECORD, STATE (per stream, or the legacy whole-source `data`), LOG and
// TRACE (errors with a failure type, estimates, stream status). https://docs.airbyte.com/understanding-airbyte/airbyte-protocol/
import { StepError, TransientError } from '../../errors.js';
import { parseJsonLine } from '../../python/connector.js';

export interface AirbyteStream {
  name: string;
  namespace?: string | null;
  json_schema: Record<string, unknown>;
  supported_sync_modes?: string[];
  source_defined_cursor?: boolean;
  default_cursor_field?: string[];
  source_defined_primary_key?: string[][];
}

export interface AirbyteMessage {
  type: string;
  record?: { stream: string; data: Record<string, unknown>; namespace?: string | null };
  state?: {
    type?: 'STREAM' | 'GLOBAL' | 'LEGACY';
    stream?: { stream_descriptor: { name: string; namespace?: string | null }; stream_state?: unknown };
    global?: unknown;
    data?: unknown;
  };
  log?: { level: string; message: string };
  trace?: {
    type: string;
    error?: { message?: string; internal_message?: string; stack_trace?: string; failure_type?: string };
    estimate?: { name: string; row_estimate?: number };
  };
  spec?: { connectionSpecification: Record<string, unknown> };
  catalog?: { streams: AirbyteStream[] };
  connectionStatus?: { status: string; message?: string };
}

/** A line of stdout as a message; connectors also print plain text, which is not one. */
export const parseMessage = (line: string): AirbyteMessage | undefined => parseJsonLine<AirbyteMessage>(line);

/** The error a connector's TRACE reported, classified by its failure type. */
export function traceError(error: NonNullable<AirbyteMessage['trace']>['error'], what: string): Error {
  const message = `${what}: ${error?.message ?? error?.internal_message ?? 'the connector reported an error'}${detail(error)}`;
  // config_error: the user's configuration is wrong; retrying cannot help. transient_error and
  // system_error: Airbyte's own platform retries those, and so do we.
  return error?.failure_type === 'config_error'
    ? new StepError(message, 'config')
    : new TransientError(message);
}

/**
 * What the CDK's generic "Something went wrong in the connector" leaves out: the exception itself,
 * the last line of the stack trace (`KeyError: 'count'`), else the internal message.
 */
function detail(error: NonNullable<AirbyteMessage['trace']>['error']): string {
  const last = error?.stack_trace?.trim().split('\n').at(-1)?.trim();
  const extra = last || error?.internal_message;
  if (!extra || !error?.message || error.message.includes(extra)) return '';
  return ` (${extra.slice(0, 300)})`;
}

/**
 * The dotted paths of a spec's fields marked `airbyte_secret` (inside `oneOf` options too), which
 * a node fills with project secrets, never plain values.
 */
export function secretPaths(spec: unknown, prefix = ''): string[] {
  const node = spec as
    { properties?: Record<string, unknown>; oneOf?: unknown[]; anyOf?: unknown[] } | undefined;
  const paths = new Set<string>();
  for (const [name, property] of Object.entries(node?.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    if ((property as { airbyte_secret?: boolean })?.airbyte_secret) paths.add(path);
    for (const nested of secretPaths(property, path)) paths.add(nested);
  }
  for (const option of [...(node?.oneOf ?? []), ...(node?.anyOf ?? [])]) {
    for (const nested of secretPaths(option, prefix)) paths.add(nested);
  }
  return [...paths];
}
