import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchemaDigest, stepConfig } from './config-schema.js';

/** A schema that counts how often it parses. */
function counting() {
  const counter = { parses: 0 };
  const schema = z.preprocess(
    (value) => {
      counter.parses++;
      return value;
    },
    z.object({ path: z.string(), header: z.boolean().default(true) }),
  );
  return { schema, counter };
}

describe('a step config', () => {
  it('is used as the plan carries it when the plan names this schema', () => {
    const { schema, counter } = counting();
    const config = { path: 'a.csv', header: false };
    const found = stepConfig(schema, config, configSchemaDigest(schema)!);
    expect(found).toEqual({ success: true, data: config });
    expect(counter.parses).toBe(0);
  });

  it('is parsed again, defaults and all, when the plan is from before digests or from another schema', () => {
    const { schema, counter } = counting();
    expect(stepConfig(schema, { path: 'a.csv' }, undefined)).toEqual({
      success: true,
      data: { path: 'a.csv', header: true },
    });
    expect(stepConfig(schema, { path: 'a.csv' }, '0123456789abcdef')).toEqual({
      success: true,
      data: { path: 'a.csv', header: true },
    });
    expect(counter.parses).toBe(2);
  });

  it('names the field at fault when a config parsed again no longer fits', () => {
    const { schema } = counting();
    const found = stepConfig(schema, { path: 3 }, undefined);
    expect(found.success).toBe(false);
    expect(!found.success && found.issues[0]!.path).toEqual(['path']);
  });
});
