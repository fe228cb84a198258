// Development branches as a user meets them: make a branch in the header's switcher, see its
// changes (SQL before and after, the tables it wrote against main's row counts), merge it into
// main with a rebuild, have a merge refused with the conflicts listed, and delete a branch. And
// bring a branch up to date with main: the editor's toolbar in the branch says what save, run and
// merge do there; "Update from main" shows a pipeline changed on both sides with both versions, the
// user keeps the branch's, and the merge that was refused then goes through.
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
  {
    name: "updates a branch from main: both versions of a pipeline changed on both sides, keep the branch's, then merge",
    async run(ctx) {
      const { page } = ctx;
      const project = `brup${stamp()}`;
      const both = `${project}-both`;
      const mainOnly = `${project}-main`;
      const later = `${project}-later`;
      await apiCall(ctx, 'POST', '/projects', { id: project, name: project });
      await apiCall(ctx, 'POST', '/pipelines', tally(both, project, ''));
      await apiCall(ctx, 'POST', '/pipelines', tally(mainOnly, project, ''));

      await signIn(ctx);
      await makeBranch(ctx, project, 'catch-up');
      await apiCall(ctx, 'PUT', `/pipelines/${both}?branch=catch-up`, tally(both, project, ' where n > 4'));
      await apiCall(ctx, 'PUT', `/pipelines/${both}`, tally(both, project, ' where n > 1'));
      await apiCall(ctx, 'PUT', `/pipelines/${mainOnly}`, tally(mainOnly, project, ' where n < 3'));
      await apiCall(ctx, 'POST', '/pipelines', tally(later, project, ''));

      // In the branch the toolbar says what a save, a run and a merge do there, and offers no
      // Publish or Discard (a branch has no draft): the server's workspace says so.
      await page.goto(`${ctx.baseUrl}/pipelines/${both}`);
      const toolbar = page.locator('header.toolbar');
      await toolbar.getByRole('note', { name: 'In branch catch-up' }).waitFor();
      await waitForText(toolbar.getByRole('status', { name: 'In branch catch-up' }), 'main untouched');
      assert.equal(await toolbar.getByRole('button', { name: 'Publish' }).count(), 0);
      assert.equal(await toolbar.getByRole('button', { name: 'Discard draft' }).count(), 0);
      assert.match(
        (await toolbar.getByRole('button', { name: 'Run', exact: true }).getAttribute('title')) ?? '',
        /Runs branch catch-up's copy/,
      );
      await toolbar.getByRole('link', { name: 'Review and merge the branch' }).click();
      await page.getByRole('heading', { name: /Branch catch-up/ }).waitFor();

      const update = page.getByRole('region', { name: 'Update from main' });
      await update.getByRole('button', { name: 'Update from main' }).click();
      const conflict = update.getByRole('group', { name: `Conflict ${both}` });
      await waitForText(conflict, 'main is at version 2, the branch started from version 1');
      await waitForText(conflict.getByLabel(`Main version of ${both}`), 'where n > 1');
      await waitForText(conflict.getByLabel(`Branch version of ${both}`), 'where n > 4');
      // Nothing is applied until every conflict has a choice.
      assert.equal(await update.getByRole('button', { name: 'Apply update' }).isDisabled(), true);
      assert.equal(
        (await apiCall<{ version: number }>(ctx, 'GET', `/pipelines/${mainOnly}?branch=catch-up`)).version,
        1,
      );
      await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'branch-update.png'), fullPage: true });
      await conflict.getByRole('radio', { name: /Keep the branch's version/ }).check();
      await update.getByRole('button', { name: 'Apply update' }).click();
      const updated = update.getByRole('list', { name: 'Updated from main' });
      await waitForText(updated, `${mainOnly}: took main's latest version`);
      await waitForText(updated, `${later}: made on main, now in the branch`);
      await waitForText(updated, `${both}: kept the branch's version, now over main's latest`);

      type View = {
        version: number;
        document: { nodes: { config: { sql?: string } }[] };
        branch: { baseVersion: number };
      };
      const copy = await apiCall<View>(ctx, 'GET', `/pipelines/${both}?branch=catch-up`);
      assert.match(copy.document.nodes[1]!.config.sql ?? '', /n > 4/);
      assert.equal(copy.branch.baseVersion, 2);
      const followed = await apiCall<View>(ctx, 'GET', `/pipelines/${mainOnly}?branch=catch-up`);
      assert.match(followed.document.nodes[1]!.config.sql ?? '', /n < 3/);
      await apiCall(ctx, 'GET', `/pipelines/${later}?branch=catch-up`);

      // The diff shows no conflict any more, and the merge goes through with the branch's version.
      await waitForText(page.getByRole('listitem', { name: `Pipeline ${both}` }), 'from main version 2');
      await page.getByRole('button', { name: 'Merge into main' }).click();
      await waitForText(page.getByRole('list', { name: 'Merged' }), `${both}: main version 3`);
      const main = await apiCall<View>(ctx, 'GET', `/pipelines/${both}`);
      assert.match(main.document.nodes[1]!.config.sql ?? '', /n > 4/);
    },
  },
];
