-- The connection specifications of Python connectors (source.airbyte, source.singer), by package
-- and pinned version: a spec never changes for a version, so the builder's form is read from here
-- once a worker has built the environment and run `spec` (or `--about`) for it.
create table if not exists tributary.connector_specs (
  type text not null,
  package text not null,
  spec jsonb not null,
  created_at timestamptz not null default now(),
  primary key (type, package)
);
