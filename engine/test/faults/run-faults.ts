// `npm run test:faults [-- --repeat N] [vitest args]`: the fault suite (vitest.faults.config.ts).
// --repeat N runs the worker-kill scenario N times (FAULTS_REPEAT) and reports any divergence.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const env = { ...process.env };
const at = args.indexOf('--repeat');
if (at !== -1) {
  const n = Number(args[at + 1]);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write('--repeat needs a whole number of rounds, e.g. --repeat 5\n');
    process.exit(2);
  }
  env.FAULTS_REPEAT = String(n);
  args.splice(at, 2);
}
const run = spawnSync('npx', ['vitest', 'run', '-c', 'vitest.faults.config.ts', ...args], {
  stdio: 'inherit',
  env,
});
process.exit(run.status ?? 1);
