// The Lineage screen of a CSV → SQL → sink pipeline whose file names its columns only in its header:
// picking a column of the sink's table highlights its path back to the file's columns (and the steps
// on it), the panel says what it is made of, and what SQL lineage could not follow is shown.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiCall, signIn, waitForText, type Scenario } from './helpers.ts';
import { REPO } from './stack.ts';

export const scenarios: Scenario[] = [
  {
    name: "traces a sink column back to a header-only CSV's columns and shows lineage problems",
    async run(ctx) {
      const { page } = ctx;
      const project = `lin${Date.now().toString(36)}`;
      await apiCall(ctx, 'POST', '/projects', { id: project, name: project });
      assert.ok(ctx.dataDir, 'this scenario writes the CSV into the stack data dir (E2E_DATA_DIR)');
      mkdirSync(path.join(ctx.dataDir, project), { recursive: true });
      writeFileSync(
        path.join(ctx.dataDir, project, 'sales.csv'),
        'sku,qty,price\nA-1,2,1.50\nB-7,0,9.99\nA-1,3,2.25\n',
      );
      const pipelineId = `${project}-sales`;
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id: pipelineId,
        name: 'Sales by SKU',
        project,
        nodes: [
          { id: 'file', type: 'source.csv', config: { path: 'sales.csv' } },
          {
            id: 'totals',
            type: 'transform.sql',
            config: {
              sql: 'select sku, sum(qty * price) as total from {{ inputs.file }} where qty > 0 group by sku',
            },
          },
          { id: 'publish', type: 'sink.postgres', config: { table: 'sku_totals', mode: 'replace' } },
          // A row value expanded with (f).*: valid SQL whose columns lineage does not follow.
          { id: 'rows', type: 'transform.sql', config: { sql: 'select (f).* from {{ inputs.file }} f' } },
          { id: 'copy', type: 'sink.postgres', config: { table: 'sales_copy', mode: 'replace' } },
        ],
        edges: [
          { from: 'file', to: 'totals' },
          { from: 'totals', to: 'publish' },
          { from: 'file', to: 'rows' },
          { from: 'rows', to: 'copy' },
        ],
      });

      await signIn(ctx);
      await page.getByLabel('Search pipelines').fill(pipelineId);
      await page.getByRole('link', { name: `Lineage of ${pipelineId}` }).click();
      await page.getByRole('heading', { name: 'Lineage' }).waitFor();
      const graph = page.getByLabel('Lineage graph');
      const file = graph.getByLabel(`file ${project}/sales.csv`);
      const sink = graph.getByLabel(`table ${project}.sku_totals`);
      await file.waitFor();
      await sink.waitFor();
      await graph.getByLabel(`step ${pipelineId}.totals`).waitFor();
      // The file's columns come from its header, not from the config.
      for (const column of ['sku', 'qty', 'price'])
        await file.getByRole('button', { name: column }).waitFor();

      // The API's problems: the step whose columns lineage could not follow is named.
      await waitForText(page.getByRole('status').filter({ hasText: 'problem' }), '1 problem');
      await waitForText(page.locator('.lineage-problems'), `${pipelineId}.rows:`);

      await sink.getByRole('button', { name: 'total' }).click();
      await waitForText(page.getByRole('status').filter({ hasText: 'linked' }), 'linked to');
      const pressed = async (locator: typeof file, name: string) =>
        (await locator.getByRole('button', { name, exact: true }).getAttribute('aria-pressed')) === 'true';
      assert.equal(await pressed(sink, 'total'), true);
      assert.equal(await pressed(file, 'qty'), true, 'qty of the file is where total comes from');
      assert.equal(await pressed(file, 'price'), true, 'price of the file is where total comes from');
      assert.equal(await pressed(file, 'sku'), false, 'sku only groups: not part of the value');
      assert.equal(await pressed(sink, 'sku'), false);
      const panel = page.getByRole('region', { name: 'Column lineage' });
      await waitForText(panel, `from ${project}/sales.csv.qty (aggregation)`);
      await waitForText(panel, `decided by ${project}/sales.csv.sku (group by)`);
      // The path is drawn: sales.csv → file → totals → publish → sku_totals, not the other branch.
      assert.equal(await page.locator('.react-flow__edge.lineage-edge-on').count(), 4);
      await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'lineage-csv.png'), fullPage: true });

      // The other way round: the file's qty feeds total.
      await sink.getByRole('button', { name: 'total' }).click();
      await file.getByRole('button', { name: 'qty' }).click();
      assert.equal(await pressed(sink, 'total'), true);
    },
  },
];
