// Projects: the unit pipelines, secrets and token limits belong to.
import type pg from 'pg';
import { ConflictError, isUniqueViolation, NotFoundError } from './errors.js';

export interface Project {
  id: string;
  name: string;
  description: string | null;
  owners: string[];
  /** Warehouse schemas the project owns beyond its own name and `<id>_…`. */
  schemas: string[];
  createdAt: string;
  updatedAt: string;
}

interface ProjectRow {
  id: string;
  name: string;
  description: string | null;
  owners: string[];
  schemas: string[];
  created_at: Date;
  updated_at: Date;
}

const toProject = (r: ProjectRow): Project => ({
  id: r.id,
  name: r.name,
  description: r.description,
  owners: r.owners,
  schemas: r.schemas,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export class ProjectStore {
  constructor(private readonly pool: pg.Pool) {}

  /** All projects, or only those named (a token limited to some projects sees only those). */
  async list(only: string[] | null): Promise<Project[]> {
    const result = await this.pool.query<ProjectRow>(
      'select * from tributary.projects where ($1::text[] is null or id = any($1)) order by id',
      [only],
    );
    return result.rows.map(toProject);
  }

  async get(id: string): Promise<Project | undefined> {
    const result = await this.pool.query<ProjectRow>('select * from tributary.projects where id = $1', [id]);
    return result.rows[0] && toProject(result.rows[0]);
  }

  async require(id: string): Promise<Project> {
    const project = await this.get(id);
    if (!project) throw new NotFoundError(`Project "${id}" does not exist`);
    return project;
  }

  async create(input: {
    id: string;
    name: string;
    description?: string;
    owners?: string[];
    schemas?: string[];
  }): Promise<Project> {
    try {
      const result = await this.pool.query<ProjectRow>(
        `insert into tributary.projects (id, name, description, owners, schemas) values ($1, $2, $3, $4, $5) returning *`,
        [
          input.id,
          input.name,
          input.description ?? null,
          JSON.stringify(input.owners ?? []),
          input.schemas ?? [],
        ],
      );
      return toProject(result.rows[0]!);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`Project "${input.id}" already exists`);
      throw error;
    }
  }

  async update(
    id: string,
    patch: { name?: string; description?: string | null; owners?: string[]; schemas?: string[] },
  ): Promise<Project> {
    const result = await this.pool.query<ProjectRow>(
      `update tributary.projects
          set name = coalesce($2, name),
              description = case when $3::boolean then $4 else description end,
              owners = coalesce($5::jsonb, owners),
              schemas = coalesce($6::text[], schemas),
              updated_at = now()
        where id = $1
        returning *`,
      [
        id,
        patch.name ?? null,
        patch.description !== undefined,
        patch.description ?? null,
        patch.owners ? JSON.stringify(patch.owners) : null,
        patch.schemas ?? null,
      ],
    );
    if (!result.rows[0]) throw new NotFoundError(`Project "${id}" does not exist`);
    return toProject(result.rows[0]);
  }
}
