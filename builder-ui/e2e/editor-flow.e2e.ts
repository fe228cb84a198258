// The editor as users coming from n8n found it wanting, each fix as a user meets it: a new sink
// that replaces (append warns), field errors in plain words once a field was visited, the canvas
// with the whole height, a failed run's error on its node and in its panel with the node's input
// and output side by side, statuses dropped from edited nodes, and scheduling with the cron's
// meaning and next runs. Saves the README's screenshots (UPDATE_README_SCREENSHOT=1 refreshes them).
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import {
  apiCall,
  dragToCanvas,
  newPipeline,
  node,
  pressRun,
  samplePipeline,
  selectNode,
  signIn,
  waitForCount,
  waitForText,
  type Scenario,
  type ScenarioContext,
} from './helpers.ts';
import { REPO } from './stack.ts';

const unique = (name: string) => `e2e-${name}-${Date.now().toString(36)}`;

/** Saves a screenshot to test-artifacts/, and to docs/screenshots/ when the README's are refreshed. */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.addStyleTag({ content: '.toasts { display: none; }' });
  const artifacts = path.join(REPO, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const shot = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: shot });
  if (process.env.UPDATE_README_SCREENSHOT === '1') {
    mkdirSync(path.join(REPO, 'docs', 'screenshots'), { recursive: true });
    copyFileSync(shot, path.join(REPO, 'docs', 'screenshots', `${name}.png`));
  }
}

/** generate → SQL that fails at run time (division by zero) → Postgres sink. */
function failingPipeline(id: string) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: 'Orders to warehouse',
    project: 'default',
    settings: { keepStaging: true },
    nodes: [
      {
        id: 'orders',
        type: 'source.generate',
        name: 'Orders',
        config: {
          rows: 4,
          columns: [
            { name: 'id', generator: 'sequence' },
            { name: 'status', generator: 'choice', values: ['open', 'paid'] },
          ],
        },
        position: { x: 0, y: 40 },
      },
      {
        id: 'totals',
        type: 'transform.sql',
        name: 'Order totals',
        config: { sql: 'select id, status, 100 / (id - id) as share from {{ inputs.orders }}' },
        position: { x: 320, y: 40 },
      },
      {
        id: 'warehouse',
        type: 'sink.postgres',
        name: 'Warehouse table',
        config: { table: `public.e2e_totals_${Date.now()}`, mode: 'replace' },
        position: { x: 640, y: 40 },
      },
    ],
    edges: [
      { from: 'orders', to: 'totals' },
      { from: 'totals', to: 'warehouse' },
    ],
  };
}

async function openPipeline(ctx: ScenarioContext, doc: { id: string }): Promise<void> {
  await apiCall(ctx, 'POST', '/pipelines', doc);
  await signIn(ctx);
  await ctx.page.goto(`${ctx.baseUrl}/pipelines/${doc.id}`);
  await ctx.page.getByRole('button', { name: 'Run', exact: true }).waitFor();
}

async function startRun(page: Page): Promise<void> {
  await pressRun(page);
}

const height = async (page: Page, selector: string) =>
  (await page.locator(selector).boundingBox())?.height ?? 0;

