import { describe, expect, it } from 'vitest';
import { configPath, fieldLabel, initialConfig, plainMessage, problemText } from './config.ts';

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
