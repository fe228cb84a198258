-- What a pipeline's Temporal Schedule was asked for. Temporal holds the schedule itself (state,
-- next times); this row keeps the user's params so a new pipeline version can be recompiled into it.
create table tributary.pipeline_schedules (
  pipeline_id text primary key references tributary.pipelines (id) on delete cascade,
  cron text not null,
  timezone text not null,
  params jsonb not null default '{}',
  -- The pipeline version compiled into the schedule's action (it lags when a draft does not compile).
  plan_version integer not null,
  updated_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
