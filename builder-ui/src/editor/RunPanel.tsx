// The run views inside the editor: the params form that starts a run, and the bottom panel with the
// live run (progress bar, each step's status, rows, duration and full error, cancel, a link to the
// run in Temporal's UI) and a paged preview of any step's output.
import { useEffect, useId, useState } from 'react';
import { Api, messageOf } from '../api/client.ts';
import { DataTable } from '../components/DataTable.tsx';
import {
  Dialog,
  ErrorBox,
  formatBytes,
  formatDuration,
  formatNumber,
  Link,
  Loading,
  StatusBadge,
  temporalRunUrl,
} from '../components/ui.tsx';
import type { NodeKind, ParamSpec } from '../model/types.ts';
import { runDurationMs, runVersionLabel } from '../model/run-facts.ts';
import { isFinished, type Preview, type RunDetail, type StepProgress } from '../api/types.ts';

export function ParamInput(props: {
  name: string;
  spec: ParamSpec;
  value: unknown;
  onChange: (v: unknown) => void;
}) {
  const id = useId();
  const { spec } = props;
  const label = `${props.name}${spec.required && spec.default === undefined ? ' *' : ''}`;
  let control;
  if (spec.type === 'boolean') {
    control = (
      <input
        id={id}
        type="checkbox"
        checked={props.value === true}
        onChange={(e) => props.onChange(e.target.checked)}
      />
    );
  } else {
    const type =
      spec.type === 'number' || spec.type === 'integer'
        ? 'number'
        : spec.type === 'date'
          ? 'date'
          : spec.type === 'timestamp'
            ? 'datetime-local'
            : spec.sensitive
              ? 'password'
              : 'text';
    control = (
      <input
        id={id}
        type={type}
        value={props.value === undefined || props.value === null ? '' : String(props.value)}
        placeholder={spec.default !== undefined ? `default: ${String(spec.default)}` : undefined}
        onChange={(e) => {
          const raw = e.target.value;
          if (raw === '') return props.onChange(undefined);
          if (type === 'number') return props.onChange(e.target.valueAsNumber);
          if (type === 'datetime-local') return props.onChange(new Date(raw).toISOString());
          props.onChange(raw);
        }}
      />
    );
  }
  return (
    <div className={`field${spec.type === 'boolean' ? ' field-inline' : ''}`}>
      {spec.type !== 'boolean' && <label htmlFor={id}>{label}</label>}
      {control}
      {spec.type === 'boolean' && <label htmlFor={id}>{label}</label>}
      <p className="field-help">
        {spec.type}
        {spec.description ? ` — ${spec.description}` : ''}
      </p>
    </div>
  );
}

export function RunDialog(props: {
  params: Record<string, ParamSpec>;
  dirty: boolean;
  onClose: () => void;
  onStart: (params: Record<string, unknown>) => Promise<void>;
}) {
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const names = Object.keys(props.params);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const params = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
      await props.onStart(params);
    } catch (e) {
      setError(messageOf(e));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Run pipeline"
      onClose={props.onClose}
      footer={
        <>
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={busy} onClick={() => void start()}>
            {busy ? 'Starting…' : 'Start run'}
          </button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void start();
        }}
      >
        {names.length === 0 ? (
          <p className="muted">This pipeline has no params.</p>
        ) : (
          names.map((name) => (
            <ParamInput
              key={name}
              name={name}
              spec={props.params[name]!}
              value={values[name]}
              onChange={(v) => setValues({ ...values, [name]: v })}
            />
          ))
        )}
        {props.dirty && (
          <p className="muted">
            Runs the draft as the editor shows it; no version is made (Publish makes one).
          </p>
        )}
        {error && <ErrorBox error={error} />}
        <button type="submit" hidden aria-hidden="true" tabIndex={-1} />
      </form>
    </Dialog>
  );
}

/** A step's duration by the server's timestamps; only a running step counts on with the clock. */
export function stepDurationMs(
  step: Pick<StepProgress, 'startedAt' | 'endedAt'> & { status?: string },
  now = Date.now(),
): number | null {
  if (!step.startedAt) return null;
  if (step.endedAt) return Date.parse(step.endedAt) - Date.parse(step.startedAt);
  if (step.status !== undefined && step.status !== 'running') return null;
  return Math.max(0, now - Date.parse(step.startedAt));
}

