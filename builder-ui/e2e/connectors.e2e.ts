// A Python connector's node as a user meets it: the spec of airbyte-source-faker (read on the
// stack's worker, its environment built on first use with progress shown) becomes the node's form;
// "Discover streams" lists users, products and purchases with their columns; two picked streams,
// one of them incremental, land in the draft as the node's `streams`, and the form's value in its
// `config`. A Singer node (tap-spreadsheets over two CSV files of the project, saved with the one
// `stream` of older configs) picks several streams the same way.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { apiCall, selectNode, signIn, waitForText, type Scenario } from './helpers.ts';
import { REPO } from './stack.ts';

const FAKER = 'airbyte-source-faker==6.2.32';

/** The node's config in the draft, once `done` says it holds what the page did (20 s at most). */
async function draftConfig(
  ctx: Parameters<Scenario['run']>[0],
  id: string,
  done: (config: Record<string, unknown> | undefined) => boolean,
): Promise<{ config: Record<string, unknown> | undefined; draft: Draft | undefined }> {
  const deadline = Date.now() + 20_000;
  let config: Record<string, unknown> | undefined;
  let draft: Draft | undefined;
  while (Date.now() < deadline) {
    draft = await apiCall<Draft>(ctx, 'GET', `/pipelines/${id}/draft`).catch(() => undefined);
    config = draft?.document.nodes.find((n) => n.id === 'src')?.config;
    if (done(config)) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  return { config, draft };
}

interface Draft {
  document: { nodes: { id: string; config: Record<string, unknown> }[] };
  valid: boolean;
  errors: { message: string }[];
}

export const scenarios: Scenario[] = [
  {
    name: "a connector's spec is its node form, and discover's streams are picked with their sync mode",
    async run(ctx) {
      const { page } = ctx;
      const id = `e2e-faker-${Date.now().toString(36)}`;
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id,
        name: 'Faker streams',
        nodes: [{ id: 'src', type: 'source.airbyte', config: { package: FAKER, stream: 'users' } }],
      });
      await signIn(ctx);
      await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
      await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
      await selectNode(page, 'src');
      const panel = page.getByRole('complementary', { name: 'Configuration of src' });
      const form = panel.getByRole('region', { name: 'Connector settings' });

      // The spec's fields, from the connector itself (the first time, after its environment is built).
      const count = form.getByRole('spinbutton', { name: 'Count', exact: true });
      await count.waitFor({ timeout: 240_000 });
      assert.equal(await form.getByRole('spinbutton', { name: 'Seed', exact: true }).count(), 1);
      await count.fill('25');

      await form.getByRole('button', { name: 'Discover streams' }).click();
      const users = form.getByRole('checkbox', { name: 'Read stream users' });
      await users.waitFor({ timeout: 240_000 });
      // The node's `stream` is picked already; its columns are listed with their types.
      assert.equal(await users.isChecked(), true);
      await waitForText(form.getByRole('list'), 'address jsonb');
      await form.getByRole('checkbox', { name: 'Read stream purchases' }).check();
      await form.getByRole('combobox', { name: 'Sync mode of users' }).selectOption('incremental');

      // The draft holds what the form and the picker say.
      const { config, draft } = await draftConfig(ctx, id, (c) => {
        const streams = c?.streams as { syncMode?: string }[] | undefined;
        return streams?.length === 2 && streams[0]!.syncMode === 'incremental';
      });
      assert.deepEqual(config?.streams, [
        { name: 'users', syncMode: 'incremental' },
        { name: 'purchases', syncMode: 'full_refresh' },
      ]);
      assert.equal(config?.stream, undefined);
      assert.deepEqual(config?.config, { count: 25 });
      // Valid as it stands: the draft compiles.
      assert.deepEqual(draft?.errors, []);
      assert.equal(draft?.valid, true);
    },
  },
  {
    name: "a Singer node picks several streams, each with its sync mode, from its tap's discover",
    async run(ctx) {
      const { page } = ctx;
      assert.ok(ctx.dataDir, 'this scenario writes CSV files into the stack data dir (E2E_DATA_DIR)');
      const folder = `e2e-sheets-${Date.now().toString(36)}`;
      mkdirSync(path.join(ctx.dataDir, folder), { recursive: true });
      writeFileSync(path.join(ctx.dataDir, folder, 'users.csv'), 'id,name\n1,Ada\n2,Grace\n');
      writeFileSync(path.join(ctx.dataDir, folder, 'orders-1.csv'), 'id,user_id,total\n10,1,9.5\n');
      const id = `e2e-singer-${Date.now().toString(36)}`;
      const files = [
        { path: '/data/users.csv', format: 'csv', table_name: 'users' },
        { path: '/data/orders-*.csv', format: 'csv', table_name: 'orders' },
      ];
      await apiCall(ctx, 'POST', '/pipelines', {
        apiVersion: 'tributary/v1',
        id,
        name: 'Spreadsheet streams',
        nodes: [
          {
            id: 'src',
            type: 'source.singer',
            config: { package: 'tap-spreadsheets==1.1.2', config: { files }, files: folder, stream: 'users' },
          },
        ],
      });
      await signIn(ctx);
      await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
      await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
      await selectNode(page, 'src');
      const panel = page.getByRole('complementary', { name: 'Configuration of src' });
      const form = panel.getByRole('region', { name: 'Connector settings' });
      const discover = form.getByRole('button', { name: 'Discover streams' });
      await discover.waitFor({ timeout: 240_000 });
      await discover.click();
      const users = form.getByRole('checkbox', { name: 'Read stream users' });
      await users.waitFor({ timeout: 240_000 });
      // The saved `stream` is picked already; each stream's columns are listed with their types.
      assert.equal(await users.isChecked(), true);
      await waitForText(form.getByRole('list'), 'user_id text');
      await form.getByRole('checkbox', { name: 'Read stream orders' }).check();
      await form.getByRole('combobox', { name: 'Sync mode of orders' }).selectOption('incremental');

      const { config, draft } = await draftConfig(ctx, id, (c) => {
        const streams = c?.streams as { syncMode?: string }[] | undefined;
        return streams?.length === 2 && streams[1]!.syncMode === 'incremental';
      });
      assert.deepEqual(config?.streams, [{ name: 'users' }, { name: 'orders', syncMode: 'incremental' }]);
      assert.equal(config?.stream, undefined);
      assert.deepEqual(draft?.errors, []);
      assert.equal(draft?.valid, true);
      // The tap's own form came too (its --about settings), though discover was asked first.
      await form.getByText('Reading the connector').waitFor({ state: 'detached', timeout: 120_000 });
      await form
        .locator('.connector-streams')
        .screenshot({ path: path.join(REPO, 'test-artifacts', 'singer-streams.png') });
    },
  },
];
