-- Project secrets, AES-256-GCM encrypted with the master key; values are never returned by the API.
create table tributary.secrets (
  project_id text not null references tributary.projects (id) on delete cascade,
  name text not null,
  ciphertext bytea not null,
  iv bytea not null,
  auth_tag bytea not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (project_id, name)
);
