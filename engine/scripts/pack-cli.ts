// Packs the `tributary` CLI as a package of its own, for a pipelines repository that is not a
// checkout of the platform: `npm run pack:cli` writes dist/cli/tributary-<version>.tgz, which
// `npm install ./tributary-<version>.tgz` takes. The CLI and everything it imports (the compiler,
// the connectors' config schemas, the SQL parser) are bundled into one file by esbuild, so the
// package has no dependencies to fetch and no tie to this source tree; the Postgres parser's
// WebAssembly goes beside it.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

export interface PackedCli {
  tarball: string;
  version: string;
}

export async function packCli(outDir = path.join(REPO, 'dist', 'cli')): Promise<PackedCli> {
  const root = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    version: string;
    license: string;
    engines: Record<string, string>;
  };
  const staging = path.join(outDir, 'package');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await build({
    entryPoints: [path.join(REPO, 'engine', 'src', 'cli', 'tributary.ts')],
    outfile: path.join(staging, 'tributary.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minifySyntax: true,
    legalComments: 'eof',
    define: { __TRIBUTARY_VERSION__: JSON.stringify(root.version) },
    // CommonJS dependencies bundled into an ES module still call require() and read __dirname (the
    // parser finds its .wasm there): give them both, for this file's own folder.
    banner: {
      js: [
        '#!/usr/bin/env node',
        "import { createRequire as __createRequire } from 'node:module';",
        "import { fileURLToPath as __fileURLToPath } from 'node:url';",
        'const require = __createRequire(import.meta.url);',
        'const __filename = __fileURLToPath(import.meta.url);',
        "const __dirname = __fileURLToPath(new URL('.', import.meta.url));",
      ].join('\n'),
    },
    logLevel: 'warning',
  });
  const wasm = path.join(
    path.dirname(require.resolve('libpg-query/package.json')),
    'wasm',
    'libpg-query.wasm',
  );
  copyFileSync(wasm, path.join(staging, 'libpg-query.wasm'));
  writeFileSync(
    path.join(staging, 'package.json'),
    `${JSON.stringify(
      {
        name: 'tributary',
        version: root.version,
        description: 'Tributary pipelines as code: pull, diff, validate, push and run pipelines from files',
        license: root.license,
        type: 'module',
        engines: root.engines,
        bin: { tributary: 'tributary.js' },
        files: ['tributary.js', 'libpg-query.wasm', 'README.md'],
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    path.join(staging, 'README.md'),
    [
      '# tributary',
      '',
      'The Tributary command line: keep a project’s pipelines as YAML and SQL files, validate them',
      'offline, push them to a Tributary server and run them.',
      '',
      '```bash',
      'npx tributary login --url http://localhost:3000 --token "$TOKEN"',
      'npx tributary pull --project default --dir pipelines',
      'npx tributary --help',
      '```',
      '',
      'Built from the platform’s sources by `npm run pack:cli`; see docs/guides/cli.md there.',
      '',
    ].join('\n'),
  );
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: staging, encoding: 'utf8' }),
  ) as { filename: string }[];
  return { tarball: path.join(outDir, packed[0]!.filename), version: root.version };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { tarball } = await packCli();
  console.log(`Packed ${path.relative(process.cwd(), tarball)}`);
  console.log(`Install it in a pipelines repository with: npm install ${tarball}`);
}
