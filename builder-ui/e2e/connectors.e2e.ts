// A Python connector's node as a user meets it: the spec of airbyte-source-faker (read on the
// stack's worker, its environment built on first use with progress shown) becomes the node's form;
// "Discover streams" lists users, products and purchases with their columns; two picked streams,
// one of them incremental, land in the draft as the node's `streams`, and the form's value in its
// `config`.
import assert from 'node:assert/strict';
import { apiCall, selectNode, signIn, waitForText, type Scenario } from './helpers.ts';

const FAKER = 'airbyte-source-faker==6.2.32';

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
      const deadline = Date.now() + 20_000;
      let config: Record<string, unknown> | undefined;
      let draft: Draft | undefined;
      while (Date.now() < deadline) {
        draft = await apiCall<Draft>(ctx, 'GET', `/pipelines/${id}/draft`).catch(() => undefined);
        config = draft?.document.nodes.find((n) => n.id === 'src')?.config;
        const streams = config?.streams as { syncMode?: string }[] | undefined;
        if (streams?.length === 2 && streams[0]!.syncMode === 'incremental') break;
        await new Promise((r) => setTimeout(r, 300));
      }
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
];
