// The pipelines list: search and project filter, each pipeline's last run, and creating one
// (blank, from a template, or by importing a JSON file); export and delete.
import { useId, useRef, useState } from 'react';
import { useReloadOn, useResource } from '../api/use-resource.ts';
import { Api, ApiError, messageOf } from '../api/client.ts';
import { Dialog, Empty, ErrorBox, Link, Loading, StatusBadge, timeAgo } from '../components/ui.tsx';
import { downloadJson } from '../editor/ProblemsList.tsx';
import { SLUG, slugify } from '../model/flow.ts';
import type { PipelineDocument } from '../model/types.ts';
import { navigate, useLocation } from '../router.ts';
import { toast } from '../store/toasts.ts';
import type { PipelineSummary, Project } from '../api/types.ts';

export function PipelinesScreen() {
  const { query } = useLocation();
  const [search, setSearch] = useState(query.get('q') ?? '');
  const [project, setProject] = useState(query.get('project') ?? '');
  // The project filter's choices; without them the list still works, so a failure only leaves it short.
  const { data: projectList, reload: loadProjects } = useResource(
    () => Api.projects().then((r) => r.items),
    [],
  );
  const projects: Project[] = projectList ?? [];
  const [creating, setCreating] = useState(false);
  const [newProject, setNewProject] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const searchId = useId();
  const projectId = useId();

  // A change of search or project reads the list again once typing pauses, keeping the rows shown.
  const {
    data: items,
    error,
    reload: load,
  } = useResource(
    () =>
      Api.pipelines({ q: search.trim() || undefined, project: project || undefined }).then((r) => r.items),
    [],
  );
  useReloadOn(load, [search, project], 250);

  const importFile = async (file: File) => {
    let doc: PipelineDocument;
    try {
      doc = JSON.parse(await file.text()) as PipelineDocument;
      if (!doc || typeof doc !== 'object' || !Array.isArray(doc.nodes))
        throw new Error('it has no "nodes" list');
    } catch (e) {
      toast('error', `${file.name} is not a pipeline document: ${(e as Error).message}`);
      return;
    }
    doc = {
      ...doc,
      apiVersion: 'tributary/v1',
      id: doc.id || slugify(doc.name || file.name),
      name: doc.name || doc.id,
    };
    for (;;) {
      try {
        const created = await Api.createPipeline(doc);
        toast('success', `Imported ${created.id}`);
        navigate(`/pipelines/${encodeURIComponent(created.id)}`);
        return;
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          const next = window.prompt(
            `A pipeline "${doc.id}" exists already. Import it under another id:`,
            `${doc.id}-copy`,
          );
          if (!next) return;
          doc = { ...doc, id: next };
          continue;
        }
        toast('error', `Could not import ${file.name}: ${messageOf(e)}`);
        return;
      }
    }
  };

  const exportOne = async (id: string) => {
    try {
      downloadJson((await Api.pipeline(id)).document);
    } catch (e) {
      toast('error', messageOf(e));
    }
  };

  const remove = async (p: PipelineSummary) => {
    if (
      !window.confirm(
        `Delete pipeline "${p.name}" (${p.id})? Its schedule is removed too; run history stays.`,
      )
    )
      return;
    try {
      await Api.deletePipeline(p.id);
      toast('success', `Deleted ${p.id}`);
      load();
    } catch (e) {
      toast('error', messageOf(e));
    }
  };

  return (
    <main className="screen" aria-labelledby="pipelines-title">
      <header className="screen-header">
        <h1 id="pipelines-title">Pipelines</h1>
        <span className="spacer" />
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New pipeline
        </button>
        <Link to="/templates" className="button">
          From template
        </Link>
        <button type="button" onClick={() => fileInput.current?.click()}>
          Import JSON
        </button>
        <input
          ref={fileInput}
          type="file"
          accept="application/json,.json"
          hidden
          aria-label="Pipeline JSON file to import"
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) void importFile(file);
          }}
        />
      </header>
      <div className="filters">
        <div className="field">
          <label htmlFor={searchId}>Search pipelines</label>
          <input
            id={searchId}
            type="search"
            placeholder="Name or id"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={projectId}>Project</label>
          <select id={projectId} value={project} onChange={(e) => setProject(e.target.value)}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.id})
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="link-button" onClick={() => setNewProject(true)}>
          + New project
        </button>
      </div>
      {error && <ErrorBox error={error} onRetry={load} />}
      {!items && !error && <Loading what="pipelines" />}
      {items && items.length === 0 && (
        <Empty title={search || project ? 'No pipeline matches these filters' : 'No pipelines yet'}>
          <p>Create a blank pipeline, start from a template, or import a pipeline JSON file.</p>
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create your first pipeline
          </button>
        </Empty>
      )}
      {items && items.length > 0 && (
        <table className="list-table" aria-label="Pipelines">
          <thead>
            <tr>
              <th>Name</th>
              <th>Project</th>
              <th>Version</th>
              <th>Updated</th>
              <th>Last run</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link to={`/pipelines/${encodeURIComponent(p.id)}`}>{p.name}</Link>
                  <div className="muted small">{p.id}</div>
                </td>
                <td>{p.project}</td>
                <td>v{p.version}</td>
                <td title={p.updatedAt}>{timeAgo(p.updatedAt)}</td>
                <td>
                  <LastRun pipelineId={p.id} list={items} />
                </td>
                <td className="actions">
                  <Link
                    to={`/lineage?pipeline=${encodeURIComponent(p.id)}`}
                    className="button"
                    aria-label={`Lineage of ${p.id}`}
                  >
                    Lineage
                  </Link>
                  <button type="button" onClick={() => void exportOne(p.id)} aria-label={`Export ${p.id}`}>
                    Export
                  </button>
                  <button
                    type="button"
                    className="danger"
                    onClick={() => void remove(p)}
                    aria-label={`Delete ${p.id}`}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && (
        <NewPipelineDialog
          projects={projects}
          defaultProject={project || 'default'}
          onClose={() => setCreating(false)}
        />
      )}
      {newProject && (
        <NewProjectDialog
          onClose={() => setNewProject(false)}
          onCreated={(p) => {
            setNewProject(false);
            loadProjects();
            setProject(p.id);
          }}
        />
      )}
    </main>
  );
}

