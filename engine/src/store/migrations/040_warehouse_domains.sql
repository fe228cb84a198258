-- Domains in the warehouse: a project may own schemas beyond its own name, and a secret may be
-- bound to the hosts it may be sent to.
alter table tributary.projects add column schemas text[] not null default '{}';
alter table tributary.secrets add column allowed_hosts text[];
