-- Inbound webhooks that start a pipeline's runs. Only a sha256 of each token is stored.
create table tributary.webhooks (
  id text primary key,
  pipeline_id text not null references tributary.pipelines (id) on delete cascade,
  name text,
  token_hash text not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);

create index webhooks_pipeline_idx on tributary.webhooks (pipeline_id);
