-- The template a pipeline was made from: which template and version, the values given, and the
-- document the template produced (to tell an edited pipeline from an untouched one on upgrade).
create table tributary.pipeline_templates (
  pipeline_id text primary key references tributary.pipelines (id) on delete cascade,
  template text not null,
  template_version text not null,
  template_values jsonb not null,
  -- The document as the template made it; a current version that differs was edited since.
  document jsonb not null,
  -- The pipeline version the template made (on instantiation, or on the last upgrade).
  pipeline_version integer not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index pipeline_templates_template_idx on tributary.pipeline_templates (template, template_version);
