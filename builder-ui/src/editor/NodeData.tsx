// What a node did in the run on screen and the data around it, as n8n's node view has it: the
// step's status, rows, duration and full error in the config panel, and a wide view with the node's
// input (its inputs' columns, and their rows in the run) on the left and its output (columns and
// preview) on the right. What the right-hand side shows is the node type's declaration (the
// catalogue's `view`): a sink writes no staging table, so it shows the rows it was handed, labelled
// so, and the table it publishes into as it is now when it declares one.
import { useEffect, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import type { NodeSchema, SinkTarget } from '../api/types.ts';
import { DataTable } from '../components/DataTable.tsx';
import { Dialog, formatDuration, formatNumber, StatusBadge } from '../components/ui.tsx';
import { upstreamOf } from '../model/flow.ts';
import { useCatalog } from '../store/catalog.ts';
import { useEditor, visibleStep } from '../store/editor.ts';
import { PreviewTable, stepDurationMs } from './RunPanel.tsx';

export function NodeRunSummary(props: {
  id: string;
  runId: string | null;
  /** Starts a re-run of the run on screen from this node; absent while it is running. */
  onRunFromHere?: (() => void) | undefined;
}) {
  const step = useEditor((s) => visibleStep(s, props.id));
  const stale = useEditor((s) => !!s.runSteps[props.id] && !visibleStep(s, props.id));
  if (!props.runId) return null;
  return (
    <section className="node-run-summary" aria-label={`Last run of ${props.id}`}>
      <h3>Last run</h3>
      {stale && (
        <p className="muted small">Edited since this run: its result no longer describes this node.</p>
      )}
      {!stale && !step && <p className="muted small">Not run yet in this run.</p>}
      {step && (
        <>
          <p className="node-run-line">
            <StatusBadge status={step.status} label={`${props.id} in the last run: ${step.status}`} />
            <span>{formatNumber(step.rowsOut)} rows</span>
            <span>{formatDuration(stepDurationMs(step))}</span>
            {step.attempt > 1 && <span>attempt {step.attempt}</span>}
          </p>
          {step.reusedFrom && (
            <p className="muted small">
              Not run: the output of run <code>{step.reusedFrom}</code> was reused, as this node and its
              inputs are unchanged.
            </p>
          )}
          {step.error && (
            <pre className="step-error" role="alert" aria-label={`Run error of ${props.id}`}>
              {step.error}
            </pre>
          )}
        </>
      )}
      {props.onRunFromHere && (
        <button
          type="button"
          onClick={props.onRunFromHere}
          title="A new run of this node and everything after it; the steps before it reuse this run's outputs"
        >
          ▶ Run from here
        </button>
      )}
    </section>
  );
}

/** A Postgres sink's target table as it is now (GET …/nodes/{nodeId}/target): rows and a sample. */
function TargetTable(props: { pipelineId: string; nodeId: string }) {
  const [target, setTarget] = useState<SinkTarget | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    Api.sinkTarget(props.pipelineId, props.nodeId)
      .then(setTarget)
      .catch((e: unknown) => setError(messageOf(e)));
  }, [props.pipelineId, props.nodeId]);
  if (error) return <p className="muted small">The target table cannot be read: {error}</p>;
  if (!target) return <p className="muted small">Reading the target table…</p>;
  if (!target.exists)
    return (
      <p className="muted small">{target.table} does not exist yet: the first run that publishes makes it.</p>
    );
  return (
    <section aria-label={`Target table of ${props.nodeId}`}>
      <h4>
        <code>{target.table}</code> now: {formatNumber(target.rowCount)} rows
      </h4>
      <div className="table-scroll">
        <DataTable label={`Sample of ${target.table}`} columns={target.columns} rows={target.rows} />
      </div>
    </section>
  );
}

/** A node's columns as the schemas endpoint knows them, and where from. */
function ColumnsTable(props: { of: string; schema: NodeSchema | undefined }) {
  const { schema } = props;
  if (!schema) return <p className="muted small">Columns of {props.of}: working them out…</p>;
  if (!schema.columns)
    return (
      <p className="muted small">
        Columns of {props.of} are not known yet{schema.message ? `: ${schema.message}` : ''}.
      </p>
    );
  return (
    <table className="data-table schema-table" aria-label={`Columns of ${props.of}`}>
      <caption className="muted small">
        {schema.source === 'run' ? `as run ${schema.runId ?? ''} left them` : 'inferred without running'}
        {schema.message ? ` (${schema.message})` : ''}
      </caption>
      <thead>
        <tr>
          <th scope="col">Column</th>
          <th scope="col">Type</th>
        </tr>
      </thead>
      <tbody>
        {schema.columns.map((c) => (
          <tr key={c.name}>
            <td>{c.name}</td>
            <td className="col-type">{c.type}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function NodeDataDialog(props: {
  id: string;
  runId: string | null;
  schemas: Record<string, NodeSchema> | null;
  onClose: () => void;
}) {
  const upstream = useEditor((s) => upstreamOf(props.id, s.edges).join(','));
  const steps = useEditor((s) => s.runSteps);
  const pipelineId = useEditor((s) => s.meta.id);
  const nodeType = useEditor((s) => s.nodes.find((n) => n.id === props.id)?.data.type);
  // The node type's declaration says what its data view shows (GET /api/connectors `view`).
  const view = useCatalog((s) => (nodeType ? s.byType.get(nodeType)?.view : undefined));
  const inputs = upstream ? upstream.split(',') : [];
  const { runId } = props;
  const ran = (id: string) => !!runId && ['succeeded', 'reused'].includes(steps[id]?.status ?? '');
  const schemaOf = (id: string) => props.schemas?.[id];
  return (
    <Dialog title={`Data of ${props.id}`} onClose={props.onClose} wide>
      <div className="node-data">
        <section className="node-data-side" aria-label={`Input of ${props.id}`}>
          <h3>Input</h3>
          {inputs.length === 0 && <p className="muted">A source has no input.</p>}
          {inputs.map((input) => (
            <div key={input} className="node-data-input">
              <h4>
                <code>{input}</code>
              </h4>
              <ColumnsTable of={input} schema={schemaOf(input)} />
              {ran(input) && runId ? (
                <PreviewTable runId={runId} nodeId={input} />
              ) : (
                <p className="muted small">
                  No rows of {input} in {runId ? 'this run' : 'a run yet'}.
                </p>
              )}
            </div>
          ))}
        </section>
        <section className="node-data-side" aria-label={`Output of ${props.id}`}>
          <h3>{view?.rows === 'input' ? 'Rows sent to the target' : 'Output'}</h3>
          {view?.rows === 'input' ? (
            <>
              {view.target && <TargetTable pipelineId={pipelineId} nodeId={props.id} />}
              <p className="muted small">
                The rows it was handed by {inputs.map((i) => `“${i}”`).join(', ') || 'its input'} in this run;
                its step reports {formatNumber(steps[props.id]?.rowsOut ?? null)} rows written.
              </p>
              {runId &&
                inputs.filter(ran).map((input) => <PreviewTable key={input} runId={runId} nodeId={input} />)}
            </>
          ) : (
            <>
              <ColumnsTable of={props.id} schema={schemaOf(props.id)} />
              {ran(props.id) && runId ? (
                <PreviewTable runId={runId} nodeId={props.id} />
              ) : (
                <p className="muted">
                  {runId
                    ? 'No output: the step did not succeed in this run.'
                    : 'No output yet: run the pipeline.'}
                </p>
              )}
            </>
          )}
        </section>
      </div>
    </Dialog>
  );
}
