// Publishing a data product from the builder (the catalog's button, a sink node's panel): a picker of
// the tables the project owns (listed by the API under the project's own role), then what the
// catalogue shows of it — name, description, owners, tags, column descriptions and freshness.
import { useEffect, useId, useMemo, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import type { ProjectTable } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { Dialog } from './ui.tsx';

const list = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A product id from a table name: a slug, which the user may change. */
const idFor = (project: string, table: string) =>
  `${project}-${table}`
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 63);

const nameFor = (table: string) => {
  const words = table.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export function PublishProductDialog(props: {
  /** The project to publish from; the dialog offers a choice when absent. */
  project?: string;
  /** The table to start with (`schema.table`), e.g. what a sink node writes. */
  table?: string;
  onClose: () => void;
  onPublished: (productId: string) => void;
}) {
  const projects = useResource(
    () => (props.project ? Promise.resolve([]) : Api.projects().then((r) => r.items)),
    [props.project],
  );
  const [project, setProject] = useState(props.project ?? '');
  useEffect(() => {
    if (!project && projects.data?.[0]) setProject(projects.data[0].id);
  }, [project, projects.data]);
  const tables = useResource(
    () => (project ? Api.projectTables(project).then((r) => r.items) : Promise.resolve(null)),
    [project],
  );
  const [tableName, setTableName] = useState(props.table ?? '');
  const [id, setId] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [owners, setOwners] = useState('');
  const [tags, setTags] = useState('');
  const [hours, setHours] = useState('');
  const [columns, setColumns] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = {
    project: useId(),
    table: useId(),
    id: useId(),
    name: useId(),
    description: useId(),
    owners: useId(),
    tags: useId(),
    hours: useId(),
  };

  const table: ProjectTable | undefined = useMemo(
    () => tables.data?.find((t) => t.name === tableName),
    [tables.data, tableName],
  );
  // Choosing a table proposes an id and a name; what the user typed is kept.
  const pick = (next: string) => {
    setTableName(next);
    const t = tables.data?.find((x) => x.name === next);
    if (t && !id) setId(idFor(project, t.table));
    if (t && !name) setName(nameFor(t.table));
    setColumns({});
  };
  useEffect(() => {
    if (props.table && table && !id) {
      setId(idFor(project, table.table));
      setName(nameFor(table.table));
    }
  }, [props.table, table, id, project]);

  const publish = async () => {
    setBusy(true);
    setError(null);
    try {
      const described = Object.fromEntries(Object.entries(columns).filter(([, v]) => v.trim()));
      const product = await Api.publishProduct(project, {
        id,
        table: tableName,
        name,
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(list(owners).length ? { owners: list(owners) } : {}),
        ...(list(tags).length ? { tags: list(tags) } : {}),
        ...(Object.keys(described).length ? { columns: described } : {}),
        ...(hours ? { freshness: { maxAgeHours: Number(hours) } } : {}),
      });
      props.onPublished(product.id);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  const missing = props.table && tables.data && !table && tableName === props.table;
  return (
    <Dialog
      title="Publish a data product"
      wide
      onClose={props.onClose}
      footer={
        <>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="primary"
            disabled={busy || !table || !id || !name}
            onClick={() => void publish()}
          >
            {busy ? 'Publishing…' : 'Publish product'}
          </button>
        </>
      }
    >
      <form
        className="publish-product"
        onSubmit={(e) => {
          e.preventDefault();
          void publish();
        }}
      >
        {!props.project && (
          <div className="field">
            <label htmlFor={ids.project}>Project</label>
            <select
              id={ids.project}
              value={project}
              onChange={(e) => {
                setProject(e.target.value);
                setTableName('');
                setId('');
                setName('');
              }}
            >
              {(projects.data ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor={ids.table}>Table</label>
          <select id={ids.table} value={tableName} onChange={(e) => pick(e.target.value)}>
            <option value="">
              {tables.data === undefined || tables.data === null
                ? 'Reading the project’s tables…'
                : tables.data.length
                  ? '— choose a table of the project —'
                  : '— the project has no tables yet —'}
            </option>
            {missing && <option value={props.table}>{props.table} (not in the warehouse yet)</option>}
            {(tables.data ?? []).map((t) => (
              <option key={t.name} value={t.name} disabled={t.product !== null}>
                {t.name}
                {t.kind === 'view' ? ' (view)' : ''}
                {t.product ? ` — published as ${t.product}` : ''}
              </option>
            ))}
          </select>
          {tables.error && <p className="field-message">{tables.error}</p>}
          {missing ? (
            <p className="field-message">
              {props.table} is not in the warehouse yet: run the pipeline once, then publish it.
            </p>
          ) : (
            <p className="field-help">
              The tables and views the project owns, as its warehouse role sees them.
            </p>
          )}
        </div>
        <div className="form-columns">
          <div className="field">
            <label htmlFor={ids.id}>Product id</label>
            <input id={ids.id} value={id} onChange={(e) => setId(e.target.value)} />
            <p className="field-help">
              What <code>source.table</code>’s product field names.
            </p>
          </div>
          <div className="field">
            <label htmlFor={ids.name}>Name</label>
            <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} />
          </div>
        </div>
        <div className="field">
          <label htmlFor={ids.description}>Description</label>
          <textarea
            id={ids.description}
            rows={2}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </div>
        <div className="form-columns">
          <div className="field">
            <label htmlFor={ids.owners}>Owners</label>
            <input
              id={ids.owners}
              placeholder="sales-data@example.com, Ada"
              value={owners}
              onChange={(e) => setOwners(e.target.value)}
            />
            <p className="field-help">Who to ask about it, separated by commas.</p>
          </div>
          <div className="field">
            <label htmlFor={ids.tags}>Tags</label>
            <input
              id={ids.tags}
              placeholder="finance, orders"
              value={tags}
              onChange={(e) => setTags(e.target.value)}
            />
            <p className="field-help">Lowercase words, separated by commas.</p>
          </div>
          <div className="field">
            <label htmlFor={ids.hours}>Fresh within (hours)</label>
            <input
              id={ids.hours}
              type="number"
              min={1}
              value={hours}
              onChange={(e) => setHours(e.target.value)}
            />
            <p className="field-help">Stale when no run published it for longer; empty: no promise.</p>
          </div>
        </div>
        {table && table.columns.length > 0 && (
          <fieldset className="field-group">
            <legend>Column descriptions</legend>
            {table.columns.map((c) => (
              <div className="field field-column" key={c.name}>
                <label htmlFor={`${ids.table}-${c.name}`}>
                  <code>{c.name}</code> <span className="muted small">{c.type}</span>
                </label>
                <input
                  id={`${ids.table}-${c.name}`}
                  aria-label={`Description of ${c.name}`}
                  value={columns[c.name] ?? ''}
                  onChange={(e) => setColumns({ ...columns, [c.name]: e.target.value })}
                />
              </div>
            ))}
          </fieldset>
        )}
        {error && (
          <p className="field-message" role="alert">
            {error}
          </p>
        )}
      </form>
    </Dialog>
  );
}
