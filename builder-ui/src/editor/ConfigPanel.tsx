// The node panel: opens over the canvas when a node is selected (n8n's node view is the model) and is
// gone when none is, so the canvas keeps the screen. It holds the node's full name, id and config (a
// form generated from its node type's JSON Schema) and its retry/timeout options; with several nodes
// selected, bulk actions.
import { useEffect, useId, useMemo, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import type { CompileError } from '../api/types.ts';
import { useResource } from '../api/use-resource.ts';
import { PublishProductDialog } from '../components/PublishProductDialog.tsx';
import { NodeIcon } from '../components/ui.tsx';
import { toast } from '../store/toasts.ts';
import type { JsonSchema } from '../model/types.ts';
import { configPath, valueAt } from '../model/config.ts';
import { SLUG, upstreamOf, type FlowNode } from '../model/flow.ts';
import { useCatalog } from '../store/catalog.ts';
import { editorStore, useEditor } from '../store/editor.ts';
import { ConnectorForm } from './ConnectorForm.tsx';
import { NodeDataDialog, NodeRunSummary } from './NodeData.tsx';
import { SchemaForm, type FormContext } from './SchemaForm.tsx';
import type { SqlProblem } from './SqlEditor.tsx';
import { useNodeSchemas } from './use-input-schemas.ts';

/** Whether a node type's form has a field of this widget (asked before fetching what it offers). */
const usesWidget = (config: JsonSchema | undefined, widget: string) =>
  Object.values(config?.properties ?? {}).some((field) => field['x-widget'] === widget);

/** Where in its SQL text the validator places a problem (`line`, `column`), when it does. */
function sqlPlace(problem: CompileError): SqlProblem | null {
  if (problem.line === undefined) return null;
  return { line: problem.line, column: problem.column, message: problem.message };
}

export function ConfigPanel(props: {
  secrets: string[] | null;
  onDuplicate: () => void;
  /** The run on screen, whose result each node's panel shows. */
  runId: string | null;
  /** Re-runs the run on screen from a node; absent while there is none, or it is running. */
  onRunFrom?: ((nodeId: string) => void) | undefined;
}) {
  const selected = useEditor((s) =>
    s.nodes
      .filter((n) => n.selected)
      .map((n) => n.id)
      .join(','),
  );
  const ids = selected ? selected.split(',') : [];
  if (ids.length === 0) return null;
  if (ids.length > 1) {
    return (
      <aside className="config-panel" aria-label="Node configuration">
        <ClosePanel />
        <h2>{ids.length} nodes selected</h2>
        <p className="muted">{ids.join(', ')}</p>
        <div className="button-row">
          <button type="button" onClick={props.onDuplicate}>
            Duplicate
          </button>
          <button type="button" className="danger" onClick={() => editorStore.getState().deleteSelection()}>
            Delete {ids.length} nodes
          </button>
        </div>
      </aside>
    );
  }
  return (
    <NodeConfig
      key={ids[0]}
      id={ids[0]!}
      secrets={props.secrets}
      onDuplicate={props.onDuplicate}
      runId={props.runId}
      onRunFrom={props.onRunFrom}
    />
  );
}

/** The fields the connector's own form and stream picker edit (ConnectorForm), left out of the generic one. */
const CONNECTOR_FIELDS = ['config', 'secrets', 'stream', 'streams', 'syncMode', 'cursorField'];
function withoutConnectorFields(schema: JsonSchema): JsonSchema {
  return {
    ...schema,
    properties: Object.fromEntries(
      Object.entries(schema.properties ?? {}).filter(([k]) => !CONNECTOR_FIELDS.includes(k)),
    ),
    required: (schema.required ?? []).filter((k) => !CONNECTOR_FIELDS.includes(k)),
  };
}

/** Closes the panel by clearing the selection (Escape on the canvas does the same). */
function ClosePanel() {
  return (
    <button
      type="button"
      className="icon-button panel-close"
      aria-label="Close node panel"
      title="Close (Esc)"
      onClick={() => editorStore.getState().selectOnly(null)}
    >
      ×
    </button>
  );
}

function NodeConfig(props: {
  id: string;
  secrets: string[] | null;
  onDuplicate: () => void;
  runId: string | null;
  onRunFrom?: ((nodeId: string) => void) | undefined;
}) {
  const node = useEditor((s) => s.nodes.find((n) => n.id === props.id)) as FlowNode | undefined;
  const upstream = useEditor((s) => upstreamOf(props.id, s.edges).join(','));
  const paramNames = useEditor((s) => Object.keys(s.meta.params ?? {}).join(','));
  const problems = useEditor((s) => s.problems);
  const visited = useEditor((s) => s.newNodes[props.id]);
  const validated = useEditor((s) => s.validated?.nodes.find((n) => n.id === props.id)?.config);
  const connector = useCatalog((s) => (node ? s.byType.get(node.data.type) : undefined));
  const project = useEditor((s) => s.meta.project ?? 'default');
  const idField = useId();
  const schemas = useNodeSchemas(true);
  const [viewingData, setViewingData] = useState(false);
  const [publishing, setPublishing] = useState<{ table: string | undefined } | null>(null);
  const pipelineId = useEditor((s) => s.meta.id);
  // What the table and product pickers offer: asked only for a node type that has such a field.
  const wantsTables = usesWidget(connector?.config, 'table');
  const wantsProducts = usesWidget(connector?.config, 'product');
  const tables = useResource(
    () =>
      wantsTables
        ? Api.projectTables(project).then((r) => r.items.map((t) => t.name))
        : Promise.resolve(null),
    [project, wantsTables],
  ).data;
  const products = useResource(
    () => (wantsProducts ? Api.readableProducts(project).then((r) => r.items) : Promise.resolve(null)),
    [project, wantsProducts],
  ).data;
  const [idText, setIdText] = useState(props.id);
  useEffect(() => setIdText(props.id), [props.id]);

  const mine = useMemo(() => problems.filter((p) => p.nodeId === props.id), [problems, props.id]);
  // A problem with a field is told once, beside that field; the list above the form has the rest.
  const unplaced = mine.filter((p) => configPath(p.path) === null);
  const ctx: FormContext = useMemo(() => {
    const errors = new Map<string, string>();
    const sqlProblems = new Map<string, SqlProblem[]>();
    for (const p of mine) {
      const path = configPath(p.path);
      if (path !== null && !errors.has(path)) errors.set(path, p.message);
      const at = sqlPlace(p);
      if (path !== null && at) sqlProblems.set(path, [...(sqlProblems.get(path) ?? []), at]);
    }
    return {
      nodeId: props.id,
      secrets: props.secrets,
      upstream: upstream ? upstream.split(',') : [],
      params: paramNames ? paramNames.split(',') : [],
      errors,
      sqlProblems,
      inputColumns: Object.fromEntries(
        (upstream ? upstream.split(',') : []).map((u) => [u, schemas.nodes?.[u]?.columns ?? null]),
      ),
      // An error is about the value that was checked: once the field holds another, it waits for
      // the next check rather than tell of a value that is gone (and shift the form under the mouse).
      shows: (path, value) =>
        (!visited || visited.includes(path)) &&
        JSON.stringify(valueAt(validated, path) ?? null) === JSON.stringify(value ?? null),
      touch: (path) => editorStore.getState().touchField(props.id, path),
      tables,
      products,
    };
  }, [
    mine,
    props.id,
    props.secrets,
    upstream,
    paramNames,
    visited,
    validated,
    schemas.nodes,
    tables,
    products,
  ]);

  // A node that publishes into a warehouse table (its type declares the target view) offers to make
  // that table a data product, with the table as the draft names it.
  const publishProduct = async () => {
    const table = await Api.sinkTarget(pipelineId, props.id)
      .then((t) => t.table)
      .catch((e: unknown) => {
        toast('error', `The target table is not known: ${messageOf(e)}`);
        return undefined;
      });
    setPublishing({ table });
  };

  if (!node) return null;
  const store = editorStore.getState();
  const idError = !SLUG.test(idText)
    ? 'Ids are slugs: lowercase letters, digits, "-" or "_", starting with a letter'
    : idText !== props.id && editorStore.getState().nodes.some((n) => n.id === idText)
      ? `"${idText}" is taken by another node`
      : null;
  const commitId = () => {
    if (!idError && idText !== props.id) store.renameNode(props.id, idText);
  };
  const data = node.data;

  return (
    <aside className="config-panel" aria-label={`Configuration of ${props.id}`}>
      <header className="config-header">
        <NodeIcon name={connector?.icon} />
        <div className="config-titles">
          {/* The node's full name, never cut: the canvas card may shorten it. */}
          <h2 className="config-node-name">{data.name || props.id}</h2>
          <div className="muted small">
            {connector?.title ?? data.type} · <code>{data.type}</code>
          </div>
        </div>
        <ClosePanel />
      </header>
      {connector?.description && <p className="muted small">{connector.description}</p>}
      {!connector && (
        <p className="field-message" role="alert">
          Unknown node type “{data.type}”: it is not in this server's catalogue.
        </p>
      )}
      <NodeRunSummary
        id={props.id}
        runId={props.runId}
        onRunFromHere={props.onRunFrom ? () => props.onRunFrom!(props.id) : undefined}
      />
      <button
        type="button"
        className="node-data-button"
        onClick={() => setViewingData(true)}
        aria-label={`Open data of ${props.id}`}
      >
        Input and output
      </button>
      {viewingData && (
        <NodeDataDialog
          id={props.id}
          runId={props.runId}
          schemas={schemas.nodes}
          onClose={() => setViewingData(false)}
        />
      )}
      {connector?.view?.target && (
        <button type="button" onClick={() => void publishProduct()}>
          Publish as a data product…
        </button>
      )}
      {publishing && (
        <PublishProductDialog
          project={project}
          table={publishing.table}
          onClose={() => setPublishing(null)}
          onPublished={(productId) => {
            setPublishing(null);
            toast('success', `Published ${productId}: it is in the catalog now`);
          }}
        />
      )}
      {unplaced.length > 0 && (
        <ul className="node-problems" aria-label={`Problems of ${props.id}`}>
          {unplaced.map((p, i) => (
            <li key={i}>{p.message}</li>
          ))}
        </ul>
      )}
      <div className={`field${idError ? ' field-error' : ''}`}>
        <label htmlFor={idField}>Node id</label>
        <input
          id={idField}
          className="nodrag"
          value={idText}
          onChange={(e) => setIdText(e.target.value)}
          onBlur={commitId}
          onKeyDown={(e) => e.key === 'Enter' && commitId()}
          aria-invalid={!!idError}
        />
        {idError ? (
          <p className="field-message">{idError}</p>
        ) : (
          <p className="field-help">
            Used in {'{{ inputs.<id> }}'}; renaming updates the SQL of the nodes it feeds.
          </p>
        )}
      </div>
      <TextRow
        label="Display name"
        name="node-name"
        value={data.name ?? ''}
        onChange={(v) => store.updateNodeData(props.id, { name: v || undefined }, `${props.id}:name`)}
      />
      <TextRow
        label="Description"
        multiline
        value={data.description ?? ''}
        onChange={(v) =>
          store.updateNodeData(props.id, { description: v || undefined }, `${props.id}:description`)
        }
      />
      {connector && (
        <section className="config-form" aria-label="Settings of this node">
          <h3>Settings</h3>
          <SchemaForm
            schema={connector.probe ? withoutConnectorFields(connector.config) : connector.config}
            value={data.config}
            ctx={ctx}
            onChange={(config) => store.setNodeConfig(props.id, config, `${props.id}:config`)}
          />
          {connector.probe && (
            <ConnectorForm
              type={data.type}
              probe={connector.probe}
              project={project}
              config={data.config}
              ctx={ctx}
              onChange={(config) => store.setNodeConfig(props.id, config, `${props.id}:config`)}
            />
          )}
        </section>
      )}
      <details className="config-advanced">
        <summary>Retries, timeout and failure handling</summary>
        <NumberRow
          label="Max attempts"
          help="Default 3; transient faults are retried with exponential backoff."
          value={data.retry?.maxAttempts}
          onChange={(v) => {
            const retry = { ...data.retry, maxAttempts: v };
            if (v === undefined) delete retry.maxAttempts;
            store.updateNodeData(
              props.id,
              { retry: Object.keys(retry).length ? retry : undefined },
              `${props.id}:retry`,
            );
          }}
        />
        <NumberRow
          label="Timeout (seconds)"
          help="Default 3600."
          value={data.timeoutSeconds}
          onChange={(v) => store.updateNodeData(props.id, { timeoutSeconds: v }, `${props.id}:timeout`)}
        />
        <CheckRow
          label="Continue on failure"
          help="A failure of this step ends the run as succeeded with warnings instead of failed."
          checked={!!data.continueOnFailure}
          onChange={(v) => store.updateNodeData(props.id, { continueOnFailure: v || undefined })}
        />
        <CheckRow
          label="Disabled"
          help="Skipped in runs; nodes that depend on it cannot run."
          checked={!!data.disabled}
          onChange={(v) => store.updateNodeData(props.id, { disabled: v || undefined })}
        />
      </details>
      <div className="button-row">
        <button type="button" onClick={props.onDuplicate}>
          Duplicate
        </button>
        <button type="button" className="danger" onClick={() => store.deleteNodes([props.id])}>
          Delete node
        </button>
      </div>
    </aside>
  );
}

export function TextRow(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  multiline?: boolean;
  help?: string;
  /** The input's name, for finding it (F2 focuses `node-name`). */
  name?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {props.multiline ? (
        <textarea
          id={id}
          className="nodrag"
          rows={2}
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
        />
      ) : (
        <input
          id={id}
          name={props.name}
          className="nodrag"
          value={props.value}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
      {props.help && <p className="field-help">{props.help}</p>}
    </div>
  );
}

export function NumberRow(props: {
  label: string;
  value: number | undefined;
  onChange: (v: number | undefined) => void;
  help?: string;
  min?: number;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        className="nodrag"
        type="number"
        min={props.min ?? 1}
        value={props.value ?? ''}
        onChange={(e) => props.onChange(e.target.value === '' ? undefined : e.target.valueAsNumber)}
      />
      {props.help && <p className="field-help">{props.help}</p>}
    </div>
  );
}

export function CheckRow(props: {
  label: string;
  checked: boolean;
  onChange: (v: boolean) => void;
  help?: string;
}) {
  const id = useId();
  return (
    <div className="field field-inline">
      <input
        id={id}
        className="nodrag"
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange(e.target.checked)}
      />
      <label htmlFor={id}>{props.label}</label>
      {props.help && <p className="field-help">{props.help}</p>}
    </div>
  );
}
