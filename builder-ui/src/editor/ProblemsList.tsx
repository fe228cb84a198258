// The problems panel: every compile error, a click on one focuses its node; and the download of
// a pipeline document as JSON (the editor's and the pipeline list's).
import { problemText } from '../model/config.ts';
import type { PipelineDocument } from '../model/types.ts';
import { useEditor } from '../store/editor.ts';

export function ProblemsList(props: { onFocus: (id: string) => void }) {
  const problems = useEditor((s) => s.problems);
  const nodeCount = useEditor((s) => s.nodes.length);
  if (problems.length === 0) {
    return (
      <p className="muted problems-empty">
        {nodeCount ? 'No problems: this pipeline compiles.' : 'Add nodes to begin.'}
      </p>
    );
  }
  return (
    <ul className="problems" aria-label="Problems">
      {problems.map((p, i) => (
        <li key={i}>
          {p.nodeId ? (
            <button
              type="button"
              className="problem"
              onClick={() => props.onFocus(p.nodeId!)}
              aria-label={`Problem in ${p.nodeId}: ${problemText(p)}`}
            >
              <span className="problem-node">{p.nodeId}</span> {problemText(p)}
            </button>
          ) : (
            <span className="problem">{problemText(p)}</span>
          )}
        </li>
      ))}
    </ul>
  );
}

export function downloadJson(doc: PipelineDocument) {
  const blob = new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${doc.id}.pipeline.json`;
  a.click();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}
