// The Python field of transform.python: CodeMirror with Python highlighting. It completes the input
// tables as `inputs["<node>"]`, the run's params as `params["<name>"]`, and the input tables'
// columns (as the schemas endpoint knows them) as quoted names, so `df["` offers the columns.
import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { python } from '@codemirror/lang-python';
import CodeMirror, { EditorState, EditorView } from '@uiw/react-codemirror';
import { useMemo } from 'react';
import { codeHighlight } from '../components/code-highlight.ts';
import type { Column } from './SqlEditor.tsx';

/** `inputs["x"]`, `params["x"]` and `"column"` completions for the code over the step's inputs. */
export function pythonCompletions(
  inputs: readonly string[],
  params: readonly string[],
  columns: Readonly<Record<string, readonly Column[] | null>>,
) {
  const names: Completion[] = [
    ...inputs.map((id) => ({ label: `inputs["${id}"]`, detail: 'input table', type: 'variable' })),
    ...params.map((p) => ({ label: `params["${p}"]`, detail: 'run param', type: 'constant' })),
  ];
  const seen = new Set<string>();
  const quoted: Completion[] = [];
  for (const [input, list] of Object.entries(columns)) {
    for (const column of list ?? []) {
      if (seen.has(column.name)) continue;
      seen.add(column.name);
      quoted.push({ label: column.name, detail: `${input}: ${column.type}`, type: 'property' });
    }
  }
  return (context: CompletionContext): CompletionResult | null => {
    // Inside a string after `[`: the column names.
    const inString = context.matchBefore(/\[\s*["'][\w ]*$/);
    if (inString) {
      const start = inString.text.search(/["']/) + 1;
      return quoted.length ? { from: inString.from + start, options: quoted, validFor: /^[\w ]*$/ } : null;
    }
    const word = context.matchBefore(/[\w]+/);
    if (!word && !context.explicit) return null;
    return { from: word?.from ?? context.pos, options: names, validFor: /^\w*$/ };
  };
}

const BASIC_SETUP = { lineNumbers: true, foldGutter: false, highlightActiveLine: false };

export default function PythonEditor(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  inputs: string[];
  params: string[];
  columns?: Readonly<Record<string, readonly Column[] | null>>;
}) {
  const { inputs, params, label, id } = props;
  const columnsKey = JSON.stringify(props.columns ?? {});
  const extensions = useMemo(
    () => {
      const complete = pythonCompletions(inputs, params, props.columns ?? {});
      return [
        python(),
        codeHighlight,
        EditorState.languageData.of(() => [{ autocomplete: complete }]),
        EditorView.contentAttributes.of({ 'aria-label': label, id }),
      ];
    },
    // Compared by content: a new array with the same ids must not rebuild the editor.
    [inputs.join(','), params.join(','), columnsKey, label, id],
  );
  return (
    <div className="sql-editor python-editor nodrag nowheel">
      <CodeMirror
        value={props.value}
        onChange={props.onChange}
        extensions={extensions}
        minHeight="160px"
        maxHeight="420px"
        basicSetup={BASIC_SETUP}
      />
    </div>
  );
}
