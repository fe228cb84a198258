-- The platform audit log: who changed pipelines, schedules, webhooks, secrets, tokens and projects.
-- Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE, so a row once written stays as it was.
create table tributary.audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  actor text not null,
  -- No foreign key: the record of a project's deletion must outlive the project.
  project text,
  action text not null,
  target text not null,
  summary jsonb not null default '{}'
);

create index audit_log_project_idx on tributary.audit_log (project, id desc);
create index audit_log_actor_idx on tributary.audit_log (actor, id desc);
create index audit_log_action_idx on tributary.audit_log (action, id desc);
create index audit_log_at_idx on tributary.audit_log (at);

create function tributary.audit_log_refuse_change() returns trigger
language plpgsql as $$
begin
  raise exception 'tributary.audit_log is append-only: % is not allowed', tg_op
    using errcode = '42501', hint = 'Audit entries can only be inserted.';
end;
$$;

create trigger audit_log_no_update_or_delete
  before update or delete on tributary.audit_log
  for each row execute function tributary.audit_log_refuse_change();

create trigger audit_log_no_truncate
  before truncate on tributary.audit_log
  for each statement execute function tributary.audit_log_refuse_change();
