// What describing a node gets in the API: the project's warehouse role on the runner connection
// (never the owner's), the project's own files, data products as the platform lists them, and
// the params' declared defaults. No secrets: a node that needs one is not described.
import {
  catalogSchemaOwners,
  defaultSchemaOf,
  projectWarehouse,
  resolveProjectPath,
  type DescribeContext,
} from '@tributary/activities';
import type pg from 'pg';
import type { Pipeline } from '../model/pipeline.schema.js';
import { projectRole } from '../warehouse/roles.js';
import { projectExists, resolveProduct } from '../worker/run-activities.js';

export interface DescribeDeps {
  /** The runner login role's pool: no rights of its own, it switches into the project's role. */
  runnerPool: pg.Pool;
  /** The platform database (projects, data products). */
  platformPool: pg.Pool;
  /** The files directory: each project's files in `<dataDir>/<project>/`. */
  dataDir: string;
}

/** A describe answers while the user types: each statement gives up after this long. */
const DESCRIBE_STATEMENT_TIMEOUT_MS = 5_000;
const DESCRIBE_TIMEOUT_MS = 15_000;

export function describeContextFor(deps: DescribeDeps, pipeline: Pipeline): DescribeContext {
  const project = pipeline.project;
  const params = Object.fromEntries(
    Object.entries(pipeline.params).flatMap(([name, param]) =>
      param.default !== undefined ? [[name, param.default]] : [],
    ),
  );
  return {
    project,
    warehouse: projectWarehouse({
      pool: deps.runnerPool,
      project,
      role: projectRole(project),
      defaultSchema: defaultSchemaOf(project),
      statementTimeoutMs: DESCRIBE_STATEMENT_TIMEOUT_MS,
      owners: catalogSchemaOwners(deps.runnerPool),
      ensureSchema: () => Promise.reject(new Error('describing a node creates no schema')),
    }),
    resolveDataPath: (relative, field) =>
      resolveProjectPath(
        { dataDir: deps.dataDir, isProject: (name) => projectExists(deps.platformPool, name) },
        project,
        relative,
        field,
      ),
    resolveProduct: (id) => resolveProduct(deps.platformPool, id),
    params,
    signal: AbortSignal.timeout(DESCRIBE_TIMEOUT_MS),
  };
}
