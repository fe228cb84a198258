// The data mesh screens as a user meets them: a product another project published shows in the
// catalogue, its page shows schema, freshness and sample, sharing it goes through the dialog, and
// its lineage graph highlights where a column comes from.
import assert from 'node:assert/strict';
import path from 'node:path';
import { docsScreenshot } from './builder.e2e.ts';
import { apiCall, runToEnd, selectNode, signIn, waitForText, type Scenario } from './helpers.ts';
import { REPO } from './stack.ts';

const stamp = () => Date.now().toString(36);

export const scenarios: Scenario[] = [
  {
    name: 'finds a data product in the catalogue, shares it and follows a column in its lineage',
    async run(ctx) {
      const { page } = ctx;
      const owner = `sales${stamp()}`;
      const consumer = `mkt${stamp()}`;
      for (const id of [owner, consumer]) await apiCall(ctx, 'POST', '/projects', { id, name: id });
      const pipelineId = `${owner}-orders`;
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id: pipelineId,
        name: 'Orders mart',
        project: owner,
        nodes: [
          {
            id: 'raw',
            type: 'source.generate',
            config: { rows: 4, columns: [{ name: 'id', generator: 'sequence' }] },
          },
          {
            id: 'clean',
            type: 'transform.sql',
            config: { sql: 'select id as order_id, id * 2.5 as gross from {{ inputs.raw }}' },
          },
          { id: 'publish', type: 'sink.postgres', config: { table: 'orders', mode: 'replace' } },
        ],
        edges: [
          { from: 'raw', to: 'clean' },
          { from: 'clean', to: 'publish' },
        ],
      });
      assert.equal((await runToEnd(ctx, pipelineId, {})).status, 'succeeded');
      const product = `${owner}-orders`;
      await apiCall(ctx, 'POST', `/projects/${owner}/products`, {
        id: product,
        table: `${owner}.orders`,
        name: `Orders of ${owner}`,
        description: 'One row per order',
        tags: ['finance'],
        columns: { gross: 'Amount with VAT' },
        freshness: { maxAgeHours: 24 },
      });

      await signIn(ctx);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog' }).click();
      await page.getByRole('heading', { name: 'Data products' }).waitFor();
      await page.getByRole('textbox', { name: 'Search' }).fill(owner);
      await page.getByRole('button', { name: 'Search' }).click();
      const card = page
        .getByRole('list', { name: 'Data products' })
        .getByRole('listitem')
        .filter({ hasText: owner });
      await waitForText(card, 'fresh');
      await waitForText(card, '#finance');
      await card.getByRole('link', { name: `Orders of ${owner}` }).click();

      await page.getByRole('heading', { name: `Orders of ${owner}` }).waitFor();
      await waitForText(page.getByRole('table', { name: 'Schema' }), 'Amount with VAT');
      await waitForText(page.getByRole('region', { name: 'Freshness' }), `of pipeline ${pipelineId}`);
      await waitForText(page.getByRole('table', { name: 'Sample rows' }), '10.0');
      await page.getByLabel('Share with project').selectOption(consumer);
      await page.getByRole('button', { name: 'Share', exact: true }).click();
      await waitForText(page.getByRole('list', { name: 'Shared with' }), consumer);
      await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'product-page.png'), fullPage: true });

      await page.getByRole('table', { name: 'Schema' }).getByRole('link', { name: 'gross' }).click();
      await page.getByRole('heading', { name: 'Lineage' }).waitFor();
      const graph = page.getByLabel('Lineage graph');
      await graph.getByLabel(`table ${owner}.orders`).waitFor();
      await graph.getByLabel(`step ${pipelineId}.clean`).waitFor();
      // The column link opened with gross selected: it is highlighted on its table.
      const gross = graph.getByLabel(`table ${owner}.orders`).getByRole('button', { name: 'gross' });
      await gross.waitFor();
      assert.equal(await gross.getAttribute('aria-pressed'), 'true');
      await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'lineage.png'), fullPage: true });
    },
  },
  {
    name: "publishes products from the catalog and a sink's panel, picks one in source.table, and shows lineage problems",
    async run(ctx) {
      const { page } = ctx;
      const owner = `shop${stamp()}`;
      const consumer = `bi${stamp()}`;
      for (const id of [owner, consumer]) await apiCall(ctx, 'POST', '/projects', { id, name: id });
      const pipelineId = `${owner}-mart`;
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id: pipelineId,
        name: 'Shop mart',
        project: owner,
        nodes: [
          {
            id: 'raw',
            type: 'source.generate',
            config: { rows: 4, columns: [{ name: 'id', generator: 'sequence' }] },
          },
          {
            id: 'clean',
            type: 'transform.sql',
            config: { sql: 'select id as order_id, id * 2.5 as gross from {{ inputs.raw }}' },
          },
          { id: 'orders', type: 'sink.postgres', config: { table: 'orders', mode: 'replace' } },
          { id: 'totals', type: 'sink.postgres', config: { table: 'totals', mode: 'replace' } },
        ],
        edges: [
          { from: 'raw', to: 'clean' },
          { from: 'clean', to: 'orders' },
          { from: 'clean', to: 'totals' },
        ],
      });
      assert.equal((await runToEnd(ctx, pipelineId, {})).status, 'succeeded');
      // A pipeline reading the orders whose SQL lineage cannot follow (`*` over a table that is not there).
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id: `${owner}-odd`,
        name: 'Odd report',
        project: owner,
        nodes: [
          { id: 'orders', type: 'source.table', config: { table: `${owner}.orders` } },
          {
            id: 'joined',
            type: 'transform.sql',
            config: { sql: `select * from {{ inputs.orders }} o, ${owner}.not_there n` },
          },
        ],
        edges: [{ from: 'orders', to: 'joined' }],
      });

      // From the catalog: the table picker lists the project's tables, read under its role.
      await signIn(ctx);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Catalog' }).click();
      await page.getByRole('button', { name: 'Publish a product' }).click();
      const dialog = page.getByRole('dialog', { name: 'Publish a data product' });
      await dialog.getByLabel('Project').selectOption(owner);
      const tablePicker = dialog.getByLabel('Table', { exact: true });
      await waitForText(tablePicker, `${owner}.totals`);
      assert.deepEqual((await tablePicker.locator('option').allTextContents()).slice(1), [
        `${owner}.orders`,
        `${owner}.totals`,
      ]);
      await tablePicker.selectOption(`${owner}.orders`);
      assert.equal(await dialog.getByLabel('Product id').inputValue(), `${owner}-orders`);
      await dialog.getByLabel('Name', { exact: true }).fill('Shop orders');
      await dialog.getByLabel('Description', { exact: true }).fill('One row per order of the shop');
      await dialog.getByLabel('Owners').fill('shop-data@example.com, Ada');
      await dialog.getByLabel('Tags').fill('finance, orders');
      await dialog.getByLabel('Fresh within (hours)').fill('24');
      await dialog.getByLabel('Description of gross').fill('Amount with VAT');
      await docsScreenshot(page, 'builder-publish-product');
      await dialog.getByRole('button', { name: 'Publish product' }).click();

      await page.getByRole('heading', { name: 'Shop orders' }).waitFor();
      await waitForText(page.getByRole('table', { name: 'Schema' }), 'Amount with VAT');
      await waitForText(page.locator('header'), 'shop-data@example.com, Ada');
      const lineage = page.getByRole('region', { name: 'Lineage' });
      await waitForText(lineage.getByRole('list', { name: 'Written by' }), pipelineId);
      await waitForText(lineage.getByRole('list', { name: 'Read by' }), `${owner}-odd`);
      await waitForText(lineage.getByRole('status', { name: 'Lineage problems' }), `${owner}-odd.joined: `);
      await page.addStyleTag({ content: '.toasts { display: none; }' });
      await page.screenshot({
        path: path.join(REPO, 'test-artifacts', 'product-lineage-problems.png'),
        fullPage: true,
      });

      // From a sink's panel: the table is the one the sink writes.
      await page.goto(`${ctx.baseUrl}/pipelines/${pipelineId}`);
      await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
      await selectNode(page, 'totals');
      await page.getByRole('button', { name: 'Publish as a data product…' }).click();
      const fromSink = page.getByRole('dialog', { name: 'Publish a data product' });
      await waitForText(fromSink.getByLabel('Table', { exact: true }), `${owner}.totals`);
      assert.equal(await fromSink.getByLabel('Table', { exact: true }).inputValue(), `${owner}.totals`);
      assert.equal(await fromSink.getByLabel('Product id').inputValue(), `${owner}-totals`);
      // The orders table is a product already: offered, but not a second time.
      assert.equal(await fromSink.locator(`option[value="${owner}.orders"]`).isDisabled(), true);
      await fromSink.getByLabel('Tags').fill('finance');
      await fromSink.getByRole('button', { name: 'Publish product' }).click();
      await fromSink.waitFor({ state: 'detached' });
      const totals = await apiCall<{ project: string; table: { table: string }; tags: string[] }>(
        ctx,
        'GET',
        `/products/${owner}-totals`,
      );
      assert.deepEqual([totals.project, totals.table.table, totals.tags], [owner, 'totals', ['finance']]);

      // source.table's product field offers what the consumer may read: nothing until it is shared.
      const readerId = `${consumer}-reader`;
      for (const product of [`${owner}-orders`, `${owner}-totals`])
        await apiCall(ctx, 'PUT', `/products/${product}/shares/${consumer}`);
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id: readerId,
        name: 'Reads shop orders',
        project: consumer,
        nodes: [{ id: 'shop', type: 'source.table', config: { product: `${owner}-orders` } }],
        edges: [],
      });
      await page.goto(`${ctx.baseUrl}/pipelines/${readerId}`);
      await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
      await selectNode(page, 'shop');
      const picker = page.getByRole('combobox', { name: 'Product' });
      await waitForText(picker, `${owner}-totals`);
      assert.equal(await picker.inputValue(), `${owner}-orders`);
      assert.deepEqual((await picker.locator('option').allTextContents()).slice(1), [
        `Shop orders (${owner}-orders) · shared by ${owner}`,
        `Totals (${owner}-totals) · shared by ${owner}`,
      ]);
      await picker.selectOption(`${owner}-totals`);
      await page.getByRole('status', { name: 'Draft saved' }).waitFor();
      await docsScreenshot(page, 'builder-product-picker');
      const draft = await apiCall<{ document: { nodes: { config: { product?: string } }[] } }>(
        ctx,
        'GET',
        `/pipelines/${readerId}/draft`,
      );
      assert.equal(draft.document.nodes[0]!.config.product, `${owner}-totals`);
    },
  },
];
