// The browser-test runner: starts one real stack and one Chromium, runs every scenario of every
// `*.e2e.ts` file here in a fresh page, and ends with "N passed, N failed" (exit 1 on any failure).
// `npm run test:e2e [-- <scenario or file name filter>]`; E2E_BASE_URL and E2E_TOKEN point it at a stack already running.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchBrowser } from './browser.ts';
import type { Scenario } from './helpers.ts';
import { startStack } from './stack.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2]?.toLowerCase();

async function main(): Promise<number> {
  const scenarios: { file: string; scenario: Scenario }[] = [];
  for (const file of readdirSync(here)
    .filter((f) => f.endsWith('.e2e.ts'))
    .sort()) {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as { scenarios: Scenario[] };
    for (const scenario of mod.scenarios) {
      // The filter picks scenarios by name, or every scenario of the files whose name has it.
      if (!filter || scenario.name.toLowerCase().includes(filter) || file.includes(filter))
        scenarios.push({ file, scenario });
    }
  }
  if (scenarios.length === 0) {
    console.log('No scenario matches.');
    console.log('0 passed, 1 failed');
    return 1;
  }
  const artifacts = path.join(here, '..', '..', 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  for (const stale of readdirSync(artifacts, { withFileTypes: true }).filter((f) =>
    f.name.startsWith('failed-'),
  ))
    rmSync(path.join(artifacts, stale.name), { force: true });
  const started = Date.now();
  console.log(`Starting the stack for ${scenarios.length} scenarios…`);
  let stack;
  try {
    stack = await startStack();
  } catch (error) {
    console.log(`✗ the stack did not start: ${(error as Error).message}`);
    console.log(`0 passed, ${scenarios.length} failed`);
    return 1;
  }
  console.log(`Stack up at ${stack.baseUrl} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const browser = await launchBrowser();
  let passed = 0;
  let failed = 0;
  try {
    for (const { file, scenario } of scenarios) {
      const t0 = Date.now();
      const { page, problems, close } = await browser.newPage();
      try {
        await scenario.run({ page, baseUrl: stack.baseUrl, token: stack.token, dataDir: stack.dataDir });
        if (problems.length) throw new Error(`the page reported problems:\n    ${problems.join('\n    ')}`);
        passed++;
        console.log(`✓ ${file} › ${scenario.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (error) {
        failed++;
        const shot = path.join(
          here,
          '..',
          '..',
          'test-artifacts',
          `failed-${scenario.name.replace(/\W+/g, '-')}.png`,
        );
        await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
        console.log(`✗ ${file} › ${scenario.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
        console.log(
          `    ${((error as Error).stack ?? String(error)).split('\n').slice(0, 8).join('\n    ')}`,
        );
        console.log(`    screenshot: ${path.relative(process.cwd(), shot)}`);
      } finally {
        await close();
      }
    }
  } finally {
    await browser.close();
    await stack.stop();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.log(error.stack ?? error.message);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
