// The data mesh screens as a user meets them: a product another project published shows in the
// catalogue, its page shows schema, freshness and sample, sharing it goes through the dialog, and
// its lineage graph highlights where a column comes from.
import assert from 'node:assert/strict';
import path from 'node:path';
import { apiCall, runToEnd, signIn, waitForText, type Scenario } from './helpers.ts';
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
];