/** A pipeline's last run, read again each time the list is (the rows keep what they show meanwhile). */
function LastRun({ pipelineId, list }: { pipelineId: string; list: PipelineSummary[] }) {
  // Wrapped: useResource's data is null while loading, and a pipeline that never ran has a null run.
  const { data, error, reload } = useResource(
    () => Api.runs({ pipeline: pipelineId, limit: 1 }).then((runs) => ({ last: runs.items[0] ?? null })),
    [pipelineId],
  );
  useReloadOn(reload, [list]);
  if (!data && !error) return <span className="muted">…</span>;
  // A lookup that fails tells as much as a pipeline never run.
  const last = error ? null : (data?.last ?? null);
  return last === null ? (
    <span className="muted">never run</span>
  ) : (
    <Link to={`/runs/${encodeURIComponent(last.runId)}`}>
      <StatusBadge status={last.status} /> <span className="muted small">{timeAgo(last.startedAt)}</span>
    </Link>
  );
}

function NewPipelineDialog(props: { projects: Project[]; defaultProject: string; onClose: () => void }) {
  const [name, setName] = useState('');
  const [id, setId] = useState('');
  const [idTouched, setIdTouched] = useState(false);
  const [project, setProject] = useState(props.defaultProject);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const nameId = useId();
  const idId = useId();
  const projectId = useId();
  const pipelineId = idTouched ? id : slugify(name);
  const idOk = SLUG.test(pipelineId);
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const created = await Api.createPipeline({
        apiVersion: 'tributary/v1',
        id: pipelineId,
        name: name.trim(),
        project,
        nodes: [],
        edges: [],
      });
      navigate(`/pipelines/${encodeURIComponent(created.id)}`);
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 409
          ? `A pipeline "${pipelineId}" exists already: pick another id.`
          : messageOf(e),
      );
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="New pipeline"
      onClose={props.onClose}
      footer={
        <>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="submit"
            form="new-pipeline"
            className="primary"
            disabled={busy || !name.trim() || !idOk}
          >
            {busy ? 'Creating…' : 'Create pipeline'}
          </button>
        </>
      }
    >
      <form
        id="new-pipeline"
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim() && idOk) void create();
        }}
      >
        <div className="field">
          <label htmlFor={nameId}>Pipeline name</label>
          <input
            id={nameId}
            value={name}
            autoFocus
            onChange={(e) => setName(e.target.value)}
            placeholder="Orders daily"
          />
        </div>
        <div className={`field${pipelineId && !idOk ? ' field-error' : ''}`}>
          <label htmlFor={idId}>Pipeline id</label>
          <input
            id={idId}
            value={pipelineId}
            onChange={(e) => {
              setIdTouched(true);
              setId(e.target.value);
            }}
          />
          <p className="field-help">Lowercase letters, digits, “-” or “_”; fixed once created.</p>
        </div>
        <div className="field">
          <label htmlFor={projectId}>Project</label>
          <select id={projectId} value={project} onChange={(e) => setProject(e.target.value)}>
            {props.projects.length === 0 && <option value="default">default</option>}
            {props.projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.id})
              </option>
            ))}
          </select>
        </div>
        {error && <ErrorBox error={error} />}
      </form>
    </Dialog>
  );
}

function NewProjectDialog(props: { onClose: () => void; onCreated: (p: Project) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const id = slugify(name);
  return (
    <Dialog
      title="New project"
      onClose={props.onClose}
      footer={
        <button type="submit" form="new-project" className="primary" disabled={!SLUG.test(id)}>
          Create project
        </button>
      }
    >
      <form
        id="new-project"
        onSubmit={(e) => {
          e.preventDefault();
          Api.createProject({ id, name: name.trim() })
            .then(props.onCreated)
            .catch((err: unknown) => setError(messageOf(err)));
        }}
      >
        <div className="field">
          <label htmlFor={nameId}>Project name</label>
          <input id={nameId} value={name} autoFocus onChange={(e) => setName(e.target.value)} />
          <p className="field-help">Id: {id || '—'}</p>
        </div>
        {error && <ErrorBox error={error} />}
      </form>
    </Dialog>
  );
}
