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
  waitForCount,
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

/** generate → SQL that fails at run time (division by zero) → Postgres sink, with long names. */
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
        name: 'Orders of the quarter from the shop, every region',
        config: { rows: 4, columns: [{ name: 'id', generator: 'sequence' }] },
        position: { x: 0, y: 40 },
      },
      {
        id: 'totals',
        type: 'transform.sql',
        name: 'Order totals by customer and region for the quarterly finance report',
        config: { sql: 'select id, 100 / (id - id) as share from {{ inputs.orders }}' },
        position: { x: 320, y: 40 },
      },
      {
        id: 'totals_eu',
        type: 'transform.sql',
        name: 'Order totals by customer and region for the quarterly finance report (EU)',
        config: { sql: 'select id from {{ inputs.orders }}' },
        position: { x: 320, y: 220 },
      },
      {
        id: 'warehouse',
        type: 'sink.postgres',
        name: 'Warehouse table',
        config: { table: `public.e2e_canvas_${Date.now()}`, mode: 'replace' },
        position: { x: 640, y: 40 },
      },
    ],
    edges: [
      { from: 'orders', to: 'totals' },
      { from: 'orders', to: 'totals_eu' },
      { from: 'totals', to: 'warehouse' },
    ],
  };
}

const area = (b: { width: number; height: number } | null) => (b ? b.width * b.height : 0);
const overlaps = (
  a: { x: number; y: number; width: number; height: number },
  b: { x: number; y: number; width: number; height: number },
) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** Asserts that no node lies under the minimap. */
async function minimapCoversNothing(page: Page): Promise<void> {
  const map = (await page.locator('.react-flow__minimap').boundingBox())!;
  for (const n of await page.locator('.react-flow__node').all()) {
    const box = await n.boundingBox();
    if (box) assert.ok(!overlaps(box, map), `the minimap covers node ${await n.getAttribute('data-id')}`);
  }
}

scenarios.push(
  {
    name: 'the canvas comes first: at 1440×900 with a failed run open it has at least 60 % of the screen',
    async run(ctx) {
      const { page } = ctx;
      await page.setViewportSize({ width: 1440, height: 900 });
      const doc = failingPipeline(unique('canvas'));
      await apiCall(ctx, 'POST', '/pipelines', doc);
      const started = await apiCall<{ runId: string }>(ctx, 'POST', `/pipelines/${doc.id}/runs`, {
        params: {},
      });
      await signIn(ctx);
      await page.goto(`${ctx.baseUrl}/pipelines/${doc.id}?run=${started.runId}`);
      await page.getByLabel('Run status: failed').waitFor({ timeout: 90_000 });
      await node(page, 'totals').getByLabel('Step failed').waitFor();

      // Nothing selected: no panel, the palette is icons, the drawer shows the run.
      const panels = page.locator('.config-panel');
      assert.equal(
        await panels.count(),
        0,
        `no node panel while nothing is selected: ${await panels.evaluateAll((els) => els.map((e) => e.outerHTML.slice(0, 300)).join('\n'))}`,
      );
      const palette = (await page.getByRole('complementary', { name: 'Node palette' }).boundingBox())!;
      assert.ok(palette.width <= 60, `the palette is a rail of icons (${palette.width}px)`);
      const share = area(await page.locator('.canvas').boundingBox()) / (1440 * 900);
      assert.ok(share >= 0.6, `the canvas has ${(share * 100).toFixed(0)} % of the screen`);
      console.log(`    canvas share at 1440×900 with a failed run open: ${(share * 100).toFixed(1)} %`);
      await minimapCoversNothing(page);
      await docsScreenshot(page, 'builder-failed-run');

      // Full titles: on hover (title) and in the panel, which opens over the canvas and goes with Escape.
      const long = doc.nodes[1]!.name;
      assert.equal(await node(page, 'totals').locator('.node-title').getAttribute('title'), long);
      await selectNode(page, 'totals');
      const panel = page.getByRole('complementary', { name: 'Configuration of totals' });
      await waitForText(panel.getByRole('heading', { level: 2 }), long);
      const canvasBox = (await page.locator('.canvas-area').boundingBox())!;
      const panelBox = (await panel.boundingBox())!;
      assert.ok(
        panelBox.x >= canvasBox.x && panelBox.x + panelBox.width <= canvasBox.x + canvasBox.width + 1,
        'the panel lies over the canvas',
      );
      await docsScreenshot(page, 'builder-node-panel');
      await page.keyboard.press('Escape');
      await waitForCount(page.getByRole('complementary', { name: 'Configuration of totals' }), 0);

      // The palette opens to names and a filter, and collapses again.
      await page.getByRole('button', { name: 'Expand palette' }).click();
      await page.getByRole('searchbox', { name: 'Filter node types' }).waitFor();
      assert.ok((await page.getByRole('complementary', { name: 'Node palette' }).boundingBox())!.width > 150);
      await page.getByRole('button', { name: 'Collapse palette' }).click();
      assert.equal(await page.getByRole('searchbox', { name: 'Filter node types' }).count(), 0);
    },
  },
  {
    name: 'a 100-node pipeline opens fitted: every node in view, none under the minimap',
    async run(ctx) {
      const { page } = ctx;
      await page.setViewportSize({ width: 1440, height: 900 });
      const id = unique('hundred');
      const nodes = [
        {
          id: 'n0',
          type: 'source.generate',
          config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
          position: { x: 0, y: 0 },
        },
        ...Array.from({ length: 99 }, (_, i) => ({
          id: `n${i + 1}`,
          type: 'transform.sql',
          config: { sql: `select n from {{ inputs.n${i} }}` },
          position: { x: ((i + 1) % 10) * 300, y: Math.floor((i + 1) / 10) * 160 },
        })),
      ];
      const edges = nodes.slice(1).map((n, i) => ({ from: `n${i}`, to: n.id }));
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id,
        name: 'A hundred nodes',
        project: 'default',
        nodes,
        edges,
      });
      await signIn(ctx);
      await openEditor(ctx, id);
      await node(page, 'n99').waitFor();
      await page.waitForTimeout(300);
      const canvas = (await page.locator('.canvas').boundingBox())!;
      for (const n of ['n0', 'n9', 'n50', 'n90', 'n99']) {
        const box = (await node(page, n).boundingBox())!;
        assert.ok(
          box.x >= canvas.x &&
            box.y >= canvas.y &&
            box.x + box.width <= canvas.x + canvas.width &&
            box.y + box.height <= canvas.y + canvas.height,
          `node ${n} is in view on open`,
        );
      }
      await minimapCoversNothing(page);
    },
  },
);

