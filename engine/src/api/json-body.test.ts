import { describe, expect, it } from 'vitest';
import { checkJsonDepth, JsonTooDeepError } from './json-body.js';

const nested = (depth: number) => Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);

describe('the JSON depth check', () => {
  it('lets a body at the limit through and refuses one past it, naming the path', () => {
    expect(() => checkJsonDepth(nested(64), 64)).not.toThrow();
    const body = Buffer.from(
      JSON.stringify({ nodes: [{ id: 'x' }, { id: 'y', config: { 'odd key': [[[{ deep: 1 }]]] } }] }),
    );
    expect(() => checkJsonDepth(body, 5)).toThrow(new JsonTooDeepError('nodes[1].config["odd key"][0]', 5));
    expect(() => checkJsonDepth(nested(65), 64)).toThrow(/nests deeper than 64 levels at a\.a\.a/);
  });

  it('is not fooled by brackets, quotes and escapes inside strings', () => {
    const body = Buffer.from(JSON.stringify({ text: '[[[[{{{{"\\"\\\\', list: [1, '}', { k: ']' }] }));
    expect(() => checkJsonDepth(body, 3)).not.toThrow();
    expect(() => checkJsonDepth(body, 2)).toThrow(/at list\[2\]/);
  });

  it('refuses a body of 400,000 levels (what froze the API) without recursing', () => {
    // Memory is bounded by the limit, not the body: the scan keeps at most maxDepth frames.
    expect(() => checkJsonDepth(nested(400_000), 64)).toThrow(JsonTooDeepError);
  });
});
