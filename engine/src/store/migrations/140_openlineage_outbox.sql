-- OpenLineage events waiting for (or sent to) the collector at TRIBUTARY_OPENLINEAGE_URL. A run never
-- waits on the collector: the publisher writes a run's events here once (one row per run and event
-- type), then sends the unsent rows in id order, stopping at the first the collector refuses, so a
-- collector that was down gets them later, in order, once each.
create table tributary.openlineage_outbox (
  id bigserial primary key,
  run_id text not null,
  event_type text not null,
  event jsonb not null,
  enqueued_at timestamptz not null default now(),
  sent_at timestamptz,
  attempts integer not null default 0,
  last_error text,
  unique (run_id, event_type)
);

create index openlineage_outbox_unsent_idx on tributary.openlineage_outbox (id) where sent_at is null;

-- Runs started or closed since this instant (less an overlap) are looked at by the next pass.
create table tributary.openlineage_state (
  id boolean primary key default true check (id),
  watermark timestamptz not null
);