export function RunPanel(props: {
  run: RunDetail | null;
  runId: string;
  order: string[];
  error: string | null;
  onClose: () => void;
  onFocusNode: (id: string) => void;
  temporalUi?: string;
  temporalNamespace?: string;
  kinds?: Record<string, NodeKind>;
  /** Starts a re-run of the failed steps (and what follows them), reusing the rest. */
  onRerunFailed?: () => void;
}) {
  const { run } = props;
  const [cancelling, setCancelling] = useState(false);
  const [, tick] = useState(0);
  useEffect(() => {
    if (isFinished(run?.status)) return;
    const timer = window.setInterval(() => tick((n) => n + 1), 1000);
    return () => window.clearInterval(timer);
  }, [run?.status]);
  const steps = run?.steps ?? {};
  const ids = [
    ...props.order.filter((id) => steps[id]),
    ...Object.keys(steps).filter((id) => !props.order.includes(id)),
  ];
  const done = ids.filter((id) => !['pending', 'running'].includes(steps[id]!.status)).length;
  const percent = ids.length ? Math.round((done / ids.length) * 100) : 0;
  const cancel = async () => {
    setCancelling(true);
    try {
      await Api.cancelRun(props.runId);
    } catch (e) {
      window.alert(messageOf(e));
      setCancelling(false);
    }
  };
  return (
    <section className="run-panel" aria-label="Run">
      <header className="run-header">
        <h3>
          Run <code>{props.runId}</code>
        </h3>
        {run && (
          <span className={`run-of${run.draft ? ' run-of-draft' : ''}`} aria-label="Ran">
            {runVersionLabel(run)}
          </span>
        )}
        {run ? (
          <StatusBadge status={run.status} label={`Run status: ${run.status.replace(/_/g, ' ')}`} />
        ) : null}
        <div
          className="progress"
          role="progressbar"
          aria-label="Run progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
        >
          <div
            className={`progress-bar status-${run?.status ?? 'running'}`}
            style={{ width: `${percent}%` }}
          />
        </div>
        <span className="muted small">
          {done}/{ids.length} steps ·{' '}
          <span aria-label="Run duration">{formatDuration(run ? runDurationMs(run) : null)}</span>
        </span>
        <span className="spacer" />
        {run && !isFinished(run.status) && (
          <button type="button" className="danger" disabled={cancelling} onClick={() => void cancel()}>
            {cancelling ? 'Cancelling…' : 'Cancel run'}
          </button>
        )}
        {run?.status === 'failed' && props.onRerunFailed && (
          <button type="button" className="primary" onClick={props.onRerunFailed}>
            ↻ Re-run failed
          </button>
        )}
        <a
          href={temporalRunUrl(props.runId, props.temporalUi, props.temporalNamespace)}
          target="_blank"
          rel="noreferrer"
        >
          Open in Temporal
        </a>
        <Link to={`/runs/${encodeURIComponent(props.runId)}`}>Run details</Link>
        <button type="button" className="icon-button" aria-label="Close run panel" onClick={props.onClose}>
          ×
        </button>
      </header>
      {props.error && <ErrorBox error={props.error} />}
      {!run && !props.error && <Loading what="the run" />}
      {run && (
        <StepsTable
          runId={props.runId}
          steps={run.steps ?? {}}
          order={props.order}
          onFocusNode={props.onFocusNode}
          kinds={props.kinds}
        />
      )}
    </section>
  );
}

