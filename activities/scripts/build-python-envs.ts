// Builds the Python environments the tests and templates pin, once, into .tributary/python (or
// $TRIBUTARY_HOME/python), so that no test's time limit includes an install. CI runs it before
// `npm test`; an environment already built is kept. Usage: npx tsx activities/scripts/build-python-envs.ts
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ensureEnvironment } from '../src/python/environment.js';
import { parseRequirements } from '../src/python/requirements.js';

// The gallery's GitHub, Stripe and HubSpot templates are checked against their connectors' real
// specs (engine/test/connector-templates.int.test.ts), so their environments are built here too.
const SETS = [
  ['pandas==2.2.3'],
  ['airbyte-source-faker==6.2.32'],
  ['tap-jsonl==0.3.1'],
  ['tap-spreadsheets==1.1.2'],
  ['airbyte-source-github==2.7.1'],
  ['airbyte-source-stripe==5.14.1'],
  ['airbyte-source-hubspot==5.7.0'],
];

/** The environment's size on disk (uv links files from its cache, so this counts them once here). */
function sizeMb(dir: string): number {
  const out = execFileSync('du', ['-sm', dir], { encoding: 'utf8' });
  return Number(out.split(/\s/)[0]);
}

const home = path.resolve(process.env.TRIBUTARY_HOME ?? '.tributary', 'python');
for (const set of SETS) {
  const started = Date.now();
  const env = await ensureEnvironment(
    {
      home,
      python: process.env.TRIBUTARY_PYTHON ?? 'python3',
      ...(process.env.TRIBUTARY_PYTHON_INDEX_URL ? { indexUrl: process.env.TRIBUTARY_PYTHON_INDEX_URL } : {}),
    },
    parseRequirements(set, 'requirements'),
    'requirements',
    () => {},
  );
  console.log(
    `${set.join(' ')}: ${env.built ? `built in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'cached'} (${env.dir}, ${sizeMb(env.dir)} MB)`,
  );
}
