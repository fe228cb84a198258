// The screens around the editor: runs list and run detail, version history with diff and
// rollback, project secrets offered in a node's secret picker, problems that focus their node, and
// the template gallery's empty state.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  apiCall,
  node,
  pressRun,
  runToEnd,
  samplePipeline,
  signIn,
  waitForCount,
  waitForText,
  type Scenario,
} from './helpers.ts';
import { REPO } from './stack.ts';

const unique = (stem: string) => `${stem}-${Date.now().toString(36)}`;

export const scenarios: Scenario[] = [
  {
    name: 'lists a finished run and shows its timeline, params and actor',
    async run(ctx) {
      const { page } = ctx;
      const id = unique('runs');
      await apiCall(ctx, 'POST', '/pipelines', samplePipeline(id));
      const { runId, status } = await runToEnd(ctx, id, { factor: 7 });
      assert.equal(status, 'succeeded');

      await signIn(ctx);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Runs' }).click();
      await page.getByLabel('Pipeline').selectOption(id);
      const row = page.getByRole('table', { name: 'Runs' }).getByRole('row', { name: `Run ${runId}` });
      await waitForText(row, 'succeeded');
      await row.getByRole('link', { name: runId }).click();

      await page.getByRole('heading', { name: `Run ${runId}` }).waitFor();
      await page.getByLabel('Run status: succeeded').waitFor();
      await waitForText(page.getByRole('table', { name: 'Run params' }), '7');
      await waitForText(page.getByLabel('Run facts'), 'token:admin');
      const bars = page.getByRole('list', { name: 'Step timeline' }).getByRole('listitem');
      await waitForCount(bars, 2);
      assert.match((await bars.nth(0).getAttribute('aria-label')) ?? '', /^gen: succeeded, /);
      assert.match((await bars.nth(1).getAttribute('aria-label')) ?? '', /^scaled: succeeded, /);
      await page.getByRole('button', { name: 'Preview output of scaled' }).click();
      const rows = page.getByRole('table', { name: 'Rows of scaled' });
      await waitForCount(rows.locator('tbody tr'), 3);
      assert.deepEqual(await rows.locator('tbody tr').nth(2).locator('td').allTextContents(), ['3', '21']);
    },
  },
  {
    name: 'shows a side-by-side diff of two versions and rolls back to the first',
    async run(ctx) {
      const { page } = ctx;
      const id = unique('history');
      const v1 = samplePipeline(id);
      await apiCall(ctx, 'POST', '/pipelines', v1);
      const v2 = structuredClone(v1);
      v2.nodes[0]!.config.rows = 9;
      await apiCall(ctx, 'PUT', `/pipelines/${id}`, v2);

      await signIn(ctx);
      await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
      await page.getByRole('status', { name: 'Published, version 2' }).waitFor();
      await page.getByRole('button', { name: 'Version history' }).click();
      const dialog = page.getByRole('dialog', { name: 'Version history' });
      const diff = dialog.getByRole('table', { name: 'Side-by-side diff' });
      await diff.waitFor();
      const changed = diff.locator('.diff-changed');
      await waitForCount(changed, 1);
      assert.deepEqual(
        (await changed.locator('pre').allTextContents()).map((t) => t.trim()),
        ['"rows": 3', '"rows": 9'],
      );
      await waitForText(
        dialog.getByRole('list', { name: 'Summary of changes' }),
        'Changed node gen: config.rows',
      );

      await dialog.getByRole('button', { name: 'Restore version 1' }).click();
      // Nothing is restored before the user says yes; Cancel leaves the editor as it was.
      const confirm = dialog.getByRole('alertdialog', { name: 'Restore version 1?' });
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      assert.equal(await confirm.count(), 0);
      await page.getByRole('status', { name: 'Published, version 2' }).waitFor();
      await dialog.getByRole('button', { name: 'Restore version 1' }).click();
      await confirm.getByRole('button', { name: 'Yes, restore v1' }).click();
      await page.getByRole('status', { name: 'Published, version 3' }).waitFor();
      await node(page, 'gen').locator('.node-header').click();
      assert.equal(await page.getByRole('spinbutton', { name: 'Rows', exact: true }).inputValue(), '3');
    },
  },
  {
    name: "offers the project's secrets in a node's secret picker, by name only",
    async run(ctx) {
      const { page } = ctx;
      const secret = `e2e_db_${Date.now().toString(36)}`;
      const id = unique('secrets');
      await signIn(ctx);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      const form = page.getByRole('form', { name: 'Set a secret' });
      await form.getByLabel('Secret name').fill(secret);
      await form.getByLabel('Secret value').fill('postgres://user:pw@localhost/db');
      await form.getByRole('button', { name: 'Set secret' }).click();
      await waitForText(page.getByRole('table', { name: 'Secrets' }), secret);
      assert.ok(!(await page.content()).includes('user:pw'), 'the value is never shown');

      const doc = samplePipeline(id);
      doc.nodes.push({
        id: 'out',
        type: 'sink.postgres',
        config: { table: 'public.out' } as never,
        position: { x: 600, y: 0 },
      });
      doc.edges.push({ from: 'scaled', to: 'out' });
      await apiCall(ctx, 'POST', '/pipelines', doc);
      await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
      await node(page, 'out').locator('.node-header').click();
      const picker = page.getByRole('combobox', { name: 'Connection', exact: true });
      await picker.selectOption(secret);
      // The choice is kept in the pipeline's draft a moment later.
      await page.getByRole('status', { name: 'Draft saved' }).waitFor();
    },
  },
  {
    name: 'lists validation problems and focuses the node of a problem when it is clicked',
    async run(ctx) {
      const { page } = ctx;
      const id = unique('problems');
      const doc = samplePipeline(id);
      doc.nodes[1]!.config = { sql: 'select * from {{ inputs.nowhere }}' };
      await apiCall(ctx, 'POST', '/pipelines', doc);
      await signIn(ctx);
      await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
      // The drawer under the canvas is a bar of tabs until opened; its tab counts the problems.
      const tab = page.getByRole('tab', { name: /Problems/ });
      await waitForText(tab, /Problems \([1-9]/);
      await tab.click();
      const problem = page.getByRole('button', { name: /^Problem in scaled: / });
      await problem.waitFor();
      assert.match((await problem.textContent()) ?? '', /nowhere/);
      await node(page, 'scaled')
        .getByLabel(/problem/)
        .waitFor();
      await problem.click();
      await page.getByRole('complementary', { name: 'Configuration of scaled' }).waitFor();
    },
  },
  {
    name: 'shows the template gallery, or a friendly empty state when the server has none',
    async run(ctx) {
      const { page } = ctx;
      const response = await fetch(`${ctx.baseUrl}/api/templates`, {
        headers: { Authorization: `Bearer ${ctx.token}` },
      });
      await signIn(ctx);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
      if (response.status === 404) {
        await page.getByRole('heading', { name: 'No templates on this server yet' }).waitFor();
        await page.getByRole('link', { name: 'Go to pipelines' }).click();
        await page.getByRole('heading', { name: 'Pipelines', exact: true }).waitFor();
      } else {
        assert.equal(response.status, 200);
        // A template that reads no secret: one that does is covered in gallery.e2e.ts.
        const card = page
          .getByRole('list', { name: 'Templates' })
          .locator('.template-card')
          .filter({ hasNot: page.locator('.need-secret') })
          .first();
        await card.getByRole('button', { name: /^Use template / }).click();
        const dialog = page.getByRole('dialog', { name: /^Use template: / });
        const id = unique('from-template');
        await dialog.getByLabel('New pipeline id').fill(id);
        await dialog.getByRole('button', { name: 'Fill with examples' }).click();
        await dialog.getByRole('button', { name: 'Create pipeline' }).click();
        await page.getByRole('status', { name: 'Published, version 1' }).waitFor();
        assert.equal(new URL(page.url()).pathname, `/pipelines/${id}`);
        assert.ok((await page.locator('.react-flow__node').count()) > 0, 'the template made nodes');
      }
    },
  },
];

scenarios.push({
  name: 'makes a pipeline from the CSV template and runs it to the end',
  async run(ctx) {
    const { page } = ctx;
    assert.ok(ctx.dataDir, 'this scenario writes the template CSV into the stack data dir (E2E_DATA_DIR)');
    // The template's own fixture, at the path its example values name.
    mkdirSync(path.join(ctx.dataDir, 'imports'), { recursive: true });
    copyFileSync(
      path.join(REPO, 'templates/csv-to-table/fixtures/customers.csv'),
      path.join(ctx.dataDir, 'imports/customers.csv'),
    );
    await signIn(ctx);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
    await page.getByLabel('Search templates').fill('csv');
    const card = page
      .getByRole('list', { name: 'Templates' })
      .getByRole('listitem')
      .filter({ hasText: 'CSV file to a clean table' })
      .first();
    await card.getByRole('button', { name: /^Use template / }).click();
    const dialog = page.getByRole('dialog', { name: /^Use template: / });
    const id = unique('csv-template');
    await dialog.getByLabel('New pipeline id').fill(id);
    await dialog.getByRole('button', { name: 'Fill with examples' }).click();
    await dialog.getByRole('button', { name: 'Create pipeline' }).click();
    await page.getByRole('status', { name: 'Published, version 1' }).waitFor();

    await pressRun(page);
    await page.getByLabel('Run status: succeeded').waitFor({ timeout: 90_000 });
    // The run list comes from Temporal's visibility store, which trails the run by a moment.
    let listed: [string, string][] = [];
    for (let i = 0; i < 50; i++) {
      const runs = await apiCall<{ items: { status: string; trigger: { type: string } }[] }>(
        ctx,
        'GET',
        `/runs?pipeline=${id}`,
      );
      listed = runs.items.map((r) => [r.status, r.trigger.type]);
      if (listed[0]?.[0] === 'succeeded') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(listed, [['succeeded', 'manual']]);
  },
});

scenarios.push({
  name: "asks for a run's params, then shows a failed step's full error and skips what depends on it",
  async run(ctx) {
    const { page } = ctx;
    const id = unique('failing');
    const doc = samplePipeline(id);
    doc.params = {
      factor: { type: 'integer', default: 10 },
      divisor: { type: 'integer', required: true },
    } as never;
    doc.nodes[1]!.config = { sql: 'select n / {{ params.divisor }}::int as q from {{ inputs.gen }}' };
    doc.nodes.push({
      id: 'after',
      type: 'transform.sql',
      config: { sql: 'select * from {{ inputs.scaled }}' } as never,
      position: { x: 600, y: 0 },
    });
    doc.edges.push({ from: 'scaled', to: 'after' });
    await apiCall(ctx, 'POST', '/pipelines', doc);

    await signIn(ctx);
    await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Run pipeline' });
    await dialog.getByLabel('divisor *').fill('0');
    await dialog.getByRole('button', { name: 'Start run' }).click();

    await page.getByLabel('Run status: failed').waitFor({ timeout: 90_000 });
    await node(page, 'gen').getByLabel('Step succeeded').waitFor();
    await node(page, 'scaled').getByLabel('Step failed').waitFor();
    await node(page, 'after').getByLabel('Step skipped').waitFor();
    await waitForText(page.getByLabel('Error of scaled'), 'Step "scaled" (transform.sql): division by zero');
  },
});

scenarios.push({
  name: 'refuses to publish over a version someone else saved meanwhile, and loads theirs on request',
  async run(ctx) {
    const { page } = ctx;
    const id = unique('conflict');
    const doc = samplePipeline(id);
    await apiCall(ctx, 'POST', '/pipelines', doc);
    await signIn(ctx);
    await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
    await page.getByRole('status', { name: 'Published, version 1' }).waitFor();

    // Someone else saves version 2 while this editor still has version 1.
    const theirs = structuredClone(doc);
    theirs.nodes[0]!.config.rows = 42;
    await apiCall(ctx, 'PUT', `/pipelines/${id}`, theirs);

    await node(page, 'gen').locator('.node-header').click();
    await page.getByRole('spinbutton', { name: 'Rows', exact: true }).fill('5');
    await page.getByRole('status', { name: 'Draft saved' }).waitFor();
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page
      .getByRole('dialog', { name: 'Publish version 2' })
      .getByRole('button', { name: 'Publish v2' })
      .click();
    const banner = page.getByRole('alert').filter({ hasText: 'Someone published a newer version' });
    await banner.waitFor();
    await banner.getByRole('button', { name: 'Discard my draft' }).click();
    await page.getByRole('status', { name: 'Published, version 2' }).waitFor();
    await node(page, 'gen').locator('.node-header').click();
    assert.equal(await page.getByRole('spinbutton', { name: 'Rows', exact: true }).inputValue(), '42');
  },
});

scenarios.push({
  name: "shows a run's audit trail, the pipeline's credits in telemetry and its creation in the audit log",
  async run(ctx) {
    const { page } = ctx;
    const id = unique('audit');
    await apiCall(ctx, 'POST', '/pipelines', samplePipeline(id));
    const { runId, status } = await runToEnd(ctx, id, { factor: 3 });
    assert.equal(status, 'succeeded');
    // Usage is found through Temporal's visibility store, which trails the run by a moment; the screen
    // reads it once, so wait here until the endpoint counts the run.
    let costliest = '';
    for (let i = 0; i < 50; i++) {
      const usage = await apiCall<{ groups: { key: string; credits: number }[] }>(
        ctx,
        'GET',
        '/telemetry/usage?groupBy=pipeline',
      );
      costliest = [...usage.groups].sort((a, b) => b.credits - a.credits)[0]?.key ?? '';
      if (usage.groups.some((g) => g.key === id)) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    await signIn(ctx);
    await page.goto(`${ctx.baseUrl}/runs/${runId}`);
    const trail = page.getByRole('table', { name: 'Run audit trail' });
    await waitForText(trail, 'run.requested');
    await waitForText(trail, 'token:admin');

    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Telemetry' }).click();
    await page.getByRole('figure', { name: 'Credits per day' }).waitFor();
    // The table ranks the costliest pipelines of every scenario so far; this one's small run need not
    // be among them, but the costliest the API counts must lead it.
    await waitForText(page.getByRole('table', { name: 'Top pipelines by credits' }), costliest);

    await nav.getByRole('link', { name: 'Audit' }).click();
    await page.getByLabel('Action').fill('pipeline.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const row = page
      .getByRole('table', { name: 'Platform audit log' })
      .getByRole('row')
      .filter({ hasText: `pipeline:${id}` });
    await waitForText(row, 'pipeline.created');
  },
});

scenarios.push({
  name: 'pages the audit log: "Load more" appends the next page and goes when there is none',
  async run(ctx) {
    const { page } = ctx;
    const project = unique('paged');
    await apiCall(ctx, 'POST', '/projects', { id: project, name: project });
    // A page is 50 entries: 54 pipelines' creations (and the project's, if it counts under it) make two.
    for (let i = 0; i < 54; i++)
      await apiCall(ctx, 'POST', '/pipelines', { ...samplePipeline(`${project}-${i}`), project });
    const all = await apiCall<{ items: unknown[] }>(ctx, 'GET', `/audit?project=${project}&limit=200`);
    assert.ok(all.items.length > 50 && all.items.length <= 100, `${all.items.length} entries`);

    await signIn(ctx);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('textbox', { name: 'Project' }).fill(project);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const rows = page.getByRole('table', { name: 'Platform audit log' }).getByRole('row');
    await waitForCount(rows, 51); // the header and the first page
    await page.getByRole('button', { name: 'Load more' }).click();
    await waitForCount(rows, all.items.length + 1);
    assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
    await waitForText(rows.nth(all.items.length), project);
  },
});
