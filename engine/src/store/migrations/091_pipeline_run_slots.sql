-- concurrency "skip" made atomic: the run that holds a pipeline's slot. A start under "skip" takes
-- a transaction-scoped advisory lock on the pipeline, reads the holder, asks Temporal whether that
-- run is still open (describe is strongly consistent, unlike visibility), starts the new run and
-- records it here before the lock is released, so that of any number of simultaneous triggers
-- from any number of API processes exactly one starts.
create table tributary.pipeline_run_slots (
  pipeline_id text primary key,
  run_id text not null,
  claimed_at timestamptz not null default now()
);
