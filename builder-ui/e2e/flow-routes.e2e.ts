// Conditions and notifications in the builder: a flow.if on the canvas with a labelled output per
// route and a failure output on every node; after a run the route not taken is greyed and the
// skipped step says why; the run's page lists its notification deliveries; project settings send a
// test message to a channel. A local HTTP receiver stands in for the webhook and Slack endpoints.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiCall, edge, node, signIn, waitForText, type Scenario } from './helpers.ts';

const unique = (name: string) => `e2e-${name}-${Date.now().toString(36)}`;

/** Records the paths POSTed to it. */
async function receiver(): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      paths.push(req.url ?? '');
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    paths,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const scenarios: Scenario[] = [
  {
    name: 'an IF routes the run: the route not taken is greyed, the skipped step says why, the run page lists its notifications',
    async run(ctx) {
      const { page } = ctx;
      const hooks = await receiver();
      try {
        await apiCall(ctx, 'PUT', '/projects/default/secrets/e2e-alert-key', { value: 'whsec_e2e' });
        const id = unique('if');
        await apiCall(ctx, 'POST', '/pipelines', {
          apiVersion: 'tributary/v1',
          id,
          name: 'Routed',
          project: 'default',
          nodes: [
            {
              id: 'load',
              type: 'source.generate',
              config: { rows: 3, columns: [{ name: 'n', generator: 'sequence' }] },
              position: { x: 0, y: 80 },
            },
            {
              id: 'check',
              type: 'flow.if',
              config: { condition: 'steps.load.rowsOut > 10' },
              position: { x: 280, y: 80 },
            },
            {
              id: 'big',
              type: 'transform.sql',
              config: { sql: 'select * from {{ inputs.check }}' },
              position: { x: 560, y: 0 },
            },
            {
              id: 'small',
              type: 'transform.sql',
              config: { sql: 'select n / 0 as boom from {{ inputs.check }}' },
              retry: { maxAttempts: 1 },
              position: { x: 560, y: 200 },
            },
            {
              id: 'cleanup',
              type: 'transform.sql',
              config: { sql: "select 'cleaned' as what" },
              position: { x: 840, y: 320 },
            },
          ],
          edges: [
            { from: 'load', to: 'check' },
            { from: 'check', to: 'big', output: 'true' },
            { from: 'check', to: 'small', output: 'false' },
            { from: 'small', to: 'cleanup', output: 'failure' },
          ],
          notifications: {
            rules: [
              {
                on: ['failure'],
                channel: { type: 'webhook', url: `${hooks.url}/alerts`, signingSecret: 'e2e-alert-key' },
              },
            ],
          },
        });
        await signIn(ctx);
        await page.goto(`${ctx.baseUrl}/pipelines/${id}`);
        await node(page, 'check').waitFor();
        // The IF shows its two outputs, each a handle of its own; every node has a failure output.
        await page.getByLabel('Output "true" of check').waitFor();
        await page.getByLabel('Output "false" of check').waitFor();
        await page.getByLabel('Failure output of small').waitFor();
        await edge(page, 'small', 'cleanup').waitFor();

        await page.getByRole('button', { name: 'Run', exact: true }).click();
        // A pipeline without params starts at once; with params, the run dialog asks for them first.
        const start = page
          .getByRole('dialog', { name: 'Run pipeline' })
          .getByRole('button', { name: /start run/i });
        if (await start.isVisible({ timeout: 2_000 }).catch(() => false)) await start.click();
        await waitForText(node(page, 'big'), 'skipped', 60_000);
        await waitForText(page.getByLabel('Why big was skipped'), 'output "true" of "check" not taken');
        await waitForText(node(page, 'cleanup'), 'succeeded', 60_000);
        const greyed = await edge(page, 'check', 'big').getAttribute('class');
        assert.match(greyed ?? '', /edge-not-taken/, 'the route not taken is greyed');
        const taken = await edge(page, 'check', 'small').getAttribute('class');
        assert.match(taken ?? '', /edge-taken/, 'the route taken is not');
        assert.match((await edge(page, 'small', 'cleanup').getAttribute('class')) ?? '', /edge-taken/);

        const runs = await apiCall<{ items: { runId: string }[] }>(ctx, 'GET', `/runs?pipeline=${id}`);
        await page.goto(`${ctx.baseUrl}/runs/${runs.items[0]!.runId}`);
        const deliveries = page.getByRole('table', { name: 'Notification deliveries' });
        await waitForText(deliveries, 'sent', 30_000);
        await waitForText(deliveries, `failed at step small`);
        assert.deepEqual(hooks.paths, ['/alerts'], 'delivered once');
      } finally {
        await hooks.close();
      }
    },
  },
  {
    name: 'project settings: notification rules with "Send a test message"',
    async run(ctx) {
      const { page } = ctx;
      const hooks = await receiver();
      try {
        await apiCall(ctx, 'PUT', '/projects/default/secrets/e2e-slack-url', { value: `${hooks.url}/slack` });
        await signIn(ctx);
        await page.goto(`${ctx.baseUrl}/settings`);
        const section = page.getByRole('region', { name: 'Notifications' });
        await section.getByRole('textbox', { name: 'Rules (JSON)' }).waitFor();
        await section
          .getByRole('textbox', { name: 'Rules (JSON)' })
          .fill(
            JSON.stringify([
              { on: ['failure'], channel: { type: 'slack', webhookUrlSecret: 'e2e-slack-url' } },
            ]),
          );
        await section.getByRole('button', { name: 'Send a test message' }).click();
        await waitForText(section.getByRole('status', { name: 'Test of rule 1' }), 'sent', 30_000);
        assert.deepEqual(hooks.paths, ['/slack']);
        await section.getByRole('button', { name: 'Save notifications' }).click();
        await waitForText(page.locator('.toasts'), 'Notifications of default saved');
        const saved = await apiCall<{ rules: unknown[] }>(ctx, 'GET', '/projects/default/notifications');
        assert.equal(saved.rules.length, 1);
        // Leave the default project as it was for other scenarios.
        await apiCall(ctx, 'PUT', '/projects/default/notifications', { rules: [] });
      } finally {
        await hooks.close();
      }
    },
  },
];
