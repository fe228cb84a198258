import { describe, expect, it } from 'vitest';
import { configPath, fieldLabel, initialConfig, plainMessage, problemText, valueAt } from './config.ts';

describe('initialConfig', () => {
  it('starts a new node with the values its declaration marks x-initial, not its defaults', () => {
    const schema = {
      type: 'object',
      properties: {
        table: { type: 'string' },
        mode: { type: 'string', enum: ['append', 'replace'], default: 'append', 'x-initial': 'replace' },
      },
    };
    expect(initialConfig(schema)).toEqual({ mode: 'replace' });
    expect(initialConfig(undefined)).toEqual({});
  });
});

describe('plain messages', () => {
  it('says a missing field is required, in the words of its label', () => {
    expect(plainMessage('Invalid input: expected string, received undefined', 'SQL')).toBe('SQL is required');
    expect(
      problemText({
        message: 'Invalid input: expected string, received undefined',
        path: 'nodes[1].config.sql',
      }),
    ).toBe('SQL is required');
    expect(
      problemText({
        message: 'Too small: expected string to have >=1 characters',
        path: 'nodes[0].config.table',
      }),
    ).toBe('Table is required');
  });

  it('names list items by their place and keeps messages that are already plain', () => {
    expect(fieldLabel('columns[1].name')).toBe('Column 2 name');
    expect(configPath('nodes[3].config.columns[0].name')).toBe('columns[0].name');
    expect(configPath('nodes[3].config')).toBeNull();
    expect(problemText({ message: 'has no input: connect a node to it', path: 'nodes[3]' })).toBe(
      'has no input: connect a node to it',
    );
    expect(plainMessage('Invalid input: expected number, received string', 'Rows')).toBe(
      'Rows must be a number, not text',
    );
  });
});

it("drops the compiler's node-and-field preamble beside the field", () => {
  expect(
    problemText({
      message: 'Node "generate", field "columns": Invalid input: expected array, received undefined',
      path: 'nodes[0].config.columns',
    }),
  ).toBe('Columns is required');
});

it('reads the value at a config path, through lists', () => {
  const config = { columns: [{ name: 'id' }, { name: 'colour', values: ['red'] }], rows: 5 };
  expect(valueAt(config, 'rows')).toBe(5);
  expect(valueAt(config, 'columns[1].name')).toBe('colour');
  expect(valueAt(config, 'columns[1].values[0]')).toBe('red');
  expect(valueAt(config, 'columns[4].name')).toBeUndefined();
  expect(valueAt(undefined, 'rows')).toBeUndefined();
});

it('keeps where in the SQL a problem is, without the node', () => {
  expect(plainMessage('Node "q", line 2, column 14: Syntax error at or near {{ inputs.o }}', 'SQL')).toBe(
    'Line 2, column 14: Syntax error at or near {{ inputs.o }}',
  );
});
