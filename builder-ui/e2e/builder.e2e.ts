// The builder, correct before clever (issue 27), each item as a user meets it in a real browser: an
// edit and a discard both survive a reload (no stale cached answer); a draft run is labelled as the
// draft, its duration is the server's and stays put, its notice ends with it, and the run page
// re-runs it. Screenshots for docs/guides/builder.md go to docs/screenshots/ with UPDATE_DOCS_SCREENSHOTS=1.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  apiCall,
  node,
  samplePipeline,
  selectNode,
  signIn,
  waitForText,
  type Scenario,
  type ScenarioContext,
} from './helpers.ts';
import { REPO } from './stack.ts';

const unique = (name: string) => `e2e-${name}-${Date.now().toString(36)}`;

/** Saves a screenshot to test-artifacts/, and to docs/screenshots/ when the guide's are refreshed. */
export async function docsScreenshot(page: Page, name: string): Promise<void> {
  await page.addStyleTag({ content: '.toasts { display: none; }' });
  const artifacts = path.join(REPO, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const shot = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: shot });
  if (process.env.UPDATE_DOCS_SCREENSHOTS === '1') {
    mkdirSync(path.join(REPO, 'docs', 'screenshots'), { recursive: true });
    copyFileSync(shot, path.join(REPO, 'docs', 'screenshots', `${name}.png`));
  }
}

async function openEditor(ctx: ScenarioContext, id: string): Promise<void> {
  await ctx.page.goto(`${ctx.baseUrl}/pipelines/${id}`);
  await ctx.page.getByRole('button', { name: 'Run', exact: true }).waitFor();
}

/** Renames node `scaled` through its panel, and waits for the draft to hold it. */
async function rename(page: Page, to: string): Promise<void> {
  await selectNode(page, 'scaled');
  const field = page
    .getByRole('complementary', { name: 'Configuration of scaled' })
    .getByRole('textbox', { name: 'Display name' });
  await field.fill(to);
  await page.getByRole('status', { name: 'Draft saved' }).waitFor();
}

export const scenarios: Scenario[] = [
  {
    name: 'an edit survives a reload, and so does its discard (no stale cached pipeline)',
    async run(ctx) {
      const { page } = ctx;
      const id = unique('stale');
      await apiCall(ctx, 'POST', '/pipelines', samplePipeline(id));
      await signIn(ctx);
      // The browser reads (and may keep) the published pipeline first.
      await openEditor(ctx, id);
      await page.getByRole('status', { name: 'Published, version 1' }).waitFor();

      await rename(page, 'Scaled by the draft');
      await page.reload();
      await page.getByRole('status', { name: 'Draft saved' }).waitFor();
      await waitForText(node(page, 'scaled'), 'Scaled by the draft');

      page.once('dialog', (dialog) => void dialog.accept());
      await page.getByRole('button', { name: 'Discard draft' }).click();
      await page.getByRole('status', { name: 'Published, version 1' }).waitFor();
      await page.reload();
      await page.getByRole('status', { name: 'Published, version 1' }).waitFor();
      assert.equal(await page.getByText(/does not exist/).count(), 0, 'the pipeline is still there');
      assert.equal(
        await node(page, 'scaled').getByText('Scaled by the draft').count(),
        0,
        'the edit is gone',
      );

      // And once more: a second edit after the discard is what a reload shows.
      await rename(page, 'Scaled again');
      await page.reload();
      await waitForText(node(page, 'scaled'), 'Scaled again');
    },
  },
  {
    name: "a draft run says it ran the draft, keeps the server's duration, and its notice ends with it",
    async run(ctx) {
      const { page } = ctx;
      const id = unique('facts');
      await apiCall(ctx, 'POST', '/pipelines', samplePipeline(id));
      await signIn(ctx);
      await openEditor(ctx, id);
      await rename(page, 'Scaled (draft)');

      await page.getByRole('button', { name: 'Run', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Run pipeline' });
      if (await dialog.isVisible().catch(() => false))
        await dialog.getByRole('button', { name: 'Start run' }).click();
      const notices = page.getByRole('status', { name: 'Notifications' });
      await waitForText(notices, 'Run started');
      await page.getByLabel('Run status: succeeded').waitFor({ timeout: 90_000 });
      const runId = new URL(page.url()).searchParams.get('run')!;
      const run = await apiCall<{ draft: boolean; draftSavedAt: string | null; durationMs: number | null }>(
        ctx,
        'GET',
        `/runs/${runId}`,
      );
      assert.equal(run.draft, true);
      assert.ok(run.draftSavedAt, 'the run knows when its draft was saved');

      // Labelled as the draft (with its time), never as "v1".
      await waitForText(page.getByLabel('Ran', { exact: true }), /^draft \(saved .+\) over v1$/);
      // The notice ends with the run and says how it ended.
      await waitForText(notices, 'Run succeeded in');
      assert.equal(await notices.getByText('Run started').count(), 0, 'the "Run started" notice is gone');

      // The duration is the server's and does not grow once the run has ended.
      const duration = page.getByLabel('Run duration', { exact: true });
      const first = await duration.textContent();
      await page.waitForTimeout(2500);
      assert.equal(await duration.textContent(), first, 'the duration stays put after the run ended');
      if (run.durationMs !== null && run.durationMs < 1000)
        assert.equal(first, `${Math.round(run.durationMs)} ms`, "the duration is the API's");

      // The run page says the same, and re-runs it.
      await page.getByRole('link', { name: 'Run details' }).click();
      const facts = page.getByRole('definition').filter({ hasText: /^draft/ });
      await facts.first().waitFor();
      await page.getByRole('button', { name: '↻ Re-run', exact: true }).click();
      await page.waitForURL((url) => url.pathname.startsWith('/runs/') && !url.pathname.endsWith(runId));
      await page.getByLabel('Run status: succeeded').waitFor({ timeout: 90_000 });
      const rerunId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);
      const rerun = await apiCall<{ draft: boolean; pipelineId: string }>(ctx, 'GET', `/runs/${rerunId}`);
      assert.equal(rerun.pipelineId, id);
      assert.equal(rerun.draft, true, 'a re-run of a draft run runs the draft');
    },
  },
];
