-- Incremental state per pipeline node (e.g. the last cursor value). Written only when a run
-- succeeds, so a failed or overlapping run never moves it.
create table tributary.node_state (
  pipeline_id text not null,
  node_id text not null,
  state jsonb not null,
  run_id text not null,
  updated_at timestamptz not null default now(),
  primary key (pipeline_id, node_id)
);
