-- A deployment's identity: created once, at the first start, in its platform database. Its API and
-- workers claim their Temporal namespace + task queue with it (deployment/deployment.ts), so a
-- second deployment pointed at the same queue is refused instead of running the first one's tasks.
create table tributary.deployment (
  id boolean primary key default true check (id),
  deployment_id text not null,
  created_at timestamptz not null default now()
);
