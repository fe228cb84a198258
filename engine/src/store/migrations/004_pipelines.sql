-- Pipelines and their versions. A save adds a version row; a trigger refuses any rewrite of one,
-- so a run's pipeline version always names the document it ran.
create table tributary.pipelines (
  id text primary key,
  project_id text not null references tributary.projects (id),
  name text not null,
  current_version integer not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);

create index pipelines_project_idx on tributary.pipelines (project_id, id) where deleted_at is null;

create table tributary.pipeline_versions (
  pipeline_id text not null references tributary.pipelines (id) on delete cascade,
  version integer not null check (version >= 1),
  document jsonb not null,
  version_hash text not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (pipeline_id, version)
);

create function tributary.refuse_version_update() returns trigger language plpgsql as $$
begin
  raise exception 'pipeline versions are immutable (pipeline %, version %)', old.pipeline_id, old.version;
end
$$;

create trigger pipeline_versions_immutable before update on tributary.pipeline_versions
  for each row execute function tributary.refuse_version_update();
