// Turns the registry into Temporal activities: one activity per node type, named by its type, so
// that workflow history (and with it the audit trail and telemetry) shows what each step was.
// Everything a step touches comes in through `deps`, so tests hand in real or test dependencies.
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { stepConfig } from './config-schema.js';
import { describePgError, isPgError, isRetryable, StepError, TransientError } from './errors.js';
import type { NodeTypeDeclaration, SecretResolver, StepContext, StepLogger } from './node-type.js';
import type { StepActivityInput, StepActivityResult, StepFailureDetails } from './step-activity.js';
import { fencedFetch, type EgressPolicy } from './egress/egress-fence.js';
import type { PythonRuntimeOptions } from './python/environment.js';
import type { PythonHost } from './python/python-runtime.js';
import type { SandboxMode } from './python/sandbox.js';
import { standbys, type StandbySettings } from './python/standby.js';
import { quoteTable } from './sql.js';
import { projectWarehouse } from './warehouse/project-warehouse.js';
import { catalogSchemaOwners, defaultSchemaOf } from './warehouse/schema-owners.js';

export interface ActivityDeps {
  /** Pool of the runner login role: no rights of its own, it only switches into project roles. */
  warehouse: pg.Pool;
  /** The Postgres role of a project. */
  projectRole: (project: string) => string;
  /** The Postgres role of a project's branch runs: owns branch schemas, reads main's, writes none. */
  branchRole: (project: string) => string;
  /** Creates a schema a project owns, on the provisioning connection (refusing names it does not own). */
  ensureSchema: (project: string, schema: string) => Promise<void>;
  /** Creates the branch schema of `schema` (owned by the project's role) and returns its name. */
  ensureBranchSchema: (project: string, branch: string, schema: string) => Promise<string>;
  /** Secrets of a project; values never leave the activity. */
  secrets: (project: string) => SecretResolver;
  /** Where a data product's table is (the platform's catalogue). */
  resolveProduct: StepContext['resolveProduct'];
  /** Stored incremental state of a pipeline's node (on main, or in a branch). */
  loadState: (pipelineId: string, nodeId: string, branch?: string) => Promise<unknown>;
  /** Files live under this directory: each project's in `<dataDir>/<project>/`, and only there. */
  dataDir: string;
  /** Whether a folder name in the data dir is a project's (closed to the default project's legacy root). */
  isProject: (name: string) => Promise<boolean>;
  /** Which non-public hosts and ranges outbound HTTP may reach. */
  egress: EgressPolicy;
  log: (nodeId: string) => StepLogger;
  /** Every run keeps its staging for previews (TRIBUTARY_KEEP_STAGING): no step consumes an input. */
  keepStagingAlways?: boolean;
  /** Python steps: where environments are cached, the interpreter and index, the sandbox mode. */
  python?: Partial<PythonRuntimeOptions> & {
    sandbox?: SandboxMode;
    /** Warm standbys of transform.python (max over the worker, idle time); unset: the defaults. */
    standbys?: Partial<StandbySettings>;
  };
  /** How often a running step reports liveness (and so learns of cancellation). */
  heartbeatIntervalMs?: number;
  /**
   * Told when an attempt failed and Temporal will try the step again (for "retry" notifications).
   * Not awaited: whatever it does never delays or fails the step.
   */
  attemptFailed?: (failure: AttemptFailure) => Promise<unknown>;
}

/** A step attempt that failed with a fault Temporal retries, while attempts remain. */
export interface AttemptFailure {
  runId: string;
  project: string;
  pipelineId: string;
  nodeId: string;
  type: string;
  attempt: number;
  /** null: no limit. */
  maxAttempts: number | null;
  error: string;
}

export type StepActivityFn = (input: StepActivityInput) => Promise<StepActivityResult>;

/** What a step's statements may run for when its node sets no limit: 15 minutes. */
export const DEFAULT_STATEMENT_TIMEOUT_SECONDS = 900;

export function createActivities(
  registry: readonly NodeTypeDeclaration[],
  deps: ActivityDeps,
): Record<string, StepActivityFn> {
  const fetch = fencedFetch(deps.egress);
  const python = pythonHost(deps);
  return Object.fromEntries(
    registry.map((declaration) => [
      declaration.type,
      (input: StepActivityInput) => executeStep(declaration, input, deps, fetch, python),
    ]),
  );
}

