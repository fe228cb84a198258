// Nothing outside a connector's folder names a connector type: lineage, the catalog, the sink target
// view, the editor and the CLI read declarations (node-type.ts), so a connector added by one folder
// and one registry line is known everywhere. A switch on a type string or a kind prefix anywhere
// else fails this test, naming the file and line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { registry } from '@tributary/activities';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
/** The platform's code; templates, tests, benchmarks and docs may name connectors. */
const SOURCES = ['activities/src', 'engine/src', 'engine/scripts', 'builder-ui/src', 'bin'];
/** A connector's own folder: activities/src/<kind>/<name>/ (flow/<name>/ for the deciding nodes). */
const CONNECTOR_FOLDER = /^activities\/src\/(source|transform|sink|flow)\/[^/]+\//;
const ALLOWED = new Set(['activities/src/registry.ts']);
const isTest = (file: string) => /\.test\.tsx?$/.test(file);

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(path.join(root, rel)).isDirectory()) yield* files(rel);
    else if (/\.(ts|tsx|js|mjs)$/.test(name)) yield rel;
  }
}

/** Every quoted mention of a registered type, and every kind prefix a type could be switched on. */
function mentions(): RegExp {
  const names = registry.map((d) => d.type.replace(/\./g, '\\.'));
  const prefixes = ['source', 'transform', 'sink', 'flow'].map((k) => `${k}\\.`);
  return new RegExp(`['"\`](${[...names, ...prefixes].join('|')})(['"\`]|$)|['"\`](${names.join('|')})\\b`);
}

describe('connector type names', () => {
  it('appear only in connector folders, the registry, templates, tests and docs', () => {
    const pattern = mentions();
    const found: string[] = [];
    for (const dir of SOURCES) {
      for (const file of files(dir)) {
        if (CONNECTOR_FOLDER.test(file) || ALLOWED.has(file) || isTest(file)) continue;
        readFileSync(path.join(root, file), 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (pattern.test(line)) found.push(`${file}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(found).toEqual([]);
  });

  it('catches a switch on a type string or a kind prefix', () => {
    const pattern = mentions();
    expect(pattern.test(`    case 'sink.postgres': {`)).toBe(true);
    expect(pattern.test(`if (node.type.startsWith('source.')) {`)).toBe(true);
    expect(pattern.test('/** e.g. `transform.sql` */')).toBe(true);
    expect(pattern.test('const table = source.table;')).toBe(false);
  });
});
