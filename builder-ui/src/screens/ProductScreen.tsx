// One data product: its schema with descriptions, freshness and the run that last published it,
// who it is shared with and who reads it, a sample for those who may read it, and the share dialog.
import { useId, useState } from 'react';
import { ApiError, Api, messageOf } from '../api/client.ts';
import { useResource } from '../api/use-resource.ts';
import { ErrorBox, Link, Loading, timeAgo } from '../components/ui.tsx';
import { toast } from '../store/toasts.ts';

export function ProductScreen({ id }: { id: string }) {
  const { data: product, error, reload } = useResource(() => Api.product(id), [id]);
  const projects = useResource(() => Api.projects().then((r) => r.items), []).data ?? [];
  const [consumer, setConsumer] = useState('');
  const shareId = useId();

  if (error)
    return (
      <main className="screen">
        <ErrorBox error={error} onRetry={reload} />
      </main>
    );
  if (!product)
    return (
      <main className="screen">
        <Loading what="the product" />
      </main>
    );

  const share = async () => {
    try {
      await Api.shareProduct(id, consumer);
      toast('success', `${product.name} is shared with ${consumer}`);
      setConsumer('');
      reload();
    } catch (e) {
      toast('error', messageOf(e));
    }
  };
  const unshare = async (project: string) => {
    try {
      await Api.unshareProduct(id, project);
    } catch (e) {
      // Pipelines of that project read it: say which, and unshare only if asked to anyway.
      if (
        !(e instanceof ApiError && e.status === 409) ||
        !window.confirm(`${messageOf(e)}\n\nUnshare anyway?`)
      ) {
        if (!(e instanceof ApiError && e.status === 409)) toast('error', messageOf(e));
        return;
      }
      await Api.unshareProduct(id, project, true).catch((again: unknown) => toast('error', messageOf(again)));
    }
    reload();
  };
  const table = `${product.table.schema}.${product.table.table}`;
  const candidates = projects.filter(
    (p) => p.id !== product.project && !product.sharedWith.some((s) => s.project === p.id),
  );
  return (
    <main className="screen">
      <header className="screen-header product-header">
        <p className="muted small">
          <Link to="/catalog">Data products</Link> / {product.id}
        </p>
        <h1>{product.name}</h1>
        <p>
          <code>{table}</code> · project {product.project}
          {product.owners.length > 0 && <> · owners {product.owners.join(', ')}</>} ·{' '}
          <Link to={`/lineage?table=${encodeURIComponent(table)}`}>Lineage</Link>
        </p>
        {product.description && <p>{product.description}</p>}
      </header>
      <section className="card" aria-labelledby="freshness-title">
        <h2 id="freshness-title">Freshness</h2>
        <p>
          {product.stale === true && <span className="badge badge-failed">stale</span>}
          {product.stale === false && <span className="badge badge-succeeded">fresh</span>}{' '}
          {product.lastPublished ? (
            <>
              Last published {timeAgo(product.lastPublished.at)} ({product.lastPublished.rows} rows) by run{' '}
              <Link to={`/runs/${product.lastPublished.runId}`}>{product.lastPublished.runId}</Link>
              {product.lastPublished.pipelineId && <> of pipeline {product.lastPublished.pipelineId}</>}
            </>
          ) : (
            'Never published by a pipeline.'
          )}
          {product.freshness && <> · expected every {product.freshness.maxAgeHours} h</>}
        </p>
      </section>
      <ProductLineage table={table} />
      <section className="card" aria-labelledby="schema-title">
        <h2 id="schema-title">Schema</h2>
        <table className="list-table compact" aria-label="Schema">
          <thead>
            <tr>
              <th>Column</th>
              <th>Type</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {product.schema.map((c) => (
              <tr key={c.name}>
                <td>
                  <Link
                    to={`/lineage?table=${encodeURIComponent(table)}&column=${encodeURIComponent(c.name)}`}
                  >
                    <code>{c.name}</code>
                  </Link>
                </td>
                <td>{c.type}</td>
                <td>{c.description ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card" aria-labelledby="sharing-title">
        <h2 id="sharing-title">Shared with</h2>
        {product.sharedWith.length === 0 && <p className="muted">No other project reads it yet.</p>}
        <ul aria-label="Shared with">
          {product.sharedWith.map((s) => (
            <li key={s.project}>
              {s.project} <span className="muted small">since {timeAgo(s.grantedAt)}</span>{' '}
              <button type="button" className="danger" onClick={() => void unshare(s.project)}>
                Unshare {s.project}
              </button>
            </li>
          ))}
        </ul>
        <form
          className="inline-form"
          aria-label="Share the product"
          onSubmit={(e) => {
            e.preventDefault();
            void share();
          }}
        >
          <div className="field">
            <label htmlFor={shareId}>Share with project</label>
            <select id={shareId} value={consumer} onChange={(e) => setConsumer(e.target.value)}>
              <option value="">Choose a project…</option>
              {candidates.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={!consumer}>
            Share
          </button>
        </form>
        <h3>Read by</h3>
        {product.consumers.length === 0 ? (
          <p className="muted">No pipeline of another project reads it.</p>
        ) : (
          <ul aria-label="Consumers">
            {product.consumers.map((c) => (
              <li key={`${c.pipelineId}/${c.nodeId}`}>
                <Link to={`/pipelines/${c.pipelineId}`}>{c.pipelineId}</Link> (node {c.nodeId}, project{' '}
                {c.project})
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="sample-title">
        <h2 id="sample-title">Sample</h2>
        {product.sample === null ? (
          <p className="muted">
            Your token may not read this product&apos;s rows; ask its owners to share it.
          </p>
        ) : product.sample.length === 0 ? (
          <p className="muted">The table is empty.</p>
        ) : (
          <table className="list-table compact" aria-label="Sample rows">
            <thead>
              <tr>
                {product.schema.map((c) => (
                  <th key={c.name}>{c.name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {product.sample.map((row, i) => (
                <tr key={i}>
                  {product.schema.map((c) => (
                    <td key={c.name}>{String(row[c.name] ?? '')}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}

/**
 * The steps next to the product's table in lineage (what writes it, what reads it) and what lineage
 * could not follow there, with a link to the whole graph.
 */
function ProductLineage({ table }: { table: string }) {
  const { data, error } = useResource(() => Api.lineage({ table, direction: 'both', depth: 1 }), [table]);
  const tableNode = data?.nodes.find((n) => n.kind === 'table' && n.name === table);
  const writers = data
    ? data.edges
        .filter((e) => e.to === tableNode?.id)
        .map((e) => data.nodes.find((n) => n.id === e.from))
        .filter((n) => n?.kind === 'step')
    : [];
  const readers = data
    ? data.edges
        .filter((e) => e.from === tableNode?.id)
        .map((e) => data.nodes.find((n) => n.id === e.to))
        .filter((n) => n?.kind === 'step')
    : [];
  const step = (n: (typeof writers)[number]) =>
    n && (
      <li key={n.id}>
        {n.pipelineId ? <Link to={`/pipelines/${n.pipelineId}`}>{n.pipelineId}</Link> : n.name}
        {n.nodeId && <> · node {n.nodeId}</>}
        {n.project && <span className="muted small"> (project {n.project})</span>}
      </li>
    );
  return (
    <section className="card" aria-labelledby="lineage-title">
      <h2 id="lineage-title">Lineage</h2>
      {error && <p className="muted">Lineage cannot be read: {error}</p>}
      {!data && !error && <Loading what="lineage" />}
      {data && (
        <>
          <p>
            Written by {writers.length === 0 ? <span className="muted">no step of a pipeline</span> : null}
          </p>
          {writers.length > 0 && <ul aria-label="Written by">{writers.map(step)}</ul>}
          <p>Read by {readers.length === 0 ? <span className="muted">no step of a pipeline</span> : null}</p>
          {readers.length > 0 && <ul aria-label="Read by">{readers.map(step)}</ul>}
          {data.problems.length > 0 ? (
            <div className="lineage-problems" role="status" aria-label="Lineage problems">
              <p>
                {data.problems.length} lineage problem{data.problems.length === 1 ? '' : 's'}: some columns
                could not be followed.
              </p>
              <ul>
                {data.problems.map((problem) => (
                  <li key={problem} className="small">
                    {problem}
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            <p className="muted small">Every column of the steps around it could be followed.</p>
          )}
          <p>
            <Link to={`/lineage?table=${encodeURIComponent(table)}`}>Open the lineage graph</Link>
          </p>
        </>
      )}
    </section>
  );
}
