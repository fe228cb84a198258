// The SQL field: CodeMirror with Postgres highlighting. It completes `{{ inputs.x }}` and
// `{{ params.x }}` as soon as `{{` is typed, and otherwise the columns of the node's input tables
// (as the schemas endpoint knows them) and the SQL words a transform needs — not every keyword of
// every dialect. The validator's SQL problems are drawn as squiggles at their line and column.
import type { Completion, CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { PostgreSQL } from '@codemirror/lang-sql';
import { setDiagnostics, type Diagnostic } from '@codemirror/lint';
import CodeMirror, { EditorState, EditorView } from '@uiw/react-codemirror';
import { useEffect, useMemo, useRef } from 'react';
import { codeHighlight } from '../components/code-highlight.ts';

export interface Column {
  name: string;
  type: string;
}

/** A problem in the SQL text, 1-based as the validator reports it. */
export interface SqlProblem {
  line: number;
  column?: number | undefined;
  message: string;
}

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

/** The SQL a transform over staged tables is written with; lang-sql's list has hundreds more. */
const SQL_WORDS = [
  'select',
  'from',
  'where',
  'group by',
  'order by',
  'having',
  'limit',
  'offset',
  'join',
  'left join',
  'inner join',
  'full join',
  'cross join',
  'on',
  'using',
  'as',
  'and',
  'or',
  'not',
  'in',
  'is null',
  'is not null',
  'between',
  'like',
  'ilike',
  'distinct',
  'case',
  'when',
  'then',
  'else',
  'end',
  'union all',
  'with',
  'over',
  'partition by',
  'asc',
  'desc',
  'true',
  'false',
  'null',
];
const SQL_FUNCTIONS = [
  'count',
  'sum',
  'avg',
  'min',
  'max',
  'coalesce',
  'nullif',
  'round',
  'lower',
  'upper',
  'trim',
  'length',
  'concat',
  'date_trunc',
  'extract',
  'now',
  'row_number',
  'rank',
  'lag',
  'lead',
  'string_agg',
  'array_agg',
  'cast',
];

/** Input columns first, then the SQL words, as the user types a word outside `{{ }}`. */
export function columnCompletions(columns: Readonly<Record<string, readonly Column[] | null>>) {
  const byName = new Map<string, { inputs: string[]; type: string }>();
  for (const [input, cols] of Object.entries(columns)) {
    for (const c of cols ?? []) {
      const seen = byName.get(c.name);
      if (seen) seen.inputs.push(input);
      else byName.set(c.name, { inputs: [input], type: c.type });
    }
  }
  const options: Completion[] = [
    ...[...byName].map(([name, { inputs, type }]) => ({
      label: name,
      detail: `${type} · ${inputs.join(', ')}`,
      type: 'property',
      boost: 10,
    })),
    ...SQL_WORDS.map((w) => ({ label: w, type: 'keyword' })),
    ...SQL_FUNCTIONS.map((f) => ({ label: f, type: 'function', apply: `${f}(` })),
  ];
  return (context: CompletionContext): CompletionResult | null => {
    if (context.matchBefore(/\{\{[^}]*$/)) return null;
    const word = context.matchBefore(/\w+/);
    if (!word && !context.explicit) return null;
    return { from: word?.from ?? context.pos, options, validFor: /^\w*$/ };
  };
}

/** Problems at 1-based line/column as CodeMirror ranges: the word at the column, or the whole line. */
export function diagnosticsFor(state: EditorState, problems: readonly SqlProblem[]): Diagnostic[] {
  return problems.flatMap((p) => {
    if (p.line < 1 || p.line > state.doc.lines) return [];
    const line = state.doc.line(p.line);
    if (!p.column) return [{ from: line.from, to: line.to, severity: 'error', message: p.message }];
    const from = Math.min(line.from + p.column - 1, line.to);
    const rest = state.sliceDoc(from, line.to);
    const length = /^\w+/.exec(rest)?.[0].length ?? Math.min(1, rest.length);
    return [{ from, to: from + length, severity: 'error' as const, message: p.message }];
  });
}

export default function SqlEditor(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  inputs: string[];
  params: string[];
  /** The input tables' columns, by input node id (null: not known yet). */
  columns?: Readonly<Record<string, readonly Column[] | null>>;
  problems?: readonly SqlProblem[];
}) {
  const { inputs, params, label, id } = props;
  const view = useRef<EditorView | null>(null);
  const columnsKey = JSON.stringify(props.columns ?? {});
  const extensions = useMemo(
    () => {
      // One function per source for the editor's life: CodeMirror tracks results by its identity.
      const placeholders = placeholderCompletions(inputs, params);
      const words = columnCompletions(props.columns ?? {});
      return [
        PostgreSQL.language,
        codeHighlight,
        EditorState.languageData.of(() => [{ autocomplete: placeholders }, { autocomplete: words }]),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': label, id }),
      ];
    },
    // Compared by content: a new array with the same ids must not rebuild the editor.
    [inputs.join(','), params.join(','), columnsKey, label, id],
  );
  const problemsKey = JSON.stringify(props.problems ?? []);
  useEffect(() => {
    // Also after the extensions change: reconfiguring the editor drops the diagnostics it had.
    const v = view.current;
    if (v) v.dispatch(setDiagnostics(v.state, diagnosticsFor(v.state, props.problems ?? [])));
  }, [problemsKey, extensions]);
  return (
    <div className="sql-editor nodrag nowheel">
      <CodeMirror
        value={props.value}
        onChange={props.onChange}
        extensions={extensions}
        onCreateEditor={(v) => {
          view.current = v;
          v.dispatch(setDiagnostics(v.state, diagnosticsFor(v.state, props.problems ?? [])));
        }}
        minHeight="120px"
        maxHeight="320px"
        basicSetup={{ lineNumbers: true, foldGutter: false, highlightActiveLine: false }}
      />
    </div>
  );
}
