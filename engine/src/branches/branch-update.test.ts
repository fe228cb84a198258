// What bringing a branch up to date does with each kind of pipeline, and which choices it refuses.
import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidError } from '../errors.js';
import type { Pipeline } from '../model/pipeline.schema.js';
import type { MainAndBranch } from '../store/branches.store.js';
import { classify, planUpdate } from './branch-update.js';

const doc = (id: string, rows: number) =>
  ({
    apiVersion: 'tributary/v1',
    id,
    name: id,
    project: 'p',
    nodes: [{ id: 'g', type: 'source.generate', config: { rows } }],
    edges: [],
  }) as unknown as Pipeline;

const row = (over: Partial<MainAndBranch> & { pipelineId: string }): MainAndBranch => ({
  inBranch: true,
  baseVersion: 1,
  own: null,
  revision: 1,
  mainVersion: 1,
  mainDocument: doc(over.pipelineId, 1),
  ...over,
});

describe('classify', () => {
  it('sorts pipelines into what follows main and what changed on both sides', () => {
    const preview = classify([
      row({ pipelineId: 'same' }),
      row({ pipelineId: 'moved', mainVersion: 3, mainDocument: doc('moved', 3) }),
      row({ pipelineId: 'new-on-main', inBranch: false, baseVersion: null, revision: null }),
      row({ pipelineId: 'gone', mainVersion: null, mainDocument: null }),
      row({ pipelineId: 'branch-only', own: doc('branch-only', 9), revision: 2 }),
      row({
        pipelineId: 'made-in-branch',
        baseVersion: null,
        own: doc('made-in-branch', 1),
        mainVersion: null,
        mainDocument: null,
      }),
      row({
        pipelineId: 'same-change',
        own: doc('same-change', 5),
        revision: 2,
        mainVersion: 2,
        mainDocument: doc('same-change', 5),
      }),
      row({
        pipelineId: 'both',
        own: doc('both', 7),
        revision: 3,
        mainVersion: 2,
        mainDocument: doc('both', 2),
      }),
      row({
        pipelineId: 'deleted-but-changed',
        own: doc('deleted-but-changed', 7),
        revision: 2,
        mainVersion: null,
        mainDocument: null,
      }),
      row({ pipelineId: 'id-taken', baseVersion: null, own: doc('id-taken', 4), mainVersion: 1 }),
    ]);
    expect(preview.upToDate).toBe(false);
    expect(preview.changes).toEqual([
      { pipelineId: 'moved', change: 'updated', baseVersion: 1, mainVersion: 3 },
      { pipelineId: 'new-on-main', change: 'added', baseVersion: null, mainVersion: 1 },
      { pipelineId: 'gone', change: 'removed', baseVersion: 1, mainVersion: null },
      { pipelineId: 'same-change', change: 'updated', baseVersion: 1, mainVersion: 2 },
    ]);
    expect(
      preview.conflicts.map((c) => [c.pipelineId, c.baseVersion, c.mainVersion, c.branchVersion]),
    ).toEqual([
      ['both', 1, 2, 3],
      ['deleted-but-changed', 1, null, 2],
      ['id-taken', null, 1, 1],
    ]);
    expect(preview.conflicts[0]!.diff.nodes.changed).toEqual([
      expect.objectContaining({
        id: 'g',
        changes: [expect.objectContaining({ path: 'config.rows', from: 2, to: 7 })],
      }),
    ]);
  });

  it('is up to date when main has not moved', () => {
    expect(classify([row({ pipelineId: 'a' }), row({ pipelineId: 'b', own: doc('b', 3) })])).toEqual({
      upToDate: true,
      changes: [],
      conflicts: [],
    });
  });
});

describe('planUpdate', () => {
  const preview = classify([
    row({ pipelineId: 'moved', mainVersion: 3 }),
    row({
      pipelineId: 'both',
      own: doc('both', 7),
      revision: 3,
      mainVersion: 2,
      mainDocument: doc('both', 2),
    }),
    row({ pipelineId: 'gone', own: doc('gone', 7), revision: 2, mainVersion: null, mainDocument: null }),
  ]);

  it('refuses (409) while a conflict has no choice or one made over another main version', () => {
    expect(() => planUpdate(preview, {})).toThrow(ConflictError);
    let refused: unknown;
    try {
      planUpdate(preview, {
        both: { take: 'branch', mainVersion: 1 },
        gone: { take: 'main', mainVersion: null },
      });
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(ConflictError);
    expect((refused as ConflictError).errors).toEqual([
      expect.objectContaining({ path: 'choices.both', code: 'stale_choice' }),
    ]);
  });

  it('refuses (400) a choice for a pipeline not in conflict, and keeping a copy main deleted', () => {
    expect(() =>
      planUpdate(preview, {
        both: { take: 'branch', mainVersion: 2 },
        gone: { take: 'branch', mainVersion: null },
        moved: { take: 'main', mainVersion: 3 },
      }),
    ).toThrow(InvalidError);
  });

  it('turns the changes and the choices into steps', () => {
    const planned = planUpdate(preview, {
      both: { take: 'branch', mainVersion: 2 },
      gone: { take: 'main', mainVersion: null },
    });
    expect(planned.steps).toEqual([
      { pipelineId: 'moved', action: 'take-main', mainVersion: 3 },
      { pipelineId: 'both', action: 'keep-branch', mainVersion: 2 },
      { pipelineId: 'gone', action: 'remove' },
    ]);
    expect(planned.applied.map((a) => [a.pipelineId, a.change])).toEqual([
      ['moved', 'updated'],
      ['both', 'kept-branch'],
      ['gone', 'took-main'],
    ]);
  });
});
