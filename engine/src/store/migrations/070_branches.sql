-- Development branches: a copy-on-write space of a project's pipelines (and, in the warehouse, of
-- its data: `<schema>__<branch>` schemas). A branch row records, per pipeline, the main version it
-- was made from; the document stays null until the pipeline is first saved in the branch.
create table tributary.branches (
  project_id text not null references tributary.projects (id),
  name text not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (project_id, name)
);

create table tributary.branch_pipelines (
  project_id text not null,
  branch text not null,
  -- No foreign key: a pipeline created in a branch exists on main only once merged.
  pipeline_id text not null,
  -- The main version the branch copied; null for a pipeline created in the branch.
  base_version integer,
  -- The branch's own copy; null while it is still main's base version.
  document jsonb,
  -- Counts saves in the branch on top of the base version (the branch's ETag for If-Match).
  revision integer not null,
  updated_by text not null,
  updated_at timestamptz not null default now(),
  primary key (project_id, branch, pipeline_id),
  foreign key (project_id, branch) references tributary.branches (project_id, name) on delete cascade
);

-- Incremental state is per branch: '' is main.
alter table tributary.node_state add column branch text not null default '';
alter table tributary.node_state drop constraint node_state_pkey;
alter table tributary.node_state add primary key (pipeline_id, node_id, branch);
