-- API tokens. Only a sha256 of each token is stored; the token itself is shown once, at creation.
create table tributary.api_tokens (
  id text primary key,
  name text not null,
  token_hash text not null unique,
  -- `read`, `write`, `run`, `admin`, each optionally `<scope>:<project>`.
  scopes text[] not null,
  -- Projects the unqualified scopes are limited to; null means every project.
  projects text[],
  expires_at timestamptz,
  created_by text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);
