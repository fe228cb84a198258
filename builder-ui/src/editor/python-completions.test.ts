import { CompletionContext } from '@codemirror/autocomplete';
import { EditorState } from '@codemirror/state';
import { describe, expect, it } from 'vitest';
import { pythonCompletions } from './PythonEditor.tsx';

const complete = pythonCompletions(['orders', 'users'], ['min'], {
  orders: [
    { name: 'id', type: 'bigint' },
    { name: 'total', type: 'numeric' },
  ],
  users: null,
});

function at(text: string) {
  const state = EditorState.create({ doc: text });
  return complete(new CompletionContext(state, text.length, false));
}

describe('Python editor completions', () => {
  it('offers the input tables and params as the code starts a word', () => {
    const result = at('df = inp');
    expect(result?.options.map((o) => o.label)).toEqual([
      'inputs["orders"]',
      'inputs["users"]',
      'params["min"]',
    ]);
    expect(result?.from).toBe(5);
  });

  it('offers the input columns inside a subscript string, with their input and type', () => {
    const result = at('df["to');
    expect(result?.options.map((o) => [o.label, o.detail])).toEqual([
      ['id', 'orders: bigint'],
      ['total', 'orders: numeric'],
    ]);
    expect(result?.from).toBe(4);
  });
});
