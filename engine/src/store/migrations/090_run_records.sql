-- Run records: a closed run's summary, detail, audit trail and usage facts, written once when it
-- closes, so that a run outlives its Temporal history (which the namespace's retention deletes).
-- Append-only like the audit log: UPDATE and TRUNCATE are always refused; DELETE only of records
-- older than Tributary's own retention (TRIBUTARY_RUN_RETENTION_DAYS, kept in run_record_policy).
-- `json`, not `jsonb`: a record is served as it was written, byte for byte (jsonb reorders keys).
create table tributary.run_records (
  run_id text primary key,
  -- Temporal's id of the execution (a UUID), which OpenLineage events name the run by.
  execution_run_id text not null,
  task_queue text not null,
  project text not null,
  pipeline_id text not null,
  trigger text not null,
  status text not null,
  started_at timestamptz not null,
  ended_at timestamptz not null,
  recorded_at timestamptz not null default clock_timestamp(),
  summary json not null,
  detail json not null,
  audit json not null,
  usage json not null
);

create index run_records_started_idx on tributary.run_records (started_at desc);
create index run_records_project_idx on tributary.run_records (project, started_at desc);
create index run_records_pipeline_idx on tributary.run_records (pipeline_id, started_at desc);
create index run_records_recorded_idx on tributary.run_records (recorded_at);
create index run_records_ended_idx on tributary.run_records (ended_at);

-- One row: how long records are kept (null: forever). Written at every start from the env.
create table tributary.run_record_policy (
  id boolean primary key default true check (id),
  retention_days integer check (retention_days > 0)
);
insert into tributary.run_record_policy (id, retention_days) values (true, null);

-- Where the recorder's catch-up got to: runs closed before (watermark - overlap) are recorded.
create table tributary.run_record_state (
  task_queue text primary key,
  watermark timestamptz
);

create function tributary.run_records_refuse_change() returns trigger
language plpgsql as $$
declare
  days integer;
begin
  if tg_op = 'DELETE' then
    select retention_days into days from tributary.run_record_policy where id;
    if days is not null and old.ended_at < now() - make_interval(days => days) then
      return old;
    end if;
  end if;
  raise exception 'tributary.run_records is append-only: % is not allowed', tg_op
    using errcode = '42501',
      hint = 'Run records can only be inserted; they are deleted only past TRIBUTARY_RUN_RETENTION_DAYS.';
end;
$$;

create trigger run_records_no_update_or_delete
  before update or delete on tributary.run_records
  for each row execute function tributary.run_records_refuse_change();

create trigger run_records_no_truncate
  before truncate on tributary.run_records
  for each statement execute function tributary.run_records_refuse_change();

revoke update, delete, truncate on tributary.run_records from public;
