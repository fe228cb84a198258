// The platform audit log, newest first: who changed which pipeline, schedule, webhook, secret, token or
// project, filtered by project, actor and action.
import { useId, useState, type FormEvent } from 'react';
import { Api } from '../api/client.ts';
import { usePagedResource } from '../api/use-resource.ts';
import { Empty, ErrorBox, Loading, timeAgo } from '../components/ui.tsx';
import { compactJson } from '../model/usage.ts';
import type { Query } from '../api/types.ts';

interface Filters {
  project: string;
  actor: string;
  action: string;
}

const NONE: Filters = { project: '', actor: '', action: '' };

export function AuditScreen() {
  // The inputs edit a draft; the log is only asked again on submit, so typing does not fire a
  // request (and a 400 for a half-typed action name) per keystroke.
  const [draft, setDraft] = useState<Filters>(NONE);
  const [filters, setFilters] = useState<Filters>(NONE);
  const ids = { project: useId(), actor: useId(), action: useId() };

  const {
    items: entries,
    error,
    reload: load,
    hasMore,
    loadingMore,
    more,
  } = usePagedResource(
    (after?: string) =>
      Api.auditLog({
        project: filters.project.trim() || undefined,
        actor: filters.actor.trim() || undefined,
        // The server names the actions it knows in its 400 when the filter is not one of them.
        action: (filters.action.trim() || undefined) as Query<'listAuditLog'>['action'],
        cursor: after,
      }),
    [filters],
  );

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
  };
  const field = (name: keyof Filters, label: string, placeholder: string) => (
    <div className="field">
      <label htmlFor={ids[name]}>{label}</label>
      <input
        id={ids[name]}
        value={draft[name]}
        placeholder={placeholder}
        onChange={(e) => setDraft((d) => ({ ...d, [name]: e.target.value }))}
      />
    </div>
  );

  return (
    <main className="screen" aria-labelledby="audit-title">
      <header className="screen-header">
        <h1 id="audit-title">Audit</h1>
        <span className="spacer" />
        <button type="button" onClick={load}>
          Refresh
        </button>
      </header>
      <form className="filters" aria-label="Audit filters" onSubmit={apply}>
        {field('project', 'Project', 'default')}
        {field('actor', 'Actor', 'token:admin')}
        {field('action', 'Action', 'pipeline.created')}
        <button type="submit">Apply filters</button>
      </form>
      {error && <ErrorBox error={error} onRetry={load} />}
      {!entries && !error && <Loading what="the audit log" />}
      {entries && entries.length === 0 && (
        <Empty title="No audit entries match">
          <p>Changes to pipelines, schedules, webhooks, secrets, tokens and projects appear here.</p>
        </Empty>
      )}
      {entries && entries.length > 0 && (
        <table className="list-table" aria-label="Platform audit log">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Project</th>
              <th>Action</th>
              <th>Target</th>
              <th>Summary</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id}>
                <td title={e.at}>{timeAgo(e.at)}</td>
                <td>{e.actor}</td>
                <td>{e.project ?? <span className="muted">—</span>}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.target}</td>
                <td title={JSON.stringify(e.summary)}>
                  <code>{compactJson(e.summary)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hasMore && entries && (
        <button type="button" disabled={loadingMore} onClick={more}>
          {loadingMore ? 'Loading…' : 'Load more'}
        </button>
      )}
    </main>
  );
}
