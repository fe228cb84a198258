-- What a publisher said about a version ("fix the totals"), shown beside it in the builder's History,
-- as n8n shows its versions' notes. Null for versions saved without one (every version before this).
alter table tributary.pipeline_versions add column message text;
