// A saved version is compiled once per catalogue for its validity, however often it is read.
import { describe, expect, it } from 'vitest';
import type { NodeCatalog } from '../compiler/compile.js';
import { activityCatalog } from './node-catalog.js';
import { versionValidity } from './pipeline-compile.js';

const document = {
  apiVersion: 'tributary/v1',
  id: 'counted',
  name: 'Counted',
  nodes: [
    {
      id: 'g',
      type: 'source.generate',
      config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    { id: 'bad', type: 'source.generate', config: { rows: -1 } },
  ],
};

/** The activities' catalogue, counting how often compiling looks a node type up. */
function countingCatalog() {
  const counted = { lookups: 0 };
  const catalog: NodeCatalog = {
    get: (type) => {
      counted.lookups += 1;
      return activityCatalog.get(type);
    },
  };
  return { catalog, counted };
}

describe('versionValidity', () => {
  it('compiles a version once and gives the same validity on every read', () => {
    const { catalog, counted } = countingCatalog();
    const first = versionValidity({ versionHash: 'h1', document }, catalog);
    const lookups = counted.lookups;
    expect(lookups).toBeGreaterThan(0);
    expect(first.valid).toBe(false);
    expect(first.errors.map((e) => e.nodeId)).toContain('bad');
    for (let i = 0; i < 5; i++) expect(versionValidity({ versionHash: 'h1', document }, catalog)).toBe(first);
    expect(counted.lookups).toBe(lookups);
    // Another version, or another catalogue, is compiled on its own.
    versionValidity({ versionHash: 'h2', document }, catalog);
    expect(counted.lookups).toBe(lookups * 2);
    expect(versionValidity({ versionHash: 'h1', document }, countingCatalog().catalog)).not.toBe(first);
  });
});
