-- The platform's own tables. Pipeline data never lands here: it lives in the warehouse.
create table tributary.projects (
  id text primary key,
  name text not null,
  description text,
  owners jsonb not null default '[]',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

insert into tributary.projects (id, name, description)
values ('default', 'Default', 'The project pipelines land in when none is named');
