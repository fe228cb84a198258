-- The editor's working copy of a pipeline: one draft per pipeline, autosaved, never a version.
-- Publishing turns it into the next immutable version and removes it; runs of a schedule, a
-- webhook or the API never read it. A (soft) delete of the pipeline removes its draft.
create table tributary.pipeline_drafts (
  pipeline_id text primary key references tributary.pipelines (id) on delete cascade,
  document jsonb not null,
  -- The version the draft was started from: the editor can tell that someone published since.
  base_version integer not null check (base_version >= 1),
  updated_by text not null,
  updated_at timestamptz not null default now()
);