/** Python steps' settings, defaulting to `.tributary/python` of the working directory, PyPI and bwrap. */
export function pythonHost(deps: Pick<ActivityDeps, 'python' | 'egress'>): PythonHost {
  const { sandbox, standbys: settings, ...options } = deps.python ?? {};
  if (settings) standbys.configure(settings);
  return {
    options: {
      home: options.home ?? path.resolve('.tributary', 'python'),
      python: options.python ?? 'python3',
      ...(options.indexUrl ? { indexUrl: options.indexUrl } : {}),
      ...(options.uv ? { uv: options.uv } : {}),
    },
    sandbox: sandbox ?? 'bwrap',
    egress: deps.egress,
    standbys,
  };
}

async function executeStep(
  declaration: NodeTypeDeclaration,
  input: StepActivityInput,
  deps: ActivityDeps,
  fetch: typeof globalThis.fetch,
  python: PythonHost,
): Promise<StepActivityResult> {
  const activity = Context.current();
  const attempt = activity.info.attempt;
  const started = Date.now();
  const label = `Step "${input.nodeId}" (${input.type})`;
  const outputTable = { schema: input.stagingSchema, table: input.nodeId };
  // The timer repeats the step's last reported progress, so liveness beats never erase it.
  let progress: Record<string, unknown> = { nodeId: input.nodeId };
  const heartbeatTimer = setInterval(
    () => activity.heartbeat(progress),
    deps.heartbeatIntervalMs ?? 2_000, // well inside the 10 s heartbeat timeout (faults suite)
  );
  try {
    // Compile parsed the config and the plan carries it parsed: it is parsed again only when the
    // plan was compiled by another schema than this worker's (or before plans said which).
    const config = stepConfig(declaration.config, input.config, input.configSchema);
    if (!config.success) {
      const issue = config.issues[0]!;
      throw new StepError(`config.${issue.path.join('.')}: ${issue.message}`, 'config');
    }
    const { branch } = input;
    // A branch must not reach what main publishes outside the warehouse (another database, a URL).
    const refusal = branch ? declaration.outsideBranch?.(config.data) : undefined;
    if (refusal) throw new StepError(`in branch "${branch}", ${refusal}`, 'config');
    const warehouse = projectWarehouse({
      pool: deps.warehouse,
      project: input.project,
      // A branch run's steps run as the branch role: the database refuses their writes to main.
      role: branch ? deps.branchRole(input.project) : deps.projectRole(input.project),
      defaultSchema: defaultSchemaOf(input.project),
      statementTimeoutMs: (input.statementTimeoutSeconds ?? DEFAULT_STATEMENT_TIMEOUT_SECONDS) * 1000,
      owners: catalogSchemaOwners(deps.warehouse),
      ensureSchema: (schema) => deps.ensureSchema(input.project, schema),
      ...(branch
        ? {
            branch: {
              name: branch,
              ensureSchema: (schema: string) => deps.ensureBranchSchema(input.project, branch, schema),
            },
          }
        : {}),
    });
    // A retried attempt starts from nothing: its own output table from an earlier attempt is dropped.
    await warehouse.query(`drop table if exists ${quoteTable(outputTable)}`);
    const ctx: StepContext = {
      runId: input.runId,
      project: input.project,
      pipelineId: input.pipelineId,
      nodeId: input.nodeId,
      attempt,
      warehouse,
      stagingSchema: input.stagingSchema,
      outputTable,
      mayConsume: (name) => !deps.keepStagingAlways && (input.exclusiveInputs ?? []).includes(name),
      knownRows: (name) =>
        (input.exclusiveInputs ?? []).includes(name) ? input.inputRows?.[name] : undefined,
      params: input.params,
      secrets: deps.secrets(input.project),
      resolveDataPath: (relative, field) => resolveProjectPath(deps, input.project, relative, field),
      // A branch writes only inside its own folder: the path is resolved against that folder as root.
      resolveOutputPath: (relative, field) =>
        branch
          ? resolveBranchPath(deps, input.project, branch, relative, field)
          : resolveProjectPath(deps, input.project, relative, field),
      loadState: () => deps.loadState(input.pipelineId, input.nodeId, branch),
      upstream: input.upstream ?? {},
      resolveProduct: deps.resolveProduct,
      fetch,
      egress: deps.egress,
      python,
      heartbeat: (details) => {
        progress = { nodeId: input.nodeId, ...details };
        activity.heartbeat(progress);
      },
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
      ...(output.tableRows !== undefined ? { tableRows: output.tableRows } : {}),
      ...(output.facts ? { facts: output.facts } : {}),
      ...(output.decision ? { decision: output.decision } : {}),
    };
  } catch (error) {
    const failure = toFailure(error, label, { attempt, nodeId: input.nodeId });
    const max = activity.info.retryPolicy?.maximumAttempts || null;
    if (
      deps.attemptFailed &&
      failure instanceof ApplicationFailure &&
      !failure.nonRetryable &&
      (max === null || attempt < max)
    ) {
      deps
        .attemptFailed({
          runId: input.runId,
          project: input.project,
          pipelineId: input.pipelineId,
          nodeId: input.nodeId,
          type: input.type,
          attempt,
          maxAttempts: max,
          error: failure.message,
        })
        .catch(() => {});
    }
    throw failure;
  } finally {
    clearInterval(heartbeatTimer);
  }
}

