// A project is a domain in the warehouse: its id decides which schemas its role owns (its own name,
// `<id>_…`, plus those its settings list). These rules keep two projects from claiming one schema.
import { ConflictError } from '../errors.js';
import { projectMayCreateSchema, projectSchemaName } from '@tributary/activities';
import type pg from 'pg';
import type { Project, ProjectStore } from '../store/projects.store.js';
import { provisionProject, WarehouseSetupError } from '../warehouse/provision.js';

/** Names that belong to the platform or to Postgres: no project may be called so or claim them. */
const RESERVED_NAME = /^(tributary|tributary_.*|tr_run_.*|pg_.*|information_schema|public)$/;

const conflict = (detail: string, field: string) =>
  new ConflictError(detail, [{ path: field, message: detail }]);

/** Refuses an id that is reserved or whose schemas would overlap another project's. */
export function checkProjectId(id: string, existing: readonly Project[]): void {
  const own = projectSchemaName(id);
  if (RESERVED_NAME.test(own)) {
    throw conflict(`"${id}" is reserved for the platform's own schemas; choose another project id`, 'id');
  }
  for (const other of existing) {
    if (other.id === id) continue; // the store answers "already exists"
    const theirs = projectSchemaName(other.id);
    if (own === theirs || own.startsWith(`${theirs}_`) || theirs.startsWith(`${own}_`)) {
      throw conflict(
        `project "${id}" would share schema names with project "${other.id}" (a project owns the schemas named ` +
          'like its id, "-" read as "_", and those starting with that name and "_"); choose another id',
        'id',
      );
    }
  }
}

/** Refuses listed schemas that are reserved or that another project's naming rule gives to it. */
export function checkProjectSchemas(
  project: string,
  schemas: readonly string[],
  existing: readonly Project[],
): void {
  for (const [i, schema] of schemas.entries()) {
    if (RESERVED_NAME.test(schema)) {
      throw conflict(`schema "${schema}" belongs to the platform`, `schemas.${i}`);
    }
    const claimant = existing.find(
      (other) => other.id !== project && projectMayCreateSchema(other.id, schema),
    );
    if (claimant) {
      throw conflict(`schema "${schema}" is project "${claimant.id}"'s by its name`, `schemas.${i}`);
    }
  }
}

/** Creates or updates the project's role and schemas in the warehouse. */
export async function provisionDomain(warehouse: pg.Pool, project: Project): Promise<void> {
  try {
    await provisionProject(warehouse, project.id, project.schemas);
  } catch (error) {
    if (error instanceof WarehouseSetupError) throw conflict(error.message, 'schemas');
    throw error;
  }
}

/** Creates a project and its domain in the warehouse. */
export async function createProject(
  store: ProjectStore,
  warehouse: pg.Pool,
  input: Parameters<ProjectStore['create']>[0],
): Promise<Project> {
  const existing = await store.list(null);
  checkProjectId(input.id, existing);
  checkProjectSchemas(input.id, input.schemas ?? [], existing);
  const project = await store.create(input);
  await provisionDomain(warehouse, project);
  return project;
}

/** Changes a project; a change of its schemas is applied to the warehouse at once. */
export async function updateProject(
  store: ProjectStore,
  warehouse: pg.Pool,
  id: string,
  patch: Parameters<ProjectStore['update']>[1],
): Promise<Project> {
  if (patch.schemas) checkProjectSchemas(id, patch.schemas, await store.list(null));
  const project = await store.update(id, patch);
  if (patch.schemas) await provisionDomain(warehouse, project);
  return project;
}
