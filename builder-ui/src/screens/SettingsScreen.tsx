// Settings: project secrets (names only: set, replace, delete), API tokens (created and shown
// once, revoked), a pipeline's schedule and webhooks, and where "Open in Temporal" links go.
import { useCallback, useEffect, useId, useState } from 'react';
import { Api, ApiError, messageOf, storeToken } from '../api/client.ts';
import { Empty, ErrorBox, Loading, temporalUiBase, timeAgo } from '../components/ui.tsx';
import { useLocation } from '../router.ts';
import { toast } from '../store/toasts.ts';
import type {
  CreatedWebhook,
  PipelineSummary,
  Project,
  Schedule,
  SecretInfo,
  TokenInfo,
  Webhook,
} from '../api/types.ts';

export function SettingsScreen() {
  const { query } = useLocation();
  return (
    <main className="screen settings" aria-labelledby="settings-title">
      <header className="screen-header">
        <h1 id="settings-title">Settings</h1>
        <span className="spacer" />
        <button type="button" onClick={() => storeToken(null)}>
          Sign out
        </button>
      </header>
      <SecretsSection />
      <PipelineTriggers initial={query.get('pipeline') ?? ''} />
      <TokensSection />
      <TemporalSection />
    </main>
  );
}

function SecretsSection() {
  const [projects, setProjects] = useState<Project[]>([]);
  const [project, setProject] = useState('default');
  const [secrets, setSecrets] = useState<SecretInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');
  const ids = { project: useId(), name: useId(), value: useId() };
  useEffect(() => {
    Api.projects()
      .then((r) => setProjects(r.items))
      .catch(() => undefined);
  }, []);
  const load = useCallback(() => {
    setError(null);
    setSecrets(null);
    Api.secrets(project)
      .then((r) => setSecrets(r.items))
      .catch((e: unknown) => setError(messageOf(e)));
  }, [project]);
  useEffect(load, [load]);
  const put = async (secretName: string, secretValue: string) => {
    try {
      await Api.putSecret(project, secretName, secretValue);
      toast('success', `Secret ${secretName} saved`);
      setName('');
      setValue('');
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
                <td>{timeAgo(s.updatedAt)}</td>
                <td className="actions">
                  <button
                    type="button"
                    aria-label={`Replace ${s.name}`}
                    onClick={() => {
                      const v = window.prompt(`New value of ${s.name}`);
                      if (v) void put(s.name, v);
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
          void put(name.trim(), value);
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
        <button type="submit" disabled={!name.trim() || !value}>
          Set secret
        </button>
      </form>
    </section>
  );
}

function TokensSection() {
  const [tokens, setTokens] = useState<TokenInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const [projects, setProjects] = useState('');
  const [created, setCreated] = useState<string | null>(null);
  const ids = { name: useId(), projects: useId(), created: useId() };
  const load = useCallback(() => {
    setError(null);
    Api.tokens()
      .then((r) => setTokens(r.items))
      .catch((e: unknown) =>
        setError(
          e instanceof ApiError && e.status === 403
            ? 'Only an admin token can manage API tokens.'
            : messageOf(e),
        ),
      );
  }, []);
  useEffect(load, [load]);
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

function PipelineTriggers(props: { initial: string }) {
  const [pipelines, setPipelines] = useState<PipelineSummary[] | null>(null);
  const [pipeline, setPipeline] = useState(props.initial);
  const id = useId();
  useEffect(() => {
    Api.pipelines({})
      .then((r) => {
        setPipelines(r.items);
        if (!props.initial && r.items[0]) setPipeline(r.items[0].id);
      })
      .catch(() => setPipelines([]));
  }, [props.initial]);
  return (
    <section className="card" aria-labelledby="triggers-title">
      <h2 id="triggers-title">Schedule and webhooks</h2>
      {!pipelines && <Loading what="pipelines" />}
      {pipelines && pipelines.length === 0 && <Empty title="No pipelines yet" />}
      {pipelines && pipelines.length > 0 && (
        <>
          <div className="field">
            <label htmlFor={id}>Pipeline</label>
            <select id={id} value={pipeline} onChange={(e) => setPipeline(e.target.value)}>
              {pipelines.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </div>
          {pipeline && <ScheduleForm key={`s-${pipeline}`} pipelineId={pipeline} />}
          {pipeline && <Webhooks key={`w-${pipeline}`} pipelineId={pipeline} />}
        </>
      )}
    </section>
  );
}

function ScheduleForm({ pipelineId }: { pipelineId: string }) {
  const [schedule, setSchedule] = useState<Schedule | null | undefined>(undefined);
  const [cron, setCron] = useState('0 6 * * *');
  const [timezone, setTimezone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [paused, setPaused] = useState(false);
  const [params, setParams] = useState('{}');
  const [error, setError] = useState<string | null>(null);
  const ids = { cron: useId(), tz: useId(), paused: useId(), params: useId() };
  const load = useCallback(() => {
    Api.schedule(pipelineId)
      .then((s) => {
        setSchedule(s);
        setCron(s.cron);
        setTimezone(s.timezone);
        setPaused(s.paused);
        setParams(JSON.stringify(s.params ?? {}, null, 2));
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) setSchedule(null);
        else setError(messageOf(e));
      });
  }, [pipelineId]);
  useEffect(load, [load]);
  const save = async () => {
    setError(null);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(params || '{}') as Record<string, unknown>;
    } catch (e) {
      setError(`Params are not valid JSON: ${(e as Error).message}`);
      return;
    }
    try {
      setSchedule(await Api.putSchedule(pipelineId, { cron, timezone, paused, params: parsed }));
      toast('success', 'Schedule saved');
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <div className="subsection" aria-label="Schedule">
      <h3>Schedule</h3>
      {schedule === undefined && !error && <Loading what="the schedule" />}
      {schedule === null && <p className="muted">Not scheduled.</p>}
      {schedule && (
        <p className="muted small">
          Runs version {schedule.pipelineVersion}
          {schedule.paused ? ' — paused' : ''}. Next:{' '}
          {schedule.nextRunTimes
            .slice(0, 3)
            .map((t) => new Date(t).toLocaleString())
            .join(', ') || '—'}
        </p>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="field">
          <label htmlFor={ids.cron}>Cron</label>
          <input id={ids.cron} value={cron} onChange={(e) => setCron(e.target.value)} />
          <p className="field-help">5 fields (“0 6 * * *”), or @daily, @hourly, @every 15m</p>
        </div>
        <div className="field">
          <label htmlFor={ids.tz}>Time zone</label>
          <input id={ids.tz} value={timezone} onChange={(e) => setTimezone(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={ids.params}>Schedule params (JSON)</label>
          <textarea
            id={ids.params}
            rows={2}
            className="code"
            value={params}
            onChange={(e) => setParams(e.target.value)}
          />
        </div>
        <div className="field field-inline">
          <input
            id={ids.paused}
            type="checkbox"
            checked={paused}
            onChange={(e) => setPaused(e.target.checked)}
          />
          <label htmlFor={ids.paused}>Paused</label>
        </div>
        <button type="submit">{schedule ? 'Update schedule' : 'Create schedule'}</button>
        {schedule && (
          <button
            type="button"
            className="danger"
            onClick={() =>
              Api.deleteSchedule(pipelineId)
                .then(() => setSchedule(null))
                .catch((e: unknown) => setError(messageOf(e)))
            }
          >
            Remove schedule
          </button>
        )}
      </form>
      {error && <ErrorBox error={error} />}
    </div>
  );
}

function Webhooks({ pipelineId }: { pipelineId: string }) {
  const [hooks, setHooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [name, setName] = useState('');
  const nameId = useId();
  const load = useCallback(() => {
    Api.webhooks(pipelineId)
      .then((r) => setHooks(r.items))
      .catch((e: unknown) => setError(messageOf(e)));
  }, [pipelineId]);
  useEffect(load, [load]);
  return (
    <div className="subsection" aria-label="Webhooks">
      <h3>Webhooks</h3>
      {error && <ErrorBox error={error} />}
      {hooks && hooks.length === 0 && <p className="muted">No webhooks.</p>}
      {hooks && hooks.length > 0 && (
        <table className="list-table compact" aria-label="Webhooks">
          <tbody>
            {hooks.map((h) => (
              <tr key={h.id}>
                <td>{h.name ?? h.id}</td>
                <td>
                  <code>{h.url}</code>
                </td>
                <td>last used {timeAgo(h.lastUsedAt)}</td>
                <td>
                  <button
                    type="button"
                    className="danger"
                    aria-label={`Delete webhook ${h.name ?? h.id}`}
                    onClick={() =>
                      Api.deleteWebhook(pipelineId, h.id)
                        .then(load)
                        .catch((e: unknown) => toast('error', messageOf(e)))
                    }
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {created && (
        <div className="banner" role="alert">
          <p>
            Webhook created. POST to <code>{created.url}</code> with{' '}
            <code>Authorization: Bearer {created.token}</code> — the token is shown only now.
          </p>
          <button type="button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          Api.createWebhook(pipelineId, name.trim() || undefined)
            .then((h) => {
              setCreated(h);
              setName('');
              load();
            })
            .catch((err: unknown) => setError(messageOf(err)));
        }}
      >
        <div className="field">
          <label htmlFor={nameId}>Webhook name</label>
          <input id={nameId} value={name} onChange={(e) => setName(e.target.value)} placeholder="optional" />
        </div>
        <button type="submit">Create webhook</button>
      </form>
    </div>
  );
}

function TemporalSection() {
  const [url, setUrl] = useState(localStorage.getItem('tributary.temporalUi') ?? '');
  const id = useId();
  return (
    <section className="card" aria-labelledby="temporal-title">
      <h2 id="temporal-title">Temporal Web UI</h2>
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (url.trim()) localStorage.setItem('tributary.temporalUi', url.trim());
          else localStorage.removeItem('tributary.temporalUi');
          toast('success', `Run links go to ${temporalUiBase()}`);
        }}
      >
        <div className="field">
          <label htmlFor={id}>Temporal UI address</label>
          <input
            id={id}
            value={url}
            placeholder="http://localhost:8233"
            onChange={(e) => setUrl(e.target.value)}
          />
          <p className="field-help">Where “Open in Temporal” links point; empty for the local dev server.</p>
        </div>
        <button type="submit">Save address</button>
      </form>
    </section>
  );
}
