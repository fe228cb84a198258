// What a node did in the run on screen and the data around it, as n8n's node view has it: the
// step's status, rows, duration and full error in the config panel, and a wide view with the node's
// input on the left and its output preview on the right. A sink writes no staging table, and no
// endpoint reads the target table itself, so a sink's right-hand side is the rows it was handed
// (its input's output), labelled as such.
import { useState } from 'react';
import { Dialog, formatDuration, formatNumber, StatusBadge } from '../components/ui.tsx';
import { upstreamOf } from '../model/flow.ts';
import { useEditor, visibleStep } from '../store/editor.ts';
import { PreviewTable, stepDurationMs } from './RunPanel.tsx';

export function NodeRunSummary(props: { id: string; runId: string | null }) {
  const step = useEditor((s) => visibleStep(s, props.id));
  const stale = useEditor((s) => !!s.runSteps[props.id] && !visibleStep(s, props.id));
  const [viewing, setViewing] = useState(false);
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
          {step.error && (
            <pre className="step-error" role="alert" aria-label={`Run error of ${props.id}`}>
              {step.error}
            </pre>
          )}
        </>
      )}
      <button type="button" onClick={() => setViewing(true)} aria-label={`Open data of ${props.id}`}>
        Input and output
      </button>
      {viewing && <NodeDataDialog id={props.id} runId={props.runId} onClose={() => setViewing(false)} />}
    </section>
  );
}

function NodeDataDialog(props: { id: string; runId: string; onClose: () => void }) {
  const upstream = useEditor((s) => upstreamOf(props.id, s.edges).join(','));
  const kind = useEditor((s) => s.nodes.find((n) => n.id === props.id)?.type);
  const steps = useEditor((s) => s.runSteps);
  const inputs = upstream ? upstream.split(',') : [];
  const ran = (id: string) => steps[id]?.status === 'succeeded';
  return (
    <Dialog title={`Data of ${props.id}`} onClose={props.onClose} wide>
      <div className="node-data">
        <section className="node-data-side" aria-label={`Input of ${props.id}`}>
          <h3>Input</h3>
          {inputs.length === 0 && <p className="muted">A source has no input.</p>}
          {inputs.map((input) =>
            ran(input) ? (
              <PreviewTable key={input} runId={props.runId} nodeId={input} />
            ) : (
              <p key={input} className="muted">
                <code>{input}</code> has no output in this run.
              </p>
            ),
          )}
        </section>
        <section className="node-data-side" aria-label={`Output of ${props.id}`}>
          <h3>{kind === 'sink' ? 'Rows sent to the target' : 'Output'}</h3>
          {kind === 'sink' ? (
            <>
              <p className="muted small">
                A sink keeps no copy of what it wrote, and the target table is not read from here: these are
                the rows it was handed by {inputs.map((i) => `“${i}”`).join(', ') || 'its input'} in this run;
                its step reports {formatNumber(steps[props.id]?.rowsOut ?? null)} rows written.
              </p>
              {inputs.filter(ran).map((input) => (
                <PreviewTable key={input} runId={props.runId} nodeId={input} />
              ))}
            </>
          ) : ran(props.id) ? (
            <PreviewTable runId={props.runId} nodeId={props.id} />
          ) : (
            <p className="muted">No output: the step did not succeed in this run.</p>
          )}
        </section>
      </div>
    </Dialog>
  );
}