export function StepsTable(props: {
  runId: string;
  steps: Record<string, StepProgress>;
  order: string[];
  onFocusNode?: (id: string) => void;
  /** Node kinds by id, when known: sinks write no staging table, so they have no preview. */
  kinds?: Record<string, NodeKind>;
}) {
  const { steps } = props;
  const [previewOf, setPreviewOf] = useState<string | null>(null);
  const ids = [
    ...props.order.filter((id) => steps[id]),
    ...Object.keys(steps).filter((id) => !props.order.includes(id)),
  ];
  return (
    <div className="run-body">
      <table className="steps-table" aria-label="Steps">
        <thead>
          <tr>
            <th>Step</th>
            <th>Status</th>
            <th>Attempt</th>
            <th>Rows in</th>
            <th>Rows out</th>
            <th>Size</th>
            <th>Duration</th>
            <th>Output</th>
          </tr>
        </thead>
        <tbody>
          {ids.map((id) => (
            <StepRow
              key={id}
              id={id}
              step={steps[id]!}
              onFocus={props.onFocusNode ? () => props.onFocusNode!(id) : undefined}
              onPreview={
                props.kinds?.[id] === 'sink' ? undefined : () => setPreviewOf(previewOf === id ? null : id)
              }
              previewing={previewOf === id}
            />
          ))}
        </tbody>
      </table>
      {previewOf && (
        <PreviewTable runId={props.runId} nodeId={previewOf} onClose={() => setPreviewOf(null)} />
      )}
    </div>
  );
}

function StepRow(props: {
  id: string;
  step: StepProgress;
  onFocus: (() => void) | undefined;
  onPreview: (() => void) | undefined;
  previewing: boolean;
}) {
  const { step, id } = props;
  return (
    <>
      <tr className={`step-row status-row-${step.status}`}>
        <td>
          {props.onFocus ? (
            <button
              type="button"
              className="link-button"
              onClick={props.onFocus}
              aria-label={`Show ${id} on the canvas`}
            >
              {id}
            </button>
          ) : (
            <code>{id}</code>
          )}
        </td>
        <td>
          <StatusBadge status={step.status} label={`${id}: ${step.status}`} />
        </td>
        <td>{step.attempt || '—'}</td>
        <td>{formatNumber(step.rowsIn)}</td>
        <td>{formatNumber(step.rowsOut)}</td>
        <td>{formatBytes(step.bytes)}</td>
        <td>{formatDuration(stepDurationMs(step))}</td>
        <td>
          {(step.status === 'succeeded' || step.status === 'reused') && props.onPreview && (
            <button
              type="button"
              aria-pressed={props.previewing}
              onClick={props.onPreview}
              aria-label={`Preview output of ${id}`}
            >
              Preview
            </button>
          )}
        </td>
      </tr>
      {step.error && (
        <tr className="step-error-row">
          <td colSpan={8}>
            <pre className="step-error" aria-label={`Error of ${id}`}>
              {step.error}
            </pre>
          </td>
        </tr>
      )}
    </>
  );
}

const PAGE = 50;

export function PreviewTable(props: { runId: string; nodeId: string; onClose?: () => void }) {
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setError(null);
    Api.preview(props.runId, props.nodeId, PAGE, offset)
      .then((p) => live && setPage(p))
      .catch((e: unknown) => live && setError(messageOf(e)));
    return () => {
      live = false;
    };
  }, [props.runId, props.nodeId, offset]);
  return (
    <section className="preview" aria-label={`Preview of ${props.nodeId}`}>
      <header className="preview-header">
        <h4>
          Output of <code>{props.nodeId}</code>
        </h4>
        {page && (
          <span className="muted small">
            rows {page.rows.length ? offset + 1 : 0}–{offset + page.rows.length}
            {page.hasMore ? '+' : ''}
          </span>
        )}
        <span className="spacer" />
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          Previous page
        </button>
        <button type="button" disabled={!page?.hasMore} onClick={() => setOffset(offset + PAGE)}>
          Next page
        </button>
        {props.onClose && (
          <button type="button" className="icon-button" aria-label="Close preview" onClick={props.onClose}>
            ×
          </button>
        )}
      </header>
      {error && <ErrorBox error={error} />}
      {!page && !error && <Loading what="rows" />}
      {page && !error && (
        <div className="table-scroll">
          <DataTable
            label={`Rows of ${props.nodeId}`}
            columns={page.columns}
            rows={page.rows}
            offset={offset}
          />
          {page.rows.length === 0 && <p className="muted">The step produced no rows.</p>}
        </div>
      )}
    </section>
  );
}
