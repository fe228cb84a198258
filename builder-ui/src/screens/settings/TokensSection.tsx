// API tokens: created and shown once, listed without the token, revoked.
import { useId, useState } from 'react';
import { useResource } from '../../api/use-resource.ts';
import { Api, ApiError, messageOf } from '../../api/client.ts';
import { ErrorBox, Loading, timeAgo } from '../../components/ui.tsx';
import { toast } from '../../store/toasts.ts';

export function TokensSection() {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const [projects, setProjects] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const ids = { name: useId(), projects: useId(), created: useId() };
  const {
    data: tokens,
    error,
    reload: load,
  } = useResource(
    () => Api.tokens().then((r) => r.items),
    [],
    (e) =>
      e instanceof ApiError && e.status === 403 ? 'Only an admin token can manage API tokens.' : messageOf(e),
  );
  const create = async () => {
    try {
      const list = projects
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const token = await Api.createToken({
        name: name.trim(),
        scopes,
        ...(list.length ? { projects: list } : {}),
      });
      setCreated(token.token);
      setName('');
      load();
    } catch (e) {
      toast('error', messageOf(e));
    }
  };
  return (
    <section className="card" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      {error && <ErrorBox error={error} />}
      {!tokens && !error && <Loading what="tokens" />}
      {tokens && (
        <table className="list-table compact" aria-label="API tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Scopes</th>
              <th>Projects</th>
              <th>Created</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id}>
                <td>
                  {t.name} <span className="muted small">{t.id}</span>
                </td>
                <td>{t.scopes.join(', ')}</td>
                <td>{t.projects ? t.projects.join(', ') : 'all'}</td>
                <td>{timeAgo(t.createdAt)}</td>
                <td>{timeAgo(t.lastUsedAt)}</td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Revoke token ${t.name}`}
                    onClick={() => {
                      if (!window.confirm(`Revoke token ${t.name}? Anything using it stops working.`)) return;
                      Api.deleteToken(t.id)
                        .then(load)
                        .catch((e: unknown) => toast('error', messageOf(e)));
                    }}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {created && (
        <div className="banner" role="alert">
          <label htmlFor={ids.created}>New token — copy it now, it is not shown again:</label>
          <input id={ids.created} readOnly value={created} onFocus={(e) => e.target.select()} />
          <button
            type="button"
            onClick={() => void navigator.clipboard?.writeText(created).then(() => toast('info', 'Copied'))}
          >
            Copy
          </button>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {!error && (
        <form
          className="inline-form"
          aria-label="Create a token"
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <div className="field">
            <label htmlFor={ids.name}>Token name</label>
            <input
              id={ids.name}
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder="ci-deploy"
            />
          </div>
          <fieldset className="scopes">
            <legend>Scopes</legend>
            {['read', 'write', 'run', 'admin'].map((s) => (
              <label key={s}>
                <input
                  type="checkbox"
                  checked={scopes.includes(s)}
                  onChange={(e) =>
                    setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))
                  }
                />{' '}
                {s}
              </label>
            ))}
          </fieldset>
          <div className="field">
            <label htmlFor={ids.projects}>Limit to projects</label>
            <input
              id={ids.projects}
              value={projects}
              onChange={(e) => setProjects(e.target.value)}
              placeholder="all (or: sales, ops)"
            />
          </div>
          <button type="submit" disabled={!name.trim() || scopes.length === 0}>
            Create token
          </button>
        </form>
      )}
    </section>
  );
}
