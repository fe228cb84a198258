// The files of a pipeline folder round-trip the document exactly: SQL in its own files (with the
// trailing newline convention), assertions named after themselves, keys in a stable order.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeCatalog } from './node-catalog.js';
import { contentHash, documentToFiles, readPipelineFolder, writePipelineFolder } from './pipeline-files.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tributary-files-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

// As the store returns it: JSONB key order (shortest first), which the YAML must not keep.
const stored = {
  id: 'quality',
  name: 'Quality',
  edges: [{ to: 'gate', from: 'rows' }],
  nodes: [
    {
      id: 'rows',
      type: 'source.generate',
      config: { rows: 3, columns: [{ generator: 'sequence', name: 'n' }] },
    },
    {
      id: 'gate',
      type: 'transform.assert',
      config: {
        assertions: [
          { sql: 'select * from {{ inputs.rows }} where n is null\n', name: 'n_not_null' },
          { sql: 'select 1 where false', name: 'never' },
        ],
      },
    },
    { id: 'shaped', type: 'transform.sql', config: { sql: 'select n\nfrom {{ inputs.gate }}' } },
  ],
  params: {},
  project: 'default',
  settings: { concurrency: 'allow', keepStaging: false, maxParallel: 4 },
  apiVersion: 'tributary/v1',
};

describe('pipeline folders', () => {
  it('puts each SQL text in its own file and reads back exactly the same document', async () => {
    const files = documentToFiles(stored, nodeCatalog);
    expect([...files.keys()].sort()).toEqual([
      'gate.n_not_null.sql',
      'gate.never.sql',
      'pipeline.yaml',
      'shaped.sql',
    ]);
    // One newline is added, so a trailing newline of the SQL itself survives the round trip.
    expect(files.get('gate.n_not_null.sql')).toBe('select * from {{ inputs.rows }} where n is null\n\n');
    expect(files.get('shaped.sql')).toBe('select n\nfrom {{ inputs.gate }}\n');
    const yaml = files.get('pipeline.yaml')!;
    expect(yaml.startsWith('apiVersion: tributary/v1\nid: quality\nname: Quality\n')).toBe(true);
    expect(yaml).toContain('- name: n_not_null\n          sql:\n            file: gate.n_not_null.sql');
    expect(yaml).toContain('  - from: rows\n    to: gate');
    expect(yaml).not.toContain('params');

    await writePipelineFolder(path.join(root, 'quality'), files);
    const local = await readPipelineFolder(root, 'quality');
    expect(local.problems).toEqual([]);
    expect(contentHash(local.document)).toBe(contentHash(stored));
    expect(local.fileOf('nodes[2].config.sql')).toBe(path.join('quality', 'shaped.sql'));
    expect(local.fileOf('nodes[0].config.rows')).toBe(path.join('quality', 'pipeline.yaml'));
    expect(local.lineOf('nodes[0].config.rows')).toBe(yaml.split('\n').indexOf('      rows: 3') + 1);
  });

  it('removes SQL files of nodes that are gone when the folder is written again', async () => {
    const folder = path.join(root, 'quality');
    await writePipelineFolder(folder, documentToFiles(stored, nodeCatalog));
    const fewer = { ...stored, nodes: stored.nodes.slice(0, 2), edges: stored.edges };
    await writePipelineFolder(folder, documentToFiles(fewer, nodeCatalog));
    await expect(readFile(path.join(folder, 'shaped.sql'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('names the pipeline.yaml line, node and field of a SQL file that is missing or outside the folder', async () => {
    const folder = path.join(root, 'quality');
    await writePipelineFolder(folder, documentToFiles(stored, nodeCatalog));
    const yaml = await readFile(path.join(folder, 'pipeline.yaml'), 'utf8');
    await writeFile(
      path.join(folder, 'pipeline.yaml'),
      yaml.replace('file: shaped.sql', 'file: gone.sql').replace('file: gate.never.sql', 'file: ../x.sql'),
    );
    const local = await readPipelineFolder(root, 'quality');
    expect(local.problems).toEqual([
      expect.objectContaining({
        file: path.join('quality', 'pipeline.yaml'),
        nodeId: 'gate',
        field: 'config.assertions.1.sql',
        message: expect.stringContaining('must name a .sql file in the same folder'),
      }),
      expect.objectContaining({
        file: path.join('quality', 'pipeline.yaml'),
        nodeId: 'shaped',
        field: 'config.sql',
        line: expect.any(Number),
        message: 'refers to gone.sql, which does not exist in quality/',
      }),
    ]);
  });

  it('reports a YAML syntax error with its line', async () => {
    await writePipelineFolder(path.join(root, 'bad'), new Map([['pipeline.yaml', 'id: bad\nnodes: [\n']]));
    const local = await readPipelineFolder(root, 'bad');
    expect(local.document).toBeUndefined();
    expect(local.problems[0]).toMatchObject({
      file: path.join('bad', 'pipeline.yaml'),
      line: expect.any(Number),
    });
  });
});
