-- The document a run of the draft ran. A draft changes with every autosave and is not a version, so
-- without this the editor could not tell which of a draft run's kept outputs still describe the
-- nodes it shows (their columns feed the panels, completion and checks). Kept a week.
create table tributary.draft_run_documents (
  run_id text primary key,
  pipeline_id text not null references tributary.pipelines (id) on delete cascade,
  document jsonb not null,
  created_at timestamptz not null default now()
);
create index draft_run_documents_pipeline on tributary.draft_run_documents (pipeline_id, created_at desc);
