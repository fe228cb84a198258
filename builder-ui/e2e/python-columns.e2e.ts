// A Python step's output columns in the editor after a run (issue 24, item 2):
// the node's data view lists them as the run's, and the SQL step after it completes them. Saves
// test-artifacts/python-columns-data.png and python-columns.png. (The e2e stack keeps every run's
// staging for previews, so the columns could come from a kept table here: that they come from the
// step's report without it is engine/test/api/python-columns.int.test.ts's to show.)
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { apiCall, node, pressRun, selectNode, signIn, waitForText, type Scenario } from './helpers.ts';
import { REPO } from './stack.ts';

const SCORE = `import pandas as pd

def transform(inputs, params):
    orders = inputs["orders"]
    out = orders.groupby("customer", as_index=False).agg(orders=("id", "count"), total=("total", "sum"))
    out["score"] = out["total"] / out["orders"]
    return out
`;

/** seed → orders (SQL) → scores (pandas) → ranked (SQL); no keepStaging. */
function scoresPipeline(id: string) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: 'Python scores',
    project: 'default',
    nodes: [
      {
        id: 'seed',
        type: 'source.generate',
        position: { x: 40, y: 0 },
        config: { rows: 1, columns: [{ name: 'n', generator: 'sequence' }] },
      },
      {
        id: 'orders',
        type: 'transform.sql',
        position: { x: 40, y: 120 },
        config: {
          sql: `select g as id, 'c' || (g % 2) as customer, g * 1.5 as total from {{ inputs.seed }}, generate_series(1, 6) g`,
        },
      },
      { id: 'scores', type: 'transform.python', position: { x: 320, y: 120 }, config: { code: SCORE } },
      {
        id: 'ranked',
        type: 'transform.sql',
        position: { x: 600, y: 120 },
        config: { sql: 'select customer from {{ inputs.scores }}' },
      },
    ],
    edges: [
      { from: 'seed', to: 'orders' },
      { from: 'orders', to: 'scores' },
      { from: 'scores', to: 'ranked' },
    ],
  };
}

export const scenarios: Scenario[] = [
  {
    name: "a Python step's columns after a run: in its data view and in the next SQL step's completion",
    async run(ctx) {
      const { page } = ctx;
      const doc = scoresPipeline(`e2e-pycols-${Date.now().toString(36)}`);
      await apiCall(ctx, 'POST', '/pipelines', doc);
      await signIn(ctx);
      await page.goto(`${ctx.baseUrl}/pipelines/${doc.id}`);
      await page.getByRole('button', { name: 'Run', exact: true }).waitFor();

      // Before a run, nothing can tell what opaque code returns.
      await selectNode(page, 'ranked');
      await page.getByRole('button', { name: 'Open data of ranked' }).click();
      let data = page.getByRole('dialog', { name: 'Data of ranked' });
      await waitForText(data, 'Columns of scores are not known yet');
      await data.getByRole('button', { name: 'Close' }).click();

      await pressRun(page);
      await page.getByLabel('Run status: succeeded').waitFor({ timeout: 300_000 });
      await node(page, 'scores').getByLabel('Step succeeded').waitFor();
      const runId = new URL(page.url()).searchParams.get('run')!;
      const detail = await apiCall<{ steps: Record<string, { columns?: { name: string }[] }> }>(
        ctx,
        'GET',
        `/runs/${runId}`,
      );
      assert.deepEqual(
        detail.steps.scores?.columns?.map((c) => c.name),
        ['customer', 'orders', 'total', 'score'],
        'the run reports the Python step its columns',
      );

      mkdirSync(path.join(REPO, 'test-artifacts'), { recursive: true });
      // Its data view lists them as the run's.
      await page.getByRole('button', { name: 'Open data of ranked' }).click();
      data = page.getByRole('dialog', { name: 'Data of ranked' });
      const columns = data.getByRole('table', { name: 'Columns of scores' });
      await waitForText(columns, 'score');
      await waitForText(columns, 'as run');
      for (const name of ['customer', 'orders', 'total', 'double precision', 'bigint'])
        await waitForText(columns, name);
      await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'python-columns-data.png') });
      await data.getByRole('button', { name: 'Close' }).click();

      // The SQL step after it completes the Python step's columns, with their types.
      const editor = page.getByRole('textbox', { name: 'SQL of ranked' });
      await editor.click();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('select customer, sco');
      const options = page.locator('.cm-tooltip-autocomplete li');
      const column = options.filter({ hasText: /^score/ }).first();
      await waitForText(column, 'scores', 30_000);
      assert.match((await column.textContent()) ?? '', /double precision/);

      await page.screenshot({ path: path.join(REPO, 'test-artifacts', 'python-columns.png') });
    },
  },
];
