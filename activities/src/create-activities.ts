// Turns the registry into Temporal activities: one activity per node type, named by its type, so
// that workflow history (and with it the audit trail and telemetry) shows what each step was.
// Everything a step touches comes in through `deps`, so tests hand in real or test dependencies.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { describePgError, isPgError, isRetryable, StepError, TransientError } from './errors.js';
import type { NodeTypeDeclaration, SecretResolver, StepContext, StepLogger } from './node-type.js';
import type { StepActivityInput, StepActivityResult, StepFailureDetails } from './step-activity.js';
import { quoteTable } from './sql.js';

export interface ActivityDeps {
  warehouse: pg.Pool;
  /** Secrets of a project; values never leave the activity. */
  secrets: (project: string) => SecretResolver;
  /** Stored incremental state of a pipeline's node. */
  loadState: (pipelineId: string, nodeId: string) => Promise<unknown>;
  /** Files read and written by connectors live under this directory, and only there. */
  dataDir: string;
  fetch?: typeof fetch;
  log: (nodeId: string) => StepLogger;
  /** How often a running step reports liveness (and so learns of cancellation). */
  heartbeatIntervalMs?: number;
}

export type StepActivityFn = (input: StepActivityInput) => Promise<StepActivityResult>;

export function createActivities(
  registry: readonly NodeTypeDeclaration[],
  deps: ActivityDeps,
): Record<string, StepActivityFn> {
  return Object.fromEntries(
    registry.map((declaration) => [
      declaration.type,
      (input: StepActivityInput) => executeStep(declaration, input, deps),
    ]),
  );
}

async function executeStep(
  declaration: NodeTypeDeclaration,
  input: StepActivityInput,
  deps: ActivityDeps,
): Promise<StepActivityResult> {
  const activity = Context.current();
  const attempt = activity.info.attempt;
  const started = Date.now();
  const label = `Step "${input.nodeId}" (${input.type})`;
  const outputTable = { schema: input.stagingSchema, table: input.nodeId };
  const heartbeatTimer = setInterval(
    () => activity.heartbeat({ nodeId: input.nodeId }),
    deps.heartbeatIntervalMs ?? 2_000, // well inside the 10 s heartbeat timeout (faults suite)
  );
  try {
    const config = declaration.config.safeParse(input.config);
    if (!config.success) {
      const issue = config.error.issues[0]!;
      throw new StepError(`config.${issue.path.join('.')}: ${issue.message}`, 'config');
    }
    // A retried attempt starts from nothing: its own output table from an earlier attempt is dropped.
    await deps.warehouse.query(`drop table if exists ${quoteTable(outputTable)}`);
    const ctx: StepContext = {
      runId: input.runId,
      project: input.project,
      pipelineId: input.pipelineId,
      nodeId: input.nodeId,
      attempt,
      warehouse: deps.warehouse,
      stagingSchema: input.stagingSchema,
      outputTable,
      params: input.params,
      secrets: deps.secrets(input.project),
      resolveDataPath: (relative, field) => resolveInside(deps.dataDir, relative, field),
      loadState: () => deps.loadState(input.pipelineId, input.nodeId),
      fetch: deps.fetch ?? fetch,
      heartbeat: (details) => activity.heartbeat({ nodeId: input.nodeId, ...details }),
      signal: activity.cancellationSignal,
      log: deps.log(input.nodeId),
    };
    const output = await declaration.run(ctx, config.data, input.inputs);
    return {
      table: output.table ?? null,
      stats: { ...output.stats, durationMs: Date.now() - started },
      pendingState: output.pendingState ?? null,
      notes: output.notes ?? [],
      attempt,
    };
  } catch (error) {
    throw toFailure(error, label, { attempt, nodeId: input.nodeId });
  } finally {
    clearInterval(heartbeatTimer);
  }
}

function toFailure(error: unknown, label: string, details: StepFailureDetails): unknown {
  if (error instanceof ApplicationFailure) return error;
  // Cancellation must reach Temporal as it is, not dressed up as a step failure.
  if (error instanceof Error && error.name === 'CancelledFailure') return error;
  const message = isPgError(error)
    ? describePgError(error, (error as { sql?: string }).sql)
    : ((error as Error)?.message ?? String(error));
  return ApplicationFailure.create({
    message: `${label}: ${message}`,
    type:
      error instanceof StepError
        ? `StepError.${error.kind}`
        : isPgError(error)
          ? `Postgres.${error.code}`
          : 'StepFault',
    nonRetryable: !isRetryable(error),
    details: [details],
    ...(error instanceof TransientError && error.retryAfterMs !== undefined
      ? { nextRetryDelay: error.retryAfterMs }
      : {}),
  });
}

/**
 * Resolves a user-given path inside the data dir. `..`, absolute paths elsewhere and symlinks that
 * lead out are refused; a path that does not exist yet (an output file) is checked by its parent.
 */
export async function resolveInside(dataDir: string, relative: string, field: string): Promise<string> {
  const root = await realpath(dataDir).catch(() => {
    throw new StepError(`config.${field}: the data directory ${dataDir} does not exist`, 'config');
  });
  const candidate = path.resolve(root, relative);
  const outside = () =>
    new StepError(
      `config.${field}: "${relative}" is outside the data directory; paths must stay inside it`,
      'config',
    );
  if (candidate !== root && !candidate.startsWith(root + path.sep)) throw outside();
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    const parent = await realpath(path.dirname(candidate)).catch(() => {
      throw new StepError(`config.${field}: "${relative}" does not exist in the data directory`, 'not_found');
    });
    real = path.join(parent, path.basename(candidate));
  }
  if (real !== root && !real.startsWith(root + path.sep)) throw outside();
  return real;
}
