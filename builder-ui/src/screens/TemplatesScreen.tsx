// The template gallery: cards with a picture of the pipeline, what it needs (secrets, files) and its
// README, a category filter and search; "Use template" asks for the new pipeline's id, project and
// the template's params, offers to create the secrets the project lacks, then opens the pipeline.
import { useEffect, useId, useState } from 'react';
import { Api, ApiError, messageOf } from '../api/client.ts';
import { useResource } from '../api/use-resource.ts';
import { Markdown } from '../components/Markdown.tsx';
import { TemplateGraph } from '../components/TemplateGraph.tsx';
import { Dialog, Empty, ErrorBox, Loading } from '../components/ui.tsx';
import { SchemaForm } from '../editor/SchemaForm.tsx';
import { SLUG, slugify } from '../model/flow.ts';
import { navigate } from '../router.ts';
import type { Project, Template, TemplateDetail } from '../api/types.ts';

export function TemplatesScreen() {
  const {
    data: templates,
    error,
    reload: load,
  } = useResource(() => Api.templates().then((r) => r.items), []);
  const [category, setCategory] = useState('');
  const [search, setSearch] = useState('');
  const [using, setUsing] = useState<Template | null>(null);
  const searchId = useId();

  const categories = [
    ...new Set((templates ?? []).map((t) => t.category).filter(Boolean) as string[]),
  ].sort();
  const f = search.trim().toLowerCase();
  const shown = (templates ?? []).filter(
    (t) =>
      (!category || t.category === category) &&
      (!f || `${t.title} ${t.description ?? ''} ${(t.tags ?? []).join(' ')}`.toLowerCase().includes(f)),
  );

  return (
    <main className="screen" aria-labelledby="templates-title">
      <header className="screen-header">
        <h1 id="templates-title">Templates</h1>
      </header>
      {error && <ErrorBox error={error} onRetry={load} />}
      {!templates && !error && <Loading what="templates" />}
      {templates && (
        <>
          <div className="filters">
            <div className="field">
              <label htmlFor={searchId}>Search templates</label>
              <input id={searchId} type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
            </div>
            <div className="chips" role="group" aria-label="Category">
              <button type="button" aria-pressed={category === ''} onClick={() => setCategory('')}>
                All
              </button>
              {categories.map((c) => (
                <button key={c} type="button" aria-pressed={category === c} onClick={() => setCategory(c)}>
                  {c}
                </button>
              ))}
            </div>
          </div>
          {shown.length === 0 && <Empty title="No template matches" />}
          <ul className="cards" aria-label="Templates">
            {shown.map((t) => (
              <li key={t.id} className="card template-card" aria-label={t.title}>
                <div className="template-card-head">
                  <h2>{t.title}</h2>
                  {t.category && <span className="badge">{t.category}</span>}
                </div>
                <TemplateGraph title={t.title} nodes={t.graph.nodes} edges={t.graph.edges} />
                <p>{t.description}</p>
                <TemplateNeeds template={t} />
                <TemplateReadme template={t} />
                <button
                  type="button"
                  className="primary"
                  onClick={() => setUsing(t)}
                  aria-label={`Use template ${t.title}`}
                >
                  Use template
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {using && <UseTemplateDialog template={using} onClose={() => setUsing(null)} />}
    </main>
  );
}

/** What a pipeline from the template needs besides its values: secrets and files in the project. */
function TemplateNeeds({ template }: { template: Template }) {
  const { secrets, files } = template.needs;
  return (
    <div className="template-needs" aria-label={`What ${template.title} needs`} role="group">
      <h3 className="small muted">Needs</h3>
      {secrets.length === 0 && files.length === 0 ? (
        <p className="small muted">Nothing but its values.</p>
      ) : (
        <ul>
          {secrets.map((s) => (
            <li key={s.param} title={s.description}>
              <span className="badge need-secret">secret</span> <code>{s.defaultName ?? s.param}</code>{' '}
              <span className="muted small">({s.param})</span>
            </li>
          ))}
          {files.map((f) => (
            <li key={`${f.nodeId}.${f.field}`}>
              <span className="badge need-file">file</span> <code>{f.example ?? f.param ?? f.field}</code>{' '}
              <span className="muted small">in the project&apos;s file folder</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The README, fetched when first opened (the list carries no READMEs) and rendered as Markdown. */
function TemplateReadme({ template }: { template: Template }) {
  // Asked for the first time it is opened, and kept when it is closed and opened again.
  const [opened, setOpened] = useState(false);
  const { data: readme, error } = useResource(
    () => (opened ? Api.template(template.id).then((d) => d.readme) : Promise.resolve(null)),
    [opened, template.id],
  );
  return (
    <details className="readme" onToggle={(e) => (e.target as HTMLDetailsElement).open && setOpened(true)}>
      <summary>README</summary>
      {error && <ErrorBox error={error} />}
      {opened && readme === null && !error && <Loading what="the README" />}
      {readme !== null && <Markdown text={readme} label={`README of ${template.title}`} />}
    </details>
  );
}

function UseTemplateDialog(props: { template: Template; onClose: () => void }) {
  const { template } = props;
  const [detail, setDetail] = useState<TemplateDetail | null>(null);
  const [pipelineId, setPipelineId] = useState(slugify(template.id));
  const [name, setName] = useState(template.title);
  const [project, setProject] = useState('default');
  const [projects, setProjects] = useState<Project[]>([]);
  const [secrets, setSecrets] = useState<string[] | null>(null);
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { id: useId(), name: useId(), project: useId() };
  useEffect(() => {
    Api.template(template.id)
      .then(setDetail)
      .catch((e: unknown) => setError(messageOf(e)));
    Api.projects()
      .then((r) => setProjects(r.items))
      .catch(() => undefined);
  }, [template.id]);
  const [secretsGeneration, setSecretsGeneration] = useState(0);
  useEffect(() => {
    Api.secrets(project)
      .then((r) => setSecrets(r.items.map((i) => i.name)))
      .catch(() => setSecrets(null));
  }, [project, secretsGeneration]);
  // The secrets these values name (or the params' defaults) that the project does not have yet.
  const missing = secrets
    ? (detail?.secrets ?? []).flatMap((s) => {
        const name = values[s.param] ?? s.defaultName;
        return typeof name === 'string' && name && !secrets.includes(name) ? [{ ...s, name }] : [];
      })
    : [];
  const create = async () => {
    setBusy(true);
    setError(null);
    setErrors(new Map());
    try {
      const created = await Api.instantiateTemplate(template.id, {
        project,
        pipelineId,
        ...(name.trim() ? { name: name.trim() } : {}),
        values,
      });
      navigate(`/pipelines/${encodeURIComponent(created.id)}`);
    } catch (e) {
      if (e instanceof ApiError) {
        // Problems about a value name it as `values.<param>`: show them next to that field.
        setErrors(
          new Map(
            e.errors
              .filter((d) => d.path?.startsWith('values.'))
              .map((d) => [d.path!.slice('values.'.length), d.message] as [string, string]),
          ),
        );
      }
      setError(messageOf(e));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Use template: ${template.title}`}
      onClose={props.onClose}
      wide
      footer={
        <>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="submit"
            form="use-template"
            className="primary"
            disabled={busy || !detail || !SLUG.test(pipelineId)}
          >
            {busy ? 'Creating…' : 'Create pipeline'}
          </button>
        </>
      }
    >
      <form
        id="use-template"
        className="template-form"
        onSubmit={(e) => {
          e.preventDefault();
          void create();
        }}
      >
        <div>
          <div className="field">
            <label htmlFor={ids.id}>New pipeline id</label>
            <input id={ids.id} value={pipelineId} onChange={(e) => setPipelineId(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.name}>New pipeline name</label>
            <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.project}>Project</label>
            <select id={ids.project} value={project} onChange={(e) => setProject(e.target.value)}>
              {projects.length === 0 && <option value="default">default</option>}
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </div>
          {!detail && !error && <Loading what="the template" />}
          {detail && (
            <section aria-label="Template values">
              <div className="section-header">
                <h3>Values</h3>
                {detail.examples && Object.keys(detail.examples).length > 0 && (
                  <button
                    type="button"
                    className="link-button"
                    onClick={() => setValues({ ...detail.examples })}
                  >
                    Fill with examples
                  </button>
                )}
              </div>
              <SchemaForm
                schema={detail.params}
                value={values}
                onChange={setValues}
                ctx={{
                  nodeId: template.id,
                  secrets,
                  upstream: [],
                  params: [],
                  errors,
                  secretFields: new Set((detail.secrets ?? []).map((s) => s.param)),
                }}
              />
            </section>
          )}
          {template.needs.files.length > 0 && (
            <TemplateFiles
              project={project}
              paths={template.needs.files.flatMap((f) => {
                const chosen = f.param ? values[f.param] : undefined;
                const path = typeof chosen === 'string' && chosen ? chosen : f.example;
                return path && !path.includes('{{') ? [path] : [];
              })}
            />
          )}
          {missing.length > 0 && (
            <section aria-label="Missing secrets" className="missing-secrets">
              <h3>Secrets to create</h3>
              <p className="small muted">
                A pipeline from this template reads {missing.length === 1 ? 'a secret' : 'secrets'} that
                project <code>{project}</code> does not have yet; its first run would fail without{' '}
                {missing.length === 1 ? 'it' : 'them'}.
              </p>
              {missing.map((s) => (
                <CreateSecretForm
                  key={s.name}
                  project={project}
                  name={s.name}
                  description={s.description}
                  onCreated={() => setSecretsGeneration((g) => g + 1)}
                />
              ))}
            </section>
          )}
          {error && <ErrorBox error={error} />}
        </div>
        {detail?.readme && (
          <details className="readme" open>
            <summary>About this template</summary>
            <Markdown text={detail.readme} label={`README of ${template.title}`} />
          </details>
        )}
      </form>
    </Dialog>
  );
}

/** Sets one missing secret in the project through the secrets API; the value is never shown again. */
function CreateSecretForm(props: {
  project: string;
  name: string;
  description: string;
  onCreated: () => void;
}) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const valueId = useId();
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      await Api.putSecret(props.project, props.name, value);
      props.onCreated();
    } catch (e) {
      setError(messageOf(e));
      setBusy(false);
    }
  };
  // A form inside the dialog's form is not allowed: this is a group with its own button.
  return (
    <div className="create-secret" role="group" aria-label={`Create secret ${props.name}`}>
      <div className="field">
        <label htmlFor={valueId}>
          Value of secret <code>{props.name}</code>
        </label>
        <input
          id={valueId}
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              if (value) void create();
            }
          }}
        />
        <span className="muted small">{props.description}</span>
      </div>
      <button type="button" disabled={busy || !value} onClick={() => void create()}>
        {busy ? 'Creating…' : `Create secret ${props.name}`}
      </button>
      {error && <ErrorBox error={error} />}
    </div>
  );
}

/**
 * The files a pipeline from the template reads, and whether the project has them: a missing one can
 * be uploaded here (POST /api/projects/{project}/files), so the first run does not fail for it.
 */
function TemplateFiles(props: { project: string; paths: string[] }) {
  const [present, setPresent] = useState<Set<string> | null>(null);
  const [generation, setGeneration] = useState(0);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    Api.projectFiles(props.project)
      .then((r) => live && setPresent(new Set(r.items.map((f) => f.path))))
      .catch((e: unknown) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, [props.project, generation]);
  const upload = async (path: string, file: File) => {
    setError(null);
    try {
      const text = /\.(csv|tsv|txt|json|jsonl|ndjson)$/i.test(path);
      if (text) await Api.uploadFile(props.project, path, await file.text());
      else {
        const bytes = new Uint8Array(await file.arrayBuffer());
        let binary = '';
        for (const b of bytes) binary += String.fromCharCode(b);
        await Api.uploadFile(props.project, path, btoa(binary), 'base64');
      }
      setGeneration((g) => g + 1);
    } catch (e) {
      setError(`Could not upload ${path}: ${messageOf(e)}`);
    }
  };
  if (props.paths.length === 0) return null;
  return (
    <section aria-label="Files it reads" className="template-files">
      <h3>Files it reads</h3>
      <p className="small muted">
        From project <code>{props.project}</code>&apos;s files folder. Upload a missing one here: its first
        run would fail without it.
      </p>
      <ul>
        {props.paths.map((path) => (
          <li key={path}>
            <code>{path}</code>{' '}
            {present === null ? (
              <span className="muted small">checking…</span>
            ) : present.has(path) ? (
              <span className="badge status-succeeded" aria-label={`${path} is in the project`}>
                ✓ in the project
              </span>
            ) : (
              <label className="upload">
                <span className="badge status-failed">missing</span> Upload:{' '}
                <input
                  type="file"
                  aria-label={`Upload ${path}`}
                  onChange={(e) => {
                    const file = e.target.files?.[0];
                    if (file) void upload(path, file);
                  }}
                />
              </label>
            )}
          </li>
        ))}
      </ul>
      {error && <ErrorBox error={error} />}
    </section>
  );
}
