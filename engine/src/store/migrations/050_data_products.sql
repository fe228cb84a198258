-- Data products: tables a project publishes for others to discover, and the projects each is shared
-- with (the grant itself lives in the warehouse; this is the record of it).
create table tributary.data_products (
  id text primary key,
  project_id text not null references tributary.projects (id),
  table_schema text not null,
  table_name text not null,
  name text not null,
  description text,
  owners jsonb not null default '[]',
  tags text[] not null default '{}',
  columns jsonb not null default '{}',
  max_age_hours double precision,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (table_schema, table_name)
);

create table tributary.data_product_shares (
  product_id text not null references tributary.data_products (id) on delete cascade,
  project_id text not null references tributary.projects (id),
  granted_by text not null,
  granted_at timestamptz not null default now(),
  primary key (product_id, project_id)
);
