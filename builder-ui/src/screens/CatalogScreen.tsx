// The data product catalogue of the whole organisation: search, tags, freshness and owners. Every
// reader may discover products; reading their rows needs a share (see the product page).
import { useId, useState, type FormEvent } from 'react';
import { Api } from '../api/client.ts';
import { useResource } from '../api/use-resource.ts';
import { PublishProductDialog } from '../components/PublishProductDialog.tsx';
import { Empty, ErrorBox, Link, Loading, timeAgo } from '../components/ui.tsx';
import { navigate } from '../router.ts';
import { toast } from '../store/toasts.ts';

interface Filters {
  q: string;
  tag: string;
  stale: '' | 'true' | 'false';
}

export function CatalogScreen() {
  const [draft, setDraft] = useState<Filters>({ q: '', tag: '', stale: '' });
  const [filters, setFilters] = useState<Filters>(draft);
  const ids = { q: useId(), tag: useId(), stale: useId() };
  const [publishing, setPublishing] = useState(false);
  const { data, error, reload } = useResource(
    () =>
      Api.catalog({
        ...(filters.q.trim() ? { q: filters.q.trim() } : {}),
        ...(filters.tag.trim() ? { tag: filters.tag.trim() } : {}),
        ...(filters.stale ? { stale: filters.stale } : {}),
      }).then((r) => r.items),
    [filters],
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setFilters(draft);
  };
  return (
    <main className="screen">
      <header className="screen-header">
        <h1>Data products</h1>
        <span className="spacer" />
        <button type="button" className="primary" onClick={() => setPublishing(true)}>
          Publish a product
        </button>
      </header>
      <p className="muted">
        Tables projects publish for others to build on. Anyone can find them here; a project reads one only
        once its owners have shared it.
      </p>
      {publishing && (
        <PublishProductDialog
          onClose={() => setPublishing(false)}
          onPublished={(id) => {
            setPublishing(false);
            toast('success', `Published ${id}`);
            navigate(`/catalog/${id}`);
          }}
        />
      )}
      <form className="inline-form" aria-label="Search the catalogue" onSubmit={submit}>
        <div className="field">
          <label htmlFor={ids.q}>Search</label>
          <input
            id={ids.q}
            value={draft.q}
            placeholder="orders, revenue…"
            onChange={(e) => setDraft({ ...draft, q: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.tag}>Tag</label>
          <input
            id={ids.tag}
            value={draft.tag}
            onChange={(e) => setDraft({ ...draft, tag: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.stale}>Freshness</label>
          <select
            id={ids.stale}
            value={draft.stale}
            onChange={(e) => setDraft({ ...draft, stale: e.target.value as Filters['stale'] })}
          >
            <option value="">Any</option>
            <option value="false">Fresh</option>
            <option value="true">Stale</option>
          </select>
        </div>
        <button type="submit">Search</button>
      </form>
      {error && <ErrorBox error={error} onRetry={reload} />}
      {!data && !error && <Loading what="the catalogue" />}
      {data && data.length === 0 && (
        <Empty title="No data products yet">
          <button type="button" onClick={() => setPublishing(true)}>
            Publish a table of your project
          </button>
        </Empty>
      )}
      {data && data.length > 0 && (
        <ul className="product-list" aria-label="Data products">
          {data.map((p) => (
            <li key={p.id} className="card product-card">
              <div className="product-card-head">
                <Link to={`/catalog/${p.id}`}>
                  <strong>{p.name}</strong>
                </Link>
                {p.stale === true && (
                  <span className="badge badge-failed" aria-label={`${p.name} is stale`}>
                    stale
                  </span>
                )}
                {p.stale === false && <span className="badge badge-succeeded">fresh</span>}
              </div>
              <p className="muted small">
                <code>
                  {p.table.schema}.{p.table.table}
                </code>{' '}
                · project {p.project}
                {p.owners.length > 0 && <> · owners {p.owners.join(', ')}</>} · published{' '}
                {p.lastPublishedAt ? timeAgo(p.lastPublishedAt) : 'never'}
              </p>
              {p.description && <p>{p.description}</p>}
              {p.tags.length > 0 && (
                <p className="tags">
                  {p.tags.map((t) => (
                    <button
                      key={t}
                      type="button"
                      className="tag"
                      onClick={() => setFilters({ ...filters, tag: t })}
                    >
                      #{t}
                    </button>
                  ))}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </main>
  );
}