export function toFailure(error: unknown, label: string, details: StepFailureDetails): unknown {
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
    details: [error instanceof StepError && error.facts ? { ...details, facts: error.facts } : details],
    ...(error instanceof TransientError && error.retryAfterMs !== undefined
      ? { nextRetryDelay: error.retryAfterMs }
      : {}),
  });
}

/**
 * Resolves a project's file path: inside `<dataDir>/<project>/`. The default project also keeps the
 * data dir itself (where files lived before projects had folders), minus other projects' folders.
 */
export async function resolveProjectPath(
  deps: Pick<ActivityDeps, 'dataDir' | 'isProject'>,
  project: string,
  relative: string,
  field: string,
): Promise<string> {
  if (project !== 'default') {
    const root = path.join(deps.dataDir, project);
    await mkdir(root, { recursive: true });
    return resolveInside(root, relative, field);
  }
  const resolved = await resolveInside(deps.dataDir, relative, field);
  const root = await realpath(deps.dataDir);
  const [first] = path.relative(root, resolved).split(path.sep);
  if (first && first !== 'default' && (await deps.isProject(first))) {
    throw new StepError(
      `config.${field}: "${relative}" is in the files of project ${first}; the default project cannot reach them`,
      'config',
    );
  }
  return resolved;
}

/**
 * Resolves a path a branch writes: inside `branches/<branch>/` of the project's files, that folder
 * being the root the resolved path is checked against (so `../..` cannot climb back into main's).
 */
export async function resolveBranchPath(
  deps: Pick<ActivityDeps, 'dataDir'>,
  project: string,
  branch: string,
  relative: string,
  field: string,
): Promise<string> {
  const root = path.join(deps.dataDir, ...(project === 'default' ? [] : [project]), 'branches', branch);
  await mkdir(root, { recursive: true });
  return resolveInside(root, relative, field, `the files of branch "${branch}"`);
}

/**
 * Resolves a user-given path inside the data dir. `..`, absolute paths elsewhere and symlinks that
 * lead out are refused; a path that does not exist yet (an output file) is checked by its parent.
 */
export async function resolveInside(
  dataDir: string,
  relative: string,
  field: string,
  rootName = 'the data directory',
): Promise<string> {
  const root = await realpath(dataDir).catch(() => {
    throw new StepError(`config.${field}: the data directory ${dataDir} does not exist`, 'config');
  });
  const candidate = path.resolve(root, relative);
  const outside = () =>
    new StepError(
      `config.${field}: "${relative}" is outside ${rootName}; paths must stay inside it`,
      'config',
    );
  if (candidate !== root && !candidate.startsWith(root + path.sep)) throw outside();
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    const parent = await realpath(path.dirname(candidate)).catch(() => {
      throw new StepError(`config.${field}: "${relative}" does not exist in ${rootName}`, 'not_found');
    });
    real = path.join(parent, path.basename(candidate));
  }
  if (real !== root && !real.startsWith(root + path.sep)) throw outside();
  return real;
}