scenarios.push({
  name: 'papercuts: click-to-add connects, F2 and double-click rename, Run asks nothing, Publish asks what changed and History shows it with SQL as text',
  async run(ctx) {
    const { page } = ctx;
    const id = unique('papercuts');
    await signIn(ctx);
    await page.getByRole('button', { name: 'New pipeline' }).click();
    await page.getByLabel('Pipeline name').fill('Papercuts');
    await page.getByLabel('Pipeline id').fill(id);
    await page.getByRole('button', { name: 'Create pipeline' }).click();
    const help = page.getByRole('note', { name: 'How to start' });
    await help.waitFor();
    assert.doesNotMatch((await help.textContent()) ?? '', /Save and Run/);

    // Click a source, then a transform: the transform goes right of the source, connected.
    await page.getByRole('button', { name: /\(source\.generate\)$/ }).click();
    await node(page, 'generate').waitFor();
    await page.getByRole('button', { name: /\(transform\.sql\)$/ }).click();
    await node(page, 'sql').waitFor();
    await page
      .locator('.react-flow__edge[aria-label="Edge from generate to sql"]')
      .waitFor({ state: 'attached' });
    const a = (await node(page, 'generate').boundingBox())!;
    const b = (await node(page, 'sql').boundingBox())!;
    assert.ok(b.x > a.x + a.width, 'the new node is right of the selected one');
    assert.ok(!(Math.abs(b.y - a.y) < 10 && Math.abs(b.x - a.x) < 30), 'not stacked');

    // F2 renames the selected node; a double-click does too.
    await node(page, 'sql').locator('.node-header').click();
    await page.keyboard.press('F2');
    await nameFieldFocused(page);
    await page.keyboard.type('Doubled');
    await waitForText(node(page, 'sql').locator('.node-title'), 'Doubled');
    await page.keyboard.press('Escape');
    await node(page, 'generate').locator('.node-header').dblclick();
    await nameFieldFocused(page);
    await page.keyboard.type('Numbers');
    await waitForText(node(page, 'generate').locator('.node-title'), 'Numbers');

    // The shortcut help says what Ctrl+S does now.
    await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
    await page.keyboard.press('?');
    const shortcuts = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await waitForText(shortcuts, 'Save the draft now');
    assert.doesNotMatch((await shortcuts.textContent()) ?? '', /Save a new version/);
    await waitForText(shortcuts, 'F2');
    await shortcuts.getByRole('button', { name: 'Close shortcuts' }).click();

    // Publish v2 with SQL, then change one line of it and publish v3 with a note.
    const sample = unique('history');
    await apiCall(ctx, 'POST', '/pipelines', samplePipeline(sample));
    await openEditor(ctx, sample);
    await selectNode(page, 'scaled');
    const sql = page.getByRole('textbox', { name: 'SQL of scaled' });
    await sql.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText('select n,\n  n * 2 as twice\nfrom {{ inputs.gen }}');
    await page.keyboard.press('Escape');
    await page.getByRole('status', { name: 'Draft saved' }).waitFor();
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    let dialog = page.getByRole('dialog', { name: 'Publish version 2' });
    await dialog.getByLabel('What changed?').fill('first SQL');
    await dialog.getByRole('button', { name: 'Publish v2' }).click();
    await page.getByRole('status', { name: 'Published, version 2' }).waitFor();
    await selectNode(page, 'scaled');
    await sql.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText('select n,\n  n * 2 as twice,\n  n * 3 as thrice\nfrom {{ inputs.gen }}');
    await page.keyboard.press('Escape');
    await page.getByRole('status', { name: 'Draft saved' }).waitFor();
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    dialog = page.getByRole('dialog', { name: 'Publish version 3' });
    await dialog.getByLabel('What changed?').fill('adds thrice');
    await dialog.getByRole('button', { name: 'Publish v3' }).click();
    await page.getByRole('status', { name: 'Published, version 3' }).waitFor();

    await page.getByRole('button', { name: 'Version history' }).click();
    const history = page.getByRole('dialog', { name: 'Version history' });
    await waitForText(history.getByRole('table', { name: 'Versions' }), 'adds thrice');
    await waitForText(history.getByRole('table', { name: 'Versions' }), 'first SQL');
    const diff = history.getByRole('table', { name: 'Side-by-side diff' });
    await waitForText(diff, 'n * 3 as thrice');
    const changedRows = await diff.locator('.diff-row:not(.diff-same)').allTextContents();
    assert.ok(
      changedRows.some((r) => r.includes('n * 3 as thrice') && !r.includes('\\n')),
      `the SQL change is a readable line: ${changedRows.join(' | ')}`,
    );
    await docsScreenshot(page, 'builder-history');
  },
});

/** Waits until the node panel's name field has the focus (F2 and a double-click put it there). */
async function nameFieldFocused(page: Page): Promise<void> {
  await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'node-name');
}
