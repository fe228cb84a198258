// The editor as a new user meets it: sign in with the token, build generate → SQL → Postgres by
// drag and drop, configure each node, save, run, watch every node succeed, and read the SQL step's
// rows in the preview. Saves the finished run as a screenshot for the README.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  apiCall,
  connectAndRelease,
  dragToCanvas,
  newPipeline,
  node,
  selectNode,
  signIn,
  waitForCount,
  waitForText,
  type Scenario,
} from './helpers.ts';
import { REPO } from './stack.ts';

export const scenarios: Scenario[] = [
  {
    name: 'signs in with a token and refuses a wrong one',
    async run({ page, baseUrl, token }) {
      await page.goto(`${baseUrl}/pipelines`);
      await page.getByLabel('API token').fill('trb_not_a_real_token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await waitForText(page.getByRole('alert'), 'That token was not accepted');
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Pipelines', exact: true }).waitFor();
      // The token is remembered: a reload stays signed in.
      await page.reload();
      await page.getByRole('heading', { name: 'Pipelines', exact: true }).waitFor();
      assert.equal(await page.getByLabel('API token').count(), 0);
    },
  },
  {
    name: 'builds generate → SQL → Postgres by drag and drop, runs it and previews the SQL rows',
    async run(ctx) {
      const { page } = ctx;
      await signIn(ctx);
      await newPipeline(page, 'Daily scores', `daily-scores-${Date.now().toString(36)}`);

      await dragToCanvas(page, 'Generate rows (source.generate)', { x: 130, y: 120 });
      await node(page, 'generate').waitFor();
      await dragToCanvas(page, 'SQL (transform.sql)', { x: 420, y: 120 });
      await node(page, 'sql').waitFor();
      await dragToCanvas(page, 'Postgres table (sink.postgres)', { x: 710, y: 120 });
      await node(page, 'postgres').waitFor();
      assert.equal(await page.getByRole('note', { name: 'How to start' }).count(), 0);

      await connectAndRelease(page, 'generate', 'sql');
      await connectAndRelease(page, 'sql', 'postgres');

      // Unconfigured nodes are flagged by the validator.
      await waitForText(page.getByRole('tab', { name: /Problems/ }), /Problems \([1-9]/);

      await selectNode(page, 'generate');
      await page.getByRole('spinbutton', { name: 'Rows', exact: true }).fill('5');
      await page.getByRole('button', { name: '+ Add column' }).click();
      await page.getByRole('textbox', { name: 'Column 1 name', exact: true }).fill('id');
      await page.getByRole('button', { name: '+ Add column' }).click();
      await page.getByRole('textbox', { name: 'Column 2 name', exact: true }).fill('colour');
      await page.getByRole('combobox', { name: 'Column 2 generator' }).selectOption('choice');
      await page.getByRole('textbox', { name: 'Column 2 values', exact: true }).fill('red, green, blue');

      await selectNode(page, 'sql');
      const editor = page.getByRole('textbox', { name: 'SQL of sql' });
      await editor.click();
      await page.keyboard.type('select id, colour, id * 10 as score from {{ inputs.generate }}');
      await page.keyboard.press('Escape');
      await waitForText(editor, 'from {{ inputs.generate }}');

      await selectNode(page, 'postgres');
      await page.getByRole('textbox', { name: 'Table', exact: true }).fill(`public.e2e_scores_${Date.now()}`);
      await page.getByRole('combobox', { name: 'Mode', exact: true }).selectOption('replace');

      await waitForText(page.getByRole('tab', { name: /Problems/ }), 'Problems (0)');
      await waitForText(page.locator('.validity'), 'Valid');
      // Edits are saved to the draft on their own; no version is made until Publish.
      await page.getByRole('status', { name: 'Draft saved' }).waitFor();

      // Run starts at once (no params to ask for) and does not edit the draft.
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      await page.getByRole('progressbar', { name: 'Run progress' }).waitFor();
      assert.equal(await page.getByRole('dialog', { name: 'Run pipeline' }).count(), 0, 'Run asked nothing');

      await page.getByLabel('Run status: succeeded').waitFor({ timeout: 90_000 });
      const pipelineId = new URL(page.url()).pathname.split('/')[2]!;
      const versions = await apiCall<{ items: unknown[] }>(ctx, 'GET', `/pipelines/${pipelineId}/versions`);
      assert.equal(versions.items.length, 1, 'running the draft made no version');
      const draft = await apiCall<{ document: { settings?: { keepStaging?: boolean } } }>(
        ctx,
        'GET',
        `/pipelines/${pipelineId}/draft`,
      );
      // Its outputs are kept for the previews below all the same (the server keeps a manual run's).
      assert.notEqual(draft.document.settings?.keepStaging, true, 'the run did not edit the draft');
      const run = await apiCall<{ draft: boolean }>(
        ctx,
        'GET',
        `/runs/${new URL(page.url()).searchParams.get('run')}`,
      );
      assert.equal(run.draft, true, 'the run ran the draft');
      for (const id of ['generate', 'sql', 'postgres']) {
        await node(page, id).getByLabel('Step succeeded').waitFor();
      }
      await waitForText(page.getByRole('progressbar', { name: 'Run progress' }).locator('..'), '3/3 steps');
      const progress = await page
        .getByRole('progressbar', { name: 'Run progress' })
        .getAttribute('aria-valuenow');
      assert.equal(progress, '100');

      await page.getByRole('button', { name: 'Preview output of sql' }).click();
      const rows = page.getByRole('table', { name: 'Rows of sql' });
      await rows.waitFor();
      await waitForCount(rows.locator('tbody tr'), 5);
      const headers = await rows.locator('thead th').allTextContents();
      assert.deepEqual(
        headers.map((h) => h.replace(/(bigint|integer|text|numeric)$/, '')),
        ['id', 'colour', 'score'],
      );
      const first = await rows.locator('tbody tr').first().locator('td').allTextContents();
      assert.equal(first[0], '1');
      assert.ok(['red', 'green', 'blue'].includes(first[1]!), `colour is one of the choices: ${first[1]}`);
      assert.equal(first[2], '10');
      // The sink wrote the five rows.
      await waitForText(
        page.getByRole('table', { name: 'Steps' }).locator('tr', { hasText: 'postgres' }).first(),
        '5',
      );

      await page.getByRole('button', { name: 'Publish', exact: true }).click();
      const publish = page.getByRole('dialog', { name: 'Publish version 2' });
      await publish.getByLabel('What changed?').fill('scores by colour');
      await publish.getByRole('button', { name: 'Publish v2' }).click();
      await page.getByRole('status', { name: 'Published, version 2' }).waitFor();

      // A tidy picture for the README: the SQL step selected, notices hidden.
      await selectNode(page, 'sql');
      await page.addStyleTag({ content: '.toasts { display: none; }' });
      assert.equal(
        await page.getByRole('button', { name: 'Preview output of postgres' }).count(),
        0,
        'a sink has no preview',
      );
      await node(page, 'sql').focus();
      await page.keyboard.press('Shift+F');
      await page.waitForTimeout(400);
      const artifacts = path.join(REPO, 'test-artifacts');
      mkdirSync(artifacts, { recursive: true });
      const shot = path.join(artifacts, 'editor.png');
      await page.screenshot({ path: shot });
      // The README's screenshot is refreshed only when asked, so test runs leave the tree clean.
      if (process.env.UPDATE_README_SCREENSHOT === '1') {
        mkdirSync(path.join(REPO, 'docs', 'screenshots'), { recursive: true });
        copyFileSync(shot, path.join(REPO, 'docs', 'screenshots', 'editor.png'));
      }
    },
  },
];
