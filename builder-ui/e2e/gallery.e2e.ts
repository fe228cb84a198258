// The screens of issue #15 as a user meets them: template cards with the pipeline's graph, its needs
// and its README rendered; a template whose secret the project lacks offers to create it, and then
// runs; the runs list names the failed step with an excerpt of its error; telemetry explains credits
// and charts them; and the whole app (canvas and SQL editor too) follows a dark system theme.
// Every scenario name starts with "Screens:" so `npm run test:e2e -- screens:` runs them alone.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
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
const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name }).click();

/** Saves a screenshot under test-artifacts/, and into docs/screenshots/ when asked to refresh them. */
async function screenshot(page: Page, name: string) {
  const artifacts = path.join(REPO, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const shot = path.join(artifacts, name);
  await page.screenshot({ path: shot });
  // The README's screenshots are refreshed only when asked, so test runs leave the tree clean.
  if (process.env.UPDATE_README_SCREENSHOT === '1') {
    mkdirSync(path.join(REPO, 'docs', 'screenshots'), { recursive: true });
    copyFileSync(shot, path.join(REPO, 'docs', 'screenshots', name));
  }
}

/** A screenshot for people to look at, under test-artifacts/ only. */
async function artifact(page: Page, name: string) {
  mkdirSync(path.join(REPO, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: path.join(REPO, 'test-artifacts', name) });
}

/** A customers API on loopback with a bearer token, answering like the REST template expects. */
async function customersApi(token: string): Promise<{ url: string; server: Server; calls: string[] }> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    calls.push(req.url ?? '');
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad token"}');
      return;
    }
    const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? '1');
    const data =
      page === 1
        ? [
            { id: 1, name: 'Ada', updated_at: '2026-01-02T00:00:00Z' },
            { id: 2, name: 'Grace', updated_at: '2026-01-03T00:00:00Z' },
          ]
        : [];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/customers`, server, calls };
}

/** The relative luminance of a CSS colour such as `rgb(18, 21, 28)` (0 black … 1 white). */
function luminance(colour: string): number {
  const [r, g, b] = (colour.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number) as [number, number, number];
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

export const scenarios: Scenario[] = [
  {
    name: "Screens: a template card shows the pipeline's graph, what it needs and its README rendered",
    async run(ctx) {
      const { page } = ctx;
      await signIn(ctx);
      await nav(page, 'Templates');
      const cards = page.getByRole('list', { name: 'Templates' });
      const csv = cards.getByRole('listitem', { name: 'CSV file to a clean table' });
      const graph = csv.getByRole('img', { name: 'Graph of CSV file to a clean table' });
      await graph.waitFor();
      await waitForCount(graph.locator('.template-graph-node'), 4);
      await waitForCount(graph.locator('.template-graph-edge'), 3);
      assert.deepEqual(
        await graph
          .locator('.template-graph-node')
          .evaluateAll((gs) => gs.map((g) => g.getAttribute('data-node-id'))),
        ['load', 'check_columns', 'clean', 'publish'],
      );
      const needs = csv.getByRole('group', { name: 'What CSV file to a clean table needs' });
      await waitForText(needs, 'imports/customers.csv');
      const rest = cards.getByRole('listitem', { name: 'REST API to a table, upserted by key' });
      await waitForText(rest.getByRole('group', { name: /needs$/ }), 'api-token');

      await csv.getByText('README', { exact: true }).click();
      const readme = csv.getByRole('document', { name: 'README of CSV file to a clean table' });
      await readme.getByRole('heading', { name: 'What it does' }).waitFor();
      await readme.getByRole('heading', { name: 'What it needs' }).waitFor();
      assert.ok(!((await readme.textContent()) ?? '').includes('## '), 'Markdown is rendered, not shown raw');
      assert.ok((await readme.locator('code').count()) > 0, 'inline code is rendered as code');
      await csv.getByText('README', { exact: true }).click();

      // The README's picture: the gallery as it opens, nothing focused.
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await page.addStyleTag({ content: '.toasts { display: none; }' });
      await screenshot(page, 'templates.png');
    },
  },
  {
    name: 'Screens: a template needing a secret the project lacks offers to create it, and then runs',
    async run(ctx) {
      const { page } = ctx;
      const project = unique('tplsec');
      await apiCall(ctx, 'POST', '/projects', { id: project, name: 'Secret test' });
      const token = `tok-${Date.now().toString(36)}`;
      const api = await customersApi(token);
      try {
        await signIn(ctx);
        await nav(page, 'Templates');
        await page.getByLabel('Search templates').fill('incremental');
        await page.getByRole('button', { name: /^Use template REST API/ }).click();
        const dialog = page.getByRole('dialog', { name: /^Use template: / });
        const id = unique('crm');
        await dialog.getByLabel('New pipeline id').fill(id);
        await dialog.getByLabel('Project').selectOption(project);
        await dialog.getByRole('button', { name: 'Fill with examples' }).click();
        await dialog.getByRole('textbox', { name: 'URL', exact: true }).fill(api.url);

        // The project has no "api-token": the dialog says so and offers to create it.
        const missing = dialog.getByRole('region', { name: 'Missing secrets' });
        await waitForText(missing, 'api-token');
        // Creating the pipeline anyway is refused by the engine, naming the secret.
        await dialog.getByRole('button', { name: 'Create pipeline' }).click();
        await waitForText(dialog.getByRole('alert').first(), 'secret "api-token" does not exist');

        const create = missing.getByRole('group', { name: 'Create secret api-token' });
        await create.getByLabel('Value of secret api-token').fill(token);
        await create.getByRole('button', { name: 'Create secret api-token' }).click();
        await dialog.getByRole('region', { name: 'Missing secrets' }).waitFor({ state: 'detached' });
        const secrets = await apiCall<{ items: { name: string }[] }>(
          ctx,
          'GET',
          `/projects/${project}/secrets`,
        );
        assert.deepEqual(
          secrets.items.map((s) => s.name),
          ['api-token'],
        );

        await dialog.getByRole('button', { name: 'Create pipeline' }).click();
        await page.getByRole('status', { name: 'Published, version 1' }).waitFor();
        assert.equal(new URL(page.url()).pathname, `/pipelines/${id}`);
        await pressRun(page);
        await page.getByLabel('Run status: succeeded').waitFor({ timeout: 90_000 });
        assert.ok(
          api.calls.some((c) => c.startsWith('/customers?')),
          'the run called the API with the token',
        );
      } finally {
        api.server.close();
      }
    },
  },
  {
    name: 'Screens: the runs list names the pipeline, the failed step and an excerpt of its error',
    async run(ctx) {
      const { page } = ctx;
      const id = unique('broken');
      const doc = samplePipeline(id);
      doc.name = 'Nightly division';
      doc.params = { divisor: { type: 'integer', default: 0 } } as never;
      doc.nodes[1]!.config = { sql: 'select n / {{ params.divisor }}::int as q from {{ inputs.gen }}' };
      await apiCall(ctx, 'POST', '/pipelines', doc);
      const { runId, status } = await runToEnd(ctx, id, {});
      assert.equal(status, 'failed');

      await signIn(ctx);
      await nav(page, 'Runs');
      await page.getByLabel('Pipeline').selectOption(id);
      const row = page.getByRole('row', { name: `Run ${runId}` });
      await waitForText(row, 'failed');
      await waitForText(row.getByRole('link').first(), 'Nightly division');
      await row.getByLabel('Failed step scaled').waitFor();
      await waitForText(row.getByLabel(`Error of run ${runId}`), 'division by zero');
      assert.equal(
        await page.getByRole('columnheader').first().textContent(),
        'Pipeline',
        'the pipeline comes first',
      );
      await artifact(page, 'runs-list.png');
    },
  },
  {
    name: 'Screens: re-running a failed run from the runs list reuses what succeeded and ends green',
    async run(ctx) {
      const { page } = ctx;
      const id = unique('rerun');
      const table = `e2e_flag_${Date.now().toString(36)}`;
      // `flag` reads a table nobody has made yet, so the first run fails there; `gen` succeeds.
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id,
        name: 'Waits for its flag',
        project: 'default',
        nodes: [
          {
            id: 'gen',
            type: 'source.generate',
            config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
          },
          { id: 'flag', type: 'source.table', config: { table } },
          {
            id: 'joined',
            type: 'transform.sql',
            config: { sql: 'select g.n from {{ inputs.gen }} g cross join {{ inputs.flag }} f' },
          },
        ],
        edges: [
          { from: 'gen', to: 'joined' },
          { from: 'flag', to: 'joined' },
        ],
      });
      const first = await runToEnd(ctx, id, {});
      assert.equal(first.status, 'failed');
      // Someone makes the table; the failed run can go on from where it failed.
      const maker = unique('flag-maker');
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id: maker,
        name: 'Makes the flag',
        project: 'default',
        nodes: [
          {
            id: 'one',
            type: 'source.generate',
            config: { rows: 1, columns: [{ name: 'ok', generator: 'sequence' }] },
          },
          { id: 'out', type: 'sink.postgres', config: { table, mode: 'replace' } },
        ],
        edges: [{ from: 'one', to: 'out' }],
      });
      assert.equal((await runToEnd(ctx, maker, {})).status, 'succeeded');

      await signIn(ctx);
      await nav(page, 'Runs');
      await page.getByLabel('Pipeline').selectOption(id);
      const failed = page.getByRole('row', { name: `Run ${first.runId}` });
      await failed.getByLabel('Failed step flag').waitFor();
      await failed.getByRole('button', { name: `Re-run ${first.runId} from its failed steps` }).click();
      const rerun = page
        .getByRole('table', { name: 'Runs' })
        .getByRole('row')
        .filter({ hasText: 're-run of' })
        // The list may still show every pipeline's runs for a moment after the filter changes.
        .filter({ hasText: id });
      await rerun.waitFor();
      await waitForText(rerun, 'succeeded', 60_000);
      const runId = ((await rerun.getAttribute('aria-label')) ?? '').replace(/^Run /, '');
      const detail = await apiCall<{ rerunOf: string; steps: Record<string, { status: string }> }>(
        ctx,
        'GET',
        `/runs/${runId}`,
      );
      assert.equal(detail.rerunOf, first.runId);
      assert.deepEqual(Object.fromEntries(Object.entries(detail.steps).map(([k, v]) => [k, v.status])), {
        gen: 'reused',
        flag: 'succeeded',
        joined: 'succeeded',
      });
    },
  },
  {
    name: 'Screens: telemetry explains what a credit is and charts credits by project and node type',
    async run(ctx) {
      const { page } = ctx;
      const id = unique('usage');
      // A step that works three seconds: the pipeline is among the top ten by credits, whatever ran before.
      const doc = samplePipeline(id);
      doc.nodes[1]!.config = {
        sql: 'select n, n * {{ params.factor }}::int as m, pg_sleep(1)::text as slept from {{ inputs.gen }}',
      };
      await apiCall(ctx, 'POST', '/pipelines', doc);
      const { status } = await runToEnd(ctx, id, { factor: 2 });
      assert.equal(status, 'succeeded');
      for (let i = 0; i < 50; i++) {
        const usage = await apiCall<{ groups: { key: string }[] }>(
          ctx,
          'GET',
          '/telemetry/usage?groupBy=pipeline',
        );
        if (usage.groups.some((g) => g.key === id)) break;
        await new Promise((r) => setTimeout(r, 200));
      }

      await signIn(ctx);
      await nav(page, 'Telemetry');
      const note = page.getByRole('complementary', { name: 'What a credit is' });
      await waitForText(note, 'One second of a step doing its work');
      await waitForText(note, 'source 1, transform 1, sink 1');
      const chart = page.getByRole('figure', { name: 'Credits per day' });
      await chart.waitFor();
      await waitForText(chart.locator('.recharts-legend-wrapper'), 'default');
      assert.ok((await chart.locator('.recharts-bar-rectangle').count()) > 0, 'the chart has bars');
      await waitForText(page.getByRole('table', { name: 'Top pipelines by credits' }), id);
      await waitForText(page.getByRole('table', { name: 'Top node types by credits' }), 'transform.sql');
      await waitForText(page.getByLabel('Usage totals'), /\d+ retr(y|ies)/);
      await artifact(page, 'telemetry.png');
    },
  },
  {
    name: 'Screens: the app, its canvas and its SQL editor follow a dark system theme',
    async run(ctx) {
      const { page } = ctx;
      const id = unique('dark');
      await apiCall(ctx, 'POST', '/pipelines', samplePipeline(id));
      await page.emulateMedia({ colorScheme: 'dark' });
      await signIn(ctx);
      const background = (selector: string) =>
        page
          .locator(selector)
          .first()
          .evaluate((el) => getComputedStyle(el).backgroundColor);
      const root = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      assert.ok(luminance(root) < 0.2, `the page is dark (${root})`);
      const text = await page.evaluate(() => getComputedStyle(document.body).color);
      assert.ok(luminance(text) > 0.7, `text is light on dark (${text})`);

      await nav(page, 'Templates');
      await page.getByRole('list', { name: 'Templates' }).getByRole('listitem').first().waitFor();
      assert.ok(luminance(await background('.template-card')) < 0.2, 'cards are dark');
      await page.addStyleTag({ content: '.toasts { display: none; }' });
      await screenshot(page, 'templates-dark.png');

      await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
      await node(page, 'scaled').waitFor();
      assert.ok(luminance(await background('.react-flow')) < 0.2, 'the canvas is dark');
      assert.ok(luminance(await background('.react-flow__node')) < 0.25, 'nodes are dark');
      await node(page, 'scaled').locator('.node-header').click();
      const editor = page.locator('.cm-editor').first();
      await editor.waitFor();
      assert.ok(
        luminance(await editor.evaluate((el) => getComputedStyle(el).backgroundColor)) < 0.25,
        'the SQL editor is dark',
      );
      const keyword = page
        .locator('.cm-content span')
        .filter({ hasText: /^select$/ })
        .first();
      const colour = await keyword.evaluate((el) => getComputedStyle(el).color);
      assert.ok(luminance(colour) > 0.5, `SQL keywords are light on the dark editor (${colour})`);
      await artifact(page, 'editor-dark.png');

      await page.emulateMedia({ colorScheme: 'light' });
      const light = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      assert.ok(luminance(light) > 0.8, `and light again with a light system theme (${light})`);
      assert.ok(
        luminance(await editor.evaluate((el) => getComputedStyle(el).backgroundColor)) > 0.8,
        'the SQL editor too',
      );
    },
  },
];
