-- Notifications: a project's default rules, and the outbox every notification goes through. A row
-- is one event for one channel; its dedupe key makes enqueueing it twice (a retried activity, two
-- rules naming one channel) leave one row, so it is delivered once. Rows stay as the delivery record.
create table tributary.project_notifications (
  project_id text primary key references tributary.projects (id) on delete cascade,
  rules jsonb not null default '[]',
  updated_by text not null,
  updated_at timestamptz not null default now()
);

create table tributary.notification_outbox (
  id bigserial primary key,
  project_id text not null,
  pipeline_id text,
  run_id text,
  product_id text,
  event text not null,
  dedupe_key text not null unique,
  -- The channel as configured: secret names only, never values.
  channel jsonb not null,
  message jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  attempts integer not null default 0,
  max_attempts integer not null,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);

create index notification_outbox_due_idx on tributary.notification_outbox (next_attempt_at)
  where status = 'pending';
create index notification_outbox_run_idx on tributary.notification_outbox (run_id);
create index notification_outbox_project_idx on tributary.notification_outbox (project_id, id desc);
