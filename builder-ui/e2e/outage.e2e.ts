// An outage, as a person in the builder meets it: Postgres stops while they edit. The shell's
// banner names what is down and says the edits are kept; nothing offers to discard the draft;
// when Postgres is back the banner goes and the edit is in the draft. The scenario runs a stack of
// its own on a PostgreSQL it stops and starts (Debian's 15 by default, E2E_POSTGRES_BIN), so the
// shared stack of the other scenarios is never touched.
import assert from 'node:assert/strict';
import { startSystemPostgres } from '../../engine/test/system-postgres.ts';
import { apiCall, samplePipeline, selectNode, signIn, waitForText, type Scenario } from './helpers.ts';
import { startStack } from './stack.ts';

const POSTGRES_BIN = process.env.E2E_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

export const scenarios: Scenario[] = [
  {
    name: 'Postgres stops while editing: a banner names it, edits are kept, and saved when it is back',
    async run({ page }) {
      const postgres = await startSystemPostgres(POSTGRES_BIN);
      let stack;
      try {
        stack = await startStack({
          built: true,
          env: { DATABASE_URL: postgres.url, WAREHOUSE_URL: postgres.warehouseUrl },
        });
        const ctx = { page, baseUrl: stack.baseUrl, token: stack.token, dataDir: stack.dataDir };
        const id = `outage-${Date.now().toString(36)}`;
        await apiCall(ctx, 'POST', '/pipelines', samplePipeline(id));
        await signIn(ctx);
        await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
        await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
        const banner = page.getByRole('status', { name: 'Outage' });
        assert.equal(await banner.count(), 0, 'no banner while everything answers');

        postgres.halt();
        await selectNode(page, 'gen');
        await page.getByRole('spinbutton', { name: 'Rows', exact: true }).fill('7');
        // The autosave meets the outage: the banner says what is down and that edits are kept.
        await waitForText(banner, /Postgres is not answering/, 30_000);
        await waitForText(banner, /Your edits are kept/);
        await page.getByText('will be saved to the draft when the server is back').waitFor();
        assert.equal(await page.getByRole('button', { name: 'Discard my draft' }).count(), 0);
        assert.equal(await page.getByRole('spinbutton', { name: 'Rows', exact: true }).inputValue(), '7');

        postgres.resume();
        // Health recovers: the banner goes by itself and the kept edit is saved into the draft.
        await banner.waitFor({ state: 'detached', timeout: 30_000 });
        let rows: unknown;
        for (let i = 0; i < 40; i++) {
          const draft = await apiCall<{ document: { nodes: { id: string; config: { rows?: number } }[] } }>(
            ctx,
            'GET',
            `/pipelines/${id}/draft`,
          ).catch(() => undefined);
          rows = draft?.document.nodes.find((n) => n.id === 'gen')?.config.rows;
          if (rows === 7) break;
          await new Promise((r) => setTimeout(r, 250));
        }
        assert.equal(rows, 7, 'the edit made during the outage is in the draft');
      } finally {
        await stack?.stop();
        await postgres.stop();
      }
    },
  },
];
