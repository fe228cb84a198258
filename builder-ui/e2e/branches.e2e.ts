// Development branches as a user meets them: make a branch in the header's switcher, see its
// changes (SQL before and after, the tables it wrote against main's row counts), merge it into
// main with a rebuild, have a merge refused with the conflicts listed, and delete a branch.
import assert from 'node:assert/strict';
import path from 'node:path';
import { apiCall, runToEnd, signIn, waitForText, type Scenario, type ScenarioContext } from './helpers.ts';
import { REPO } from './stack.ts';

const stamp = () => Date.now().toString(36);

const tally = (id: string, project: string, where: string) => ({
  apiVersion: 'tributary/v1',
  id,
  name: 'Tally',
  project,
  nodes: [
    {
      id: 'g',
      type: 'source.generate',
      config: { rows: 6, columns: [{ name: 'n', generator: 'sequence' }] },
    },
    { id: 'kept', type: 'transform.sql', config: { sql: `select n from {{ inputs.g }}${where}` } },
    { id: 'out', type: 'sink.postgres', config: { table: 'tally', mode: 'replace' } },
  ],
  edges: [
    { from: 'g', to: 'kept' },
    { from: 'kept', to: 'out' },
  ],
});

async function runInBranch(ctx: ScenarioContext, id: string, branch: string): Promise<string> {
  const started = await apiCall<{ runId: string }>(ctx, 'POST', `/pipelines/${id}/runs?branch=${branch}`, {});
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const run = await apiCall<{ status: string }>(ctx, 'GET', `/runs/${started.runId}`);
    if (run.status !== 'running') return run.status;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`Run ${started.runId} did not end within 90 s`);
}

async function makeBranch(ctx: ScenarioContext, project: string, name: string): Promise<void> {
  const switcher = ctx.page.getByRole('region', { name: 'Branch' });
  await switcher.getByLabel('Branch project').selectOption(project);
  await switcher.getByLabel('New branch name').fill(name);
  await switcher.getByRole('button', { name: 'Make branch' }).click();
  await waitForText(switcher, `On ${name} of ${project}`);
}

export const scenarios: Scenario[] = [
  {
    name: 'makes a branch in the header, shows its changes against main, merges it and refuses a conflicting merge',
    async run(ctx) {
      const { page } = ctx;
      const project = `brui${stamp()}`;
      const id = `${project}-tally`;
      await apiCall(ctx, 'POST', '/projects', { id: project, name: project });
      await apiCall(ctx, 'POST', '/pipelines', tally(id, project, ''));
      assert.equal((await runToEnd(ctx, id, {})).status, 'succeeded');

      await signIn(ctx);
      await makeBranch(ctx, project, 'odd-only');
      // The pipelines list is the branch's now.
      await waitForText(page.getByRole('main'), id);
      await apiCall(ctx, 'PUT', `/pipelines/${id}?branch=odd-only`, tally(id, project, ' where n % 2 = 1'));
      assert.equal(await runInBranch(ctx, id, 'odd-only'), 'succeeded');

      await page.getByRole('region', { name: 'Branch' }).getByRole('link', { name: 'Changes' }).click();
      await page.getByRole('heading', { name: /Branch odd-only/ }).waitFor();
      const change = page.getByRole('listitem', { name: `Pipeline ${id}` });
      await waitForText(change, 'from main version 1');
      await waitForText(change.getByLabel('SQL of kept'), 'where n % 2 = 1');
      const tables = page.getByRole('table', { name: 'Tables the branch wrote' });
      await waitForText(tables, `${project}.tally`);
      const row = tables.getByRole('row').filter({ hasText: 'tally' });
      assert.deepEqual(
        (await row.getByRole('cell').allTextContents()).slice(1),
        ['3', '6'],
        'the branch has 3 rows, main still 6',
      );
      await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'branch-diff.png'), fullPage: true });

      await page.getByLabel('Run the merged pipelines on main').check();
      await page.getByRole('button', { name: 'Merge into main' }).click();
      const merged = page.getByRole('list', { name: 'Merged' });
      await waitForText(merged, `${id}: main version 2`);
      await merged.getByRole('link', { name: 'run on main' }).waitFor();
      const main = await apiCall<{ version: number; document: { nodes: { config: { sql?: string } }[] } }>(
        ctx,
        'GET',
        `/pipelines/${id}`,
      );
      assert.equal(main.version, 2);
      assert.match(main.document.nodes[1]!.config.sql ?? '', /n % 2 = 1/);
      await waitForText(
        page.getByRole('region', { name: 'Changed pipelines' }),
        'No pipeline differs from main',
      );

      // A second branch whose pipeline main changes meanwhile: the merge is refused, listing it.
      await makeBranch(ctx, project, 'conflicted');
      await apiCall(ctx, 'PUT', `/pipelines/${id}?branch=conflicted`, tally(id, project, ' where n > 4'));
      await apiCall(ctx, 'PUT', `/pipelines/${id}`, tally(id, project, ' where n > 1'));
      await page.getByRole('region', { name: 'Branch' }).getByRole('link', { name: 'Changes' }).click();
      await page.getByRole('heading', { name: /Branch conflicted/ }).waitFor();
      await waitForText(page.getByRole('listitem', { name: `Pipeline ${id}` }), 'conflict');
      await page.getByRole('button', { name: 'Merge into main' }).click();
      await waitForText(
        page.getByRole('list', { name: 'Conflicts' }),
        `pipeline "${id}" changed on main since the branch was made`,
      );
      await page.screenshot({
        path: path.join(REPO, 'test-artifacts', 'branch-conflict.png'),
        fullPage: true,
      });
      assert.equal((await apiCall<{ version: number }>(ctx, 'GET', `/pipelines/${id}`)).version, 3);

      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Delete branch' }).click();
      await page.waitForURL(/\/pipelines$/);
      await page.getByRole('heading', { name: 'Pipelines', exact: true }).waitFor();
      assert.equal(
        await page.getByRole('region', { name: 'Branch' }).getByLabel('Branch', { exact: true }).inputValue(),
        '',
      );
      const left = await apiCall<{ items: { name: string }[] }>(ctx, 'GET', `/projects/${project}/branches`);
      assert.deepEqual(
        left.items.map((b) => b.name),
        ['odd-only'],
      );
    },
  },
];
