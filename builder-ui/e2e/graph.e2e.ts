// Graph rules on the canvas: a connection that would close a cycle is refused while it is drawn,
// with the reason on screen; a deleted node comes back with its edges on undo.
import assert from 'node:assert/strict';
import {
  connect,
  connectAndRelease,
  dragToCanvas,
  edge,
  newPipeline,
  node,
  release,
  selectNode,
  signIn,
  waitForCount,
  waitForText,
  type Scenario,
} from './helpers.ts';

async function chain(ctx: Parameters<Scenario['run']>[0], name: string) {
  const { page } = ctx;
  await signIn(ctx);
  await newPipeline(page, name);
  await dragToCanvas(page, 'Generate rows (source.generate)', { x: 130, y: 120 });
  await node(page, 'generate').waitFor();
  await dragToCanvas(page, 'SQL (transform.sql)', { x: 420, y: 120 });
  await node(page, 'sql').waitFor();
  await dragToCanvas(page, 'SQL (transform.sql)', { x: 710, y: 120 });
  await node(page, 'sql_2').waitFor();
  await connectAndRelease(page, 'generate', 'sql');
  await connectAndRelease(page, 'sql', 'sql_2');
}

export const scenarios: Scenario[] = [
  {
    name: 'refuses a connection that would make a cycle and says why',
    async run(ctx) {
      const { page } = ctx;
      await chain(ctx, `Cycle ${Date.now()}`);
      await connect(page, 'sql_2', 'sql');
      const hint = page.getByRole('status').filter({ hasText: 'Cannot connect' });
      await waitForText(hint, 'Cannot connect: That would make a cycle: sql → sql_2 → sql');
      await release(page);
      await page.waitForTimeout(300);
      assert.equal(await edge(page, 'sql_2', 'sql').count(), 0, 'the refused edge was not added');
      await waitForCount(page.locator('.react-flow__edge'), 2);
      // The message stays a moment after the mouse is let go, so it can be read.
      assert.equal(await hint.count(), 1);
    },
  },
  {
    name: 'brings a deleted node back with its edges on undo, and deletes it again on redo',
    async run(ctx) {
      const { page } = ctx;
      await chain(ctx, `Undo ${Date.now()}`);
      await selectNode(page, 'sql_2');
      await node(page, 'sql_2').focus();
      await page.keyboard.press('Delete');
      await waitForCount(page.locator('.react-flow__node'), 2);
      assert.equal(await edge(page, 'sql', 'sql_2').count(), 0);

      await page.keyboard.press('Control+z');
      await node(page, 'sql_2').waitFor();
      await edge(page, 'sql', 'sql_2').waitFor({ state: 'attached' });
      await waitForCount(page.locator('.react-flow__node'), 3);

      await page.keyboard.press('Control+Shift+z');
      await waitForCount(page.locator('.react-flow__node'), 2);
      await page.getByRole('button', { name: 'Undo' }).click();
      await waitForCount(page.locator('.react-flow__node'), 3);
      assert.equal(await edge(page, 'sql', 'sql_2').count(), 1);
    },
  },
];
