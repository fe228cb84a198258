// The SQL field: CodeMirror with the Postgres dialect, completing `{{ inputs.x }}` for the node's
// upstream nodes and `{{ params.x }}` for the pipeline's params as soon as `{{` is typed.
import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { PostgreSQL, sql } from '@codemirror/lang-sql';
import CodeMirror, { EditorState, EditorView } from '@uiw/react-codemirror';
import { useMemo } from 'react';
import { codeHighlight } from '../components/code-highlight.ts';

export function placeholderCompletions(inputs: readonly string[], params: readonly string[]) {
  return (context: CompletionContext): CompletionResult | null => {
    const before = context.matchBefore(/\{\{\s*[\w.]*$/);
    if (!before) return null;
    const options: Completion[] = [
      ...inputs.map((id) => ({ label: `{{ inputs.${id} }}`, detail: 'input table', type: 'variable' })),
      ...params.map((p) => ({ label: `{{ params.${p} }}`, detail: 'run param', type: 'constant' })),
    ].map((option) => ({
      ...option,
      // closeBrackets may already have put `}}` after the cursor: replace it rather than doubling.
      apply: (view: EditorView, completion: Completion, from: number, to: number) => {
        const after = view.state.sliceDoc(to, to + 2);
        const end = to + (after === '}}' ? 2 : after.startsWith('}') ? 1 : 0);
        view.dispatch({
          changes: { from, to: end, insert: completion.label },
          selection: { anchor: from + completion.label.length },
        });
      },
    }));
    // Filtered here (CodeMirror's fuzzy matcher drops labels that start with braces): the word
    // typed after `{{` must start the name, or the kind (`inputs.`, `params.`).
    const typed = before.text.replace(/^\{\{\s*/, '');
    const matching = options.filter((o) => {
      const inner = o.label.slice(3, -3);
      return inner.startsWith(typed) || inner.split('.')[1]!.startsWith(typed);
    });
    return matching.length ? { from: before.from, options: matching, filter: false } : null;
  };
}

export default function SqlEditor(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  inputs: string[];
  params: string[];
}) {
  const { inputs, params, label, id } = props;
  const extensions = useMemo(
    () => {
      // One function for the editor's life: CodeMirror tracks a source's results by its identity.
      const placeholders = placeholderCompletions(inputs, params);
      return [
        sql({ dialect: PostgreSQL, upperCaseKeywords: false }),
        codeHighlight,
        EditorState.languageData.of(() => [{ autocomplete: placeholders }]),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': label, id }),
      ];
    },
    // Arrays compared by content: a new array with the same ids must not rebuild the editor.
    [inputs.join(','), params.join(','), label, id],
  );
  return (
    <div className="sql-editor nodrag nowheel">
      <CodeMirror
        value={props.value}
        onChange={props.onChange}
        extensions={extensions}
        minHeight="120px"
        maxHeight="320px"
        basicSetup={{ lineNumbers: true, foldGutter: false, highlightActiveLine: false }}
      />
    </div>
  );
}