export const scenarios: Scenario[] = [
  {
    name: 'a new node stays quiet until its field is visited, then says "SQL is required" once',
    async run(ctx) {
      const { page } = ctx;
      await signIn(ctx);
      await newPipeline(page, 'Quiet fields', unique('quiet'));
      await dragToCanvas(page, 'SQL (transform.sql)', { x: 300, y: 160 });
      await node(page, 'sql').waitFor();
      const panel = page.getByRole('complementary', { name: 'Configuration of sql' });
      await panel.waitFor();
      // The validator has spoken (the toolbar counts problems), but the new node's form stays quiet.
      await waitForText(page.locator('.validity'), /problem/);
      assert.equal(await panel.locator('.field-message').count(), 0, 'no field error before a visit');
      assert.equal(await page.getByText(/Invalid input/).count(), 0, 'no validator jargon on screen');

      await panel.getByRole('textbox', { name: 'SQL of sql' }).click();
      await panel.getByRole('textbox', { name: 'Display name' }).click();
      await waitForCount(page.getByText('SQL is required', { exact: true }), 1);
      await page.getByRole('tab', { name: /Problems/ }).click();
      await waitForText(page.getByRole('list', { name: 'Problems', exact: true }), 'SQL is required');
      assert.equal(
        await page.getByText(/Invalid input/).count(),
        0,
        'the problems list is in plain words too',
      );
    },
  },
  {
    name: 'a SQL typo is a problem at its line and column in the SQL, not "✓ Valid"',
    async run(ctx) {
      const { page } = ctx;
      await openPipeline(ctx, samplePipeline(unique('typo')));
      await waitForText(page.locator('.validity'), '✓ Valid');
      await selectNode(page, 'scaled');
      const editor = page.getByRole('textbox', { name: 'SQL of scaled' });
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('selec n from {{ inputs.gen }}');
      await page.keyboard.press('Escape');
      await waitForText(page.locator('.validity'), '1 problem');
      const panel = page.getByRole('complementary', { name: 'Configuration of scaled' });
      await waitForText(panel.locator('.field-message'), 'Line 1, column 1: Syntax error at or near "selec"');
      // The validator's place is drawn in the SQL itself: a squiggle under `selec`.
      await waitForText(page.locator('.sql-editor .cm-lintRange-error'), 'selec');
    },
  },
  {
    name: 'SQL completion offers the input columns and the SQL words, not every dialect keyword',
    async run(ctx) {
      const { page } = ctx;
      await openPipeline(ctx, samplePipeline(unique('complete')));
      await selectNode(page, 'scaled');
      const editor = page.getByRole('textbox', { name: 'SQL of scaled' });
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('select co');
      const options = page.locator('.cm-tooltip-autocomplete li');
      await waitForCount(options.filter({ hasText: 'coalesce' }), 1);
      assert.equal(await options.filter({ hasText: 'cobol' }).count(), 0, 'no COBOL in a SQL transform');
      await page.keyboard.press('Escape');
      // The input's column (gen has one, n), with its type and the input it comes from.
      await page.keyboard.type(', n');
      const column = options.filter({ hasText: /^n/ }).first();
      await waitForText(column, 'gen');
      assert.match((await column.textContent()) ?? '', /bigint|integer/);
      await page.keyboard.press('Enter');
      await waitForText(editor, 'select co, n');
    },
  },
  {
    name: 'a new Postgres sink starts in replace mode, and append warns that re-runs add the rows again',
    async run(ctx) {
      const { page } = ctx;
      await signIn(ctx);
      await newPipeline(page, 'Sink modes', unique('modes'));
      await dragToCanvas(page, 'Postgres table (sink.postgres)', { x: 300, y: 160 });
      await node(page, 'postgres').waitFor();
      const mode = page.getByRole('combobox', { name: 'Mode', exact: true });
      assert.equal(await mode.inputValue(), 'replace');
      const warning = page.getByRole('note').filter({ hasText: 'doubles the table' });
      assert.equal(await warning.count(), 0);
      await mode.selectOption('append');
      await warning.waitFor();
      await mode.selectOption('replace');
      await waitForCount(warning, 0);
    },
  },
  {
    name: 'the canvas has the whole height: the drawer is a bar until opened, then resizes; fit keeps names readable',
    async run(ctx) {
      const { page } = ctx;
      await openPipeline(ctx, samplePipeline(unique('layout')));
      const viewport = page.viewportSize()!;
      const toolbar = await height(page, '.toolbar');
      const canvas = await height(page, '.canvas');
      assert.ok(canvas > (viewport.height - toolbar) * 0.85, `canvas ${canvas}px of ${viewport.height}px`);
      assert.ok((await height(page, '.bottom-drawer')) < 60, 'the drawer starts as a bar');

      // The minimap is small and lets the canvas show through.
      const box = (await page.locator('.react-flow__minimap').boundingBox())!;
      assert.ok(box.width <= 160 && box.height <= 110, `minimap ${box.width}×${box.height}`);
      const opacity = await page
        .locator('.react-flow__minimap')
        .evaluate((el) => getComputedStyle(el).opacity);
      assert.ok(Number(opacity) < 0.8, `minimap opacity ${opacity}`);

      await page.getByRole('tab', { name: /Problems/ }).click();
      const opened = await height(page, '.bottom-drawer');
      assert.ok(opened > 100, `drawer opened to ${opened}px`);
      const handle = page.getByRole('separator', { name: 'Resize bottom panel' });
      const h = (await handle.boundingBox())!;
      await page.mouse.move(h.x + h.width / 2, h.y + 2);
      await page.mouse.down();
      await page.mouse.move(h.x + h.width / 2, h.y - 120, { steps: 5 });
      await page.mouse.up();
      const resized = await height(page, '.bottom-drawer');
      assert.ok(Math.abs(resized - opened - 120) < 12, `dragged from ${opened}px to ${resized}px`);
      await page.getByRole('button', { name: 'Hide bottom panel' }).click();
      assert.ok((await height(page, '.bottom-drawer')) < 60);

      await node(page, 'gen').focus();
      await page.keyboard.press('Shift+F');
      await page.waitForTimeout(400);
      for (const id of ['gen', 'scaled']) {
        const title = node(page, id).locator('.node-title');
        const px = await title.evaluate((el) => {
          const zoom = el.getBoundingClientRect().height / (el as HTMLElement).offsetHeight;
          return parseFloat(getComputedStyle(el).fontSize) * zoom;
        });
        assert.ok(px >= 12, `the name of ${id} is ${px.toFixed(1)}px on screen after Fit`);
        const cut = await title.evaluate((el) => el.scrollWidth > el.clientWidth);
        assert.equal(cut, false, `the name of ${id} is not cut off`);
      }
    },
  },
  {
    name: 'a failed run puts its error on the failed node and in its panel, with the input and output side by side',
    async run(ctx) {
      const { page } = ctx;
      const doc = failingPipeline(unique('failing'));
      await openPipeline(ctx, doc);
      await startRun(page);
      await page.getByLabel('Run status: failed').waitFor({ timeout: 90_000 });
      await node(page, 'orders').getByLabel('Step succeeded').waitFor();
      await node(page, 'totals').getByLabel('Step failed').waitFor();
      await waitForText(
        node(page, 'totals').getByRole('alert', { name: 'Error of node totals' }),
        'division by zero',
      );
      // "Open in Temporal" goes where the server says Temporal's UI is (TEMPORAL_UI_PORT / _URL).
      const health = await apiCall<{ temporalUi?: string }>(ctx, 'GET', '/health');
      const temporal = await page.getByRole('link', { name: 'Open in Temporal' }).getAttribute('href');
      assert.ok(health.temporalUi, 'the test stack runs its own Temporal UI');
      assert.ok(temporal?.startsWith(health.temporalUi), `${temporal} is under ${health.temporalUi}`);

      await selectNode(page, 'totals');
      const panel = page.getByRole('complementary', { name: 'Configuration of totals' });
      await waitForText(panel.getByRole('alert', { name: 'Run error of totals' }), 'division by zero');
      // Fitted to the canvas that the open drawer left.
      await node(page, 'orders').focus();
      await page.keyboard.press('Shift+F');
      await page.waitForTimeout(400);
      await screenshot(page, 'failed-run');
      await panel.getByRole('button', { name: 'Open data of totals' }).click();
      const data = page.getByRole('dialog', { name: 'Data of totals' });
      const input = data.getByRole('region', { name: 'Input of totals' });
      await waitForCount(input.getByRole('table', { name: 'Rows of orders' }).locator('tbody tr'), 4);
      await waitForText(data.getByRole('region', { name: 'Output of totals' }), 'did not succeed');
      await data.getByRole('button', { name: 'Close' }).click();

      // Editing the failed node drops that run's status from it, not from the untouched source.
      await selectNode(page, 'totals');
      const editor = page.getByRole('textbox', { name: 'SQL of totals' });
      await editor.click();
      await page.keyboard.press('End');
      await page.keyboard.type(' where id > 0');
      await waitForCount(node(page, 'totals').getByLabel('Step failed'), 0);
      await waitForText(page.getByRole('region', { name: 'Last run of totals' }), 'Edited since this run');
      await node(page, 'orders').getByLabel('Step succeeded').waitFor();

      // Fixed, and re-run from the failure: the source is not run again, its kept output is reused.
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('select id, status, id * 100 as share from {{ inputs.orders }}');
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: '↻ Re-run failed' }).click();
      await page.getByLabel('Run status: succeeded').waitFor({ timeout: 90_000 });
      await node(page, 'orders').getByLabel('Step reused').waitFor();
      await node(page, 'totals').getByLabel('Step succeeded').waitFor();
      await node(page, 'warehouse').getByLabel('Step succeeded').waitFor();
      const rerunId = new URL(page.url()).searchParams.get('run')!;
      const rerun = await apiCall<{ draft: boolean; rerunOf: string | null }>(ctx, 'GET', `/runs/${rerunId}`);
      assert.equal(rerun.draft, true, 'the re-run ran the draft the editor shows');
      assert.ok(rerun.rerunOf, 'it says which run it re-ran');

      // Run from here, on the sink: everything before it is reused.
      await selectNode(page, 'warehouse');
      await page.getByRole('button', { name: '▶ Run from here' }).click();
      const deadline = Date.now() + 20_000;
      while (new URL(page.url()).searchParams.get('run') === rerunId && Date.now() < deadline)
        await page.waitForTimeout(200);
      assert.notEqual(new URL(page.url()).searchParams.get('run'), rerunId, 'a new run is on screen');
      await page.getByLabel('Run status: succeeded').waitFor({ timeout: 90_000 });
      await node(page, 'totals').getByLabel('Step reused').waitFor();
      await node(page, 'warehouse').getByLabel('Step succeeded').waitFor();

      // The node's view has its input's columns and rows beside its own output.
      await selectNode(page, 'totals');
      await page.getByRole('button', { name: 'Open data of totals' }).click();
      const fixed = page.getByRole('dialog', { name: 'Data of totals' });
      await waitForText(fixed.getByRole('table', { name: 'Columns of orders' }), 'status');
      await waitForCount(fixed.getByRole('table', { name: 'Rows of orders' }).locator('tbody tr'), 4);
      await waitForText(fixed.getByRole('table', { name: 'Columns of totals' }), 'share');
      await waitForCount(fixed.getByRole('table', { name: 'Rows of totals' }).locator('tbody tr'), 4);
      await screenshot(page, 'node-panel');
      await fixed.getByRole('button', { name: 'Close' }).click();

      // A sink's side: its target table now, then the rows it was handed, each labelled so.
      await selectNode(page, 'warehouse');
      await page.getByRole('button', { name: 'Open data of warehouse' }).click();
      const sink = page.getByRole('dialog', { name: 'Data of warehouse' });
      const sent = sink.getByRole('region', { name: 'Output of warehouse' });
      await waitForText(sent, 'Rows sent to the target');
      await waitForText(sent, '4 rows written');
      // And the target table as it is now: its row count and a sample.
      await waitForText(sent.getByRole('region', { name: 'Target table of warehouse' }), 'now: 4 rows');
      await waitForCount(sent.getByRole('table', { name: 'Rows of totals' }).locator('tbody tr'), 4);
      await sink.getByRole('button', { name: 'Close' }).click();
    },
  },
  {
    name: 'schedules from the editor: the cron in words, a time zone, and the next runs in that zone',
    async run(ctx) {
      const { page } = ctx;
      const doc = samplePipeline(unique('schedule'));
      await openPipeline(ctx, doc);
      await page.getByRole('button', { name: 'Schedule', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Schedule' });
      await waitForText(dialog, 'not scheduled yet');
      await dialog.getByRole('textbox', { name: 'Cron' }).fill('30 7 * * 1-5');
      await waitForText(dialog, 'At 07:30, Monday through Friday');
      await dialog.getByRole('combobox', { name: 'Time zone' }).selectOption('Asia/Tokyo');
      const next = dialog.getByRole('region', { name: 'Next runs' });
      await waitForText(next, 'Next runs (Asia/Tokyo)');
      const times = await next.locator('li').allTextContents();
      assert.equal(times.length, 5);
      for (const t of times) {
        assert.match(t, /07:30/);
        assert.doesNotMatch(t, /Sat|Sun/);
      }
      await dialog.getByRole('textbox', { name: 'Cron' }).fill('0 6 * *');
      await waitForText(dialog, '5 fields');
      assert.ok(await dialog.getByRole('button', { name: 'Create schedule' }).isDisabled());
      await dialog.getByRole('textbox', { name: 'Cron' }).fill('30 7 * * 1-5');
      await dialog.getByRole('textbox', { name: 'Schedule params (JSON)' }).fill('{"factor": 2}');
      await dialog.getByRole('button', { name: 'Create schedule' }).click();
      await dialog.getByRole('button', { name: 'Update schedule' }).waitFor();
      const saved = await apiCall<{ cron: string; timezone: string; params: Record<string, unknown> }>(
        ctx,
        'GET',
        `/pipelines/${doc.id}/schedule`,
      );
      assert.equal(saved.cron, '30 7 * * 1-5');
      assert.equal(saved.timezone, 'Asia/Tokyo');
      assert.deepEqual(saved.params, { factor: 2 });
      await dialog.getByRole('button', { name: 'Close' }).last().click();

      // Settings shows the same schedule in its zone and edits it in the same dialog.
      await page.goto(`${ctx.baseUrl}/settings?pipeline=${doc.id}`);
      const section = page.getByRole('region', { name: 'Schedule and webhooks' });
      await waitForText(section, '30 7 * * 1-5 (Asia/Tokyo)');
      await section.getByRole('button', { name: 'Edit schedule' }).click();
      const again = page.getByRole('dialog', { name: 'Schedule' });
      await waitForText(again, 'At 07:30, Monday through Friday');
      await again.getByRole('button', { name: 'Remove schedule' }).click();
      await waitForText(again, 'not scheduled yet');
    },
  },
];
