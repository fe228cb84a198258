// Project secrets: names only (set, replace, delete); values are write-only.
import { useId, useState } from 'react';
import { useResource } from '../../api/use-resource.ts';
import { Api, messageOf } from '../../api/client.ts';
import { ErrorBox, Loading, timeAgo } from '../../components/ui.tsx';
import { toast } from '../../store/toasts.ts';

export function SecretsSection() {
  const [project, setProject] = useState('default');
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const [hosts, setHosts] = useState('');
  const ids = { project: useId(), name: useId(), value: useId(), hosts: useId() };
  // Without the project list, the picker still offers "default".
  const projects = useResource(() => Api.projects().then((r) => r.items), []).data ?? [];
  const {
    data: secrets,
    error,
    reload: load,
  } = useResource(() => Api.secrets(project).then((r) => r.items), [project]);
  const put = async (secretName: string, secretValue: string, allowedHosts?: string[]) => {
    try {
      await Api.putSecret(project, secretName, secretValue, allowedHosts);
      toast('success', `Secret ${secretName} saved`);
      setName('');
      setValue('');
      setHosts('');
      load();
    } catch (e) {
      toast('error', messageOf(e));
    }
  };
  return (
    <section className="card" aria-labelledby="secrets-title">
      <h2 id="secrets-title">Project secrets</h2>
      <p className="muted small">
        Values are encrypted and never shown again; pipelines refer to secrets by name.
      </p>
      <div className="field">
        <label htmlFor={ids.project}>Secrets of project</label>
        <select id={ids.project} value={project} onChange={(e) => setProject(e.target.value)}>
          {projects.length === 0 && <option value="default">default</option>}
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} ({p.id})
            </option>
          ))}
        </select>
      </div>
      {error && <ErrorBox error={error} onRetry={load} />}
      {!secrets && !error && <Loading what="secrets" />}
      {secrets && secrets.length === 0 && <p className="muted">No secrets in this project.</p>}
      {secrets && secrets.length > 0 && (
        <table className="list-table compact" aria-label="Secrets">
          <thead>
            <tr>
              <th>Name</th>
              <th>Sent only to</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {secrets.map((s) => (
              <tr key={s.name}>
                <td>
                  <code>{s.name}</code>
                </td>
                <td>
                  {s.allowedHosts ? s.allowedHosts.join(', ') : <span className="muted">any host</span>}
                </td>
                <td>{timeAgo(s.updatedAt)}</td>
                <td className="actions">
                  <button
                    type="button"
                    aria-label={`Replace ${s.name}`}
                    onClick={() => {
                      const v = window.prompt(`New value of ${s.name}`);
                      if (v) void put(s.name, v, s.allowedHosts ?? undefined);
                    }}
                  >
                    Replace
                  </button>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Delete ${s.name}`}
                    onClick={() => {
                      if (!window.confirm(`Delete secret ${s.name}? Pipelines using it will fail.`)) return;
                      Api.deleteSecret(project, s.name)
                        .then(load)
                        .catch((e: unknown) => toast('error', messageOf(e)));
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="inline-form"
        aria-label="Set a secret"
        onSubmit={(e) => {
          e.preventDefault();
          const allowed = hosts
            .split(',')
            .map((h) => h.trim())
            .filter(Boolean);
          void put(name.trim(), value, allowed);
        }}
      >
        <div className="field">
          <label htmlFor={ids.name}>Secret name</label>
          <input
            id={ids.name}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="warehouse_url"
          />
        </div>
        <div className="field">
          <label htmlFor={ids.value}>Secret value</label>
          <input
            id={ids.value}
            type="password"
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.hosts}>Allowed hosts</label>
          <input
            id={ids.hosts}
            value={hosts}
            onChange={(e) => setHosts(e.target.value)}
            placeholder="api.example.com, *.example.com (any host when empty)"
            aria-describedby={`${ids.hosts}-hint`}
          />
          <span id={`${ids.hosts}-hint`} className="muted small">
            Connectors refuse to send the value to any other host.
          </span>
        </div>
        <button type="submit" disabled={!name.trim() || !value}>
          Set secret
        </button>
      </form>
    </section>
  );
}
