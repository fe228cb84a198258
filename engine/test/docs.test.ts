// The documentation against the repository: the README's architecture map names folders that exist,
// every `npm run X` the README, CONTRIBUTING.md and docs/ tell a reader to run is a script, the
// configuration reference lists every variable the environment schema reads, and the CLI reference
// shows what `tributary --help` prints.
// (Dead links are the docs build's to find: `npm run docs:build`.)
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

function markdownFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name.startsWith('.') ? [] : markdownFiles(file);
    return entry.name.endsWith('.md') && !entry.name.endsWith('.gen.md') ? [file] : [];
  });
}

/** The fenced block under `## Architecture`: one `folder/   what it is` per line. */
function architectureMap(readme: string): string[] {
  const section = readme.split(/^## Architecture$/m)[1]?.split(/^## /m)[0] ?? '';
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.split(/\s{2,}/)[0]!.trim())
    .filter(Boolean);
}

describe('the documentation', () => {
  it("README's architecture map names only folders that exist", () => {
    const folders = architectureMap(read('README.md'));
    expect(folders.length).toBeGreaterThanOrEqual(8);
    const missing = folders.filter((folder) => !existsSync(path.join(root, folder)));
    expect(missing).toEqual([]);
  });

  it('README stays a front door: at most 200 lines', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(200);
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: object }).scripts);
    const files = ['README.md', 'CONTRIBUTING.md', ...markdownFiles('docs')];
    const named = files.flatMap((file) =>
      [...read(file).matchAll(/npm run ([\w:-]+)/g)].map((m) => ({ file, script: m[1]! })),
    );
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((n) => !scripts.includes(n.script))).toEqual([]);
  });

  it('configuration reference lists every environment variable config/env.ts reads', () => {
    const variables = [...read('engine/src/config/env.ts').matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map(
      (m) => m[1]!,
    );
    expect(variables.length).toBeGreaterThan(20);
    const reference = read('docs/reference/configuration.md');
    expect(variables.filter((name) => !reference.includes(`\`${name}\``))).toEqual([]);
  });

  it("CLI reference shows what 'tributary --help' prints", () => {
    const printed = execFileSync(process.execPath, [path.join(root, 'bin/tributary.js'), '--help'], {
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '80' },
    });
    const shown = /\$ npx tributary --help\n([\s\S]*?)```/.exec(read('docs/reference/cli.md'))?.[1];
    expect(shown).toBe(printed);
  });
});
