// Data products in the platform database: what a project publishes (a table of its own, described)
// and the projects it is shared with. The warehouse grant is made beside the record (product-service).
import type pg from 'pg';
import { ConflictError, isUniqueViolation, NotFoundError } from '../store/errors.js';

export interface DataProduct {
  id: string;
  project: string;
  table: { schema: string; table: string };
  name: string;
  description: string | null;
  owners: string[];
  tags: string[];
  /** Descriptions of columns, by name. */
  columns: Record<string, string>;
  freshness: { maxAgeHours: number } | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface ProductShare {
  project: string;
  grantedBy: string;
  grantedAt: string;
}

interface ProductRow {
  id: string;
  project_id: string;
  table_schema: string;
  table_name: string;
  name: string;
  description: string | null;
  owners: string[];
  tags: string[];
  columns: Record<string, string>;
  max_age_hours: number | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const toProduct = (r: ProductRow): DataProduct => ({
  id: r.id,
  project: r.project_id,
  table: { schema: r.table_schema, table: r.table_name },
  name: r.name,
  description: r.description,
  owners: r.owners,
  tags: r.tags,
  columns: r.columns,
  freshness: r.max_age_hours === null ? null : { maxAgeHours: r.max_age_hours },
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export type NewProduct = Omit<DataProduct, 'createdAt' | 'updatedAt'>;

export class ProductStore {
  constructor(private readonly pool: pg.Pool) {}

  async create(product: NewProduct): Promise<DataProduct> {
    try {
      const { rows } = await this.pool.query<ProductRow>(
        `insert into tributary.data_products
           (id, project_id, table_schema, table_name, name, description, owners, tags, columns, max_age_hours, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning *`,
        [
          product.id,
          product.project,
          product.table.schema,
          product.table.table,
          product.name,
          product.description,
          JSON.stringify(product.owners),
          product.tags,
          JSON.stringify(product.columns),
          product.freshness?.maxAgeHours ?? null,
          product.createdBy,
        ],
      );
      return toProduct(rows[0]!);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(
          `A data product "${product.id}" or one of table ${product.table.schema}.${product.table.table} already exists`,
        );
      }
      throw error;
    }
  }

  async get(id: string): Promise<DataProduct | undefined> {
    const { rows } = await this.pool.query<ProductRow>(
      'select * from tributary.data_products where id = $1',
      [id],
    );
    return rows[0] && toProduct(rows[0]);
  }

  async require(id: string): Promise<DataProduct> {
    const product = await this.get(id);
    if (!product) throw new NotFoundError(`Data product "${id}" does not exist`);
    return product;
  }

  /** The whole organisation's products, filtered; discovery is open to any reader. */
  async list(filter: { q?: string; tag?: string; project?: string }): Promise<DataProduct[]> {
    const { rows } = await this.pool.query<ProductRow>(
      `select * from tributary.data_products
        where ($1::text is null or id ilike $1 or name ilike $1 or coalesce(description, '') ilike $1
               or (table_schema || '.' || table_name) ilike $1)
          and ($2::text is null or $2 = any(tags))
          and ($3::text is null or project_id = $3)
        order by id`,
      [
        filter.q ? `%${filter.q.replace(/[\\%_]/g, '\\$&')}%` : null,
        filter.tag ?? null,
        filter.project ?? null,
      ],
    );
    return rows.map(toProduct);
  }

  /** The products a project's pipelines may read: its own and those shared with it. */
  async readableBy(project: string): Promise<DataProduct[]> {
    const { rows } = await this.pool.query<ProductRow>(
      `select * from tributary.data_products p
        where p.project_id = $1
           or exists (select 1 from tributary.data_product_shares s where s.product_id = p.id and s.project_id = $1)
        order by p.id`,
      [project],
    );
    return rows.map(toProduct);
  }

  async shares(id: string): Promise<ProductShare[]> {
    const { rows } = await this.pool.query<{ project_id: string; granted_by: string; granted_at: Date }>(
      'select project_id, granted_by, granted_at from tributary.data_product_shares where product_id = $1 order by project_id',
      [id],
    );
    return rows.map((r) => ({
      project: r.project_id,
      grantedBy: r.granted_by,
      grantedAt: r.granted_at.toISOString(),
    }));
  }

  /** Products of one schema shared with a project (to know when its schema grant can go too). */
  async sharedInSchema(schema: string, project: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `select p.id from tributary.data_products p join tributary.data_product_shares s on s.product_id = p.id
        where p.table_schema = $1 and s.project_id = $2`,
      [schema, project],
    );
    return rows.map((r) => r.id);
  }

  async addShare(id: string, project: string, actor: string): Promise<void> {
    await this.pool.query(
      `insert into tributary.data_product_shares (product_id, project_id, granted_by) values ($1, $2, $3)
       on conflict (product_id, project_id) do nothing`,
      [id, project, actor],
    );
  }

  async removeShare(id: string, project: string): Promise<boolean> {
    const result = await this.pool.query(
      'delete from tributary.data_product_shares where product_id = $1 and project_id = $2',
      [id, project],
    );
    return (result.rowCount ?? 0) > 0;
  }
}
