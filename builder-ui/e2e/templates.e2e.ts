// Every template as a new user meets it: created through its dialog in a project of its own (whose
// files folder does not exist yet), its missing secrets set and its files uploaded in that dialog, and
// its first run green. What a template reads outside the platform is real and local: a Postgres
// server for the databases it replicates or rolls up, a JSON API, a webhook receiver that checks
// signatures (engine/test/templates/scenario.ts, the golden tests' stand-ins), and the telemetry the
// stack itself syncs. The values are each template's golden scenario's (fixtures/scenario.json).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Locator } from 'playwright-core';
import { startSystemPostgres, type SystemPostgres } from '../../engine/test/system-postgres.ts';
import {
  fillVariables,
  readScenario,
  startFixtureApi,
  startWebhookReceiver,
} from '../../engine/test/templates/scenario.ts';
import { docsScreenshot } from './builder.e2e.ts';
import { apiCall, pressRun, runToEnd, signIn, type Scenario, type ScenarioContext } from './helpers.ts';
import { REPO } from './stack.ts';

const TEMPLATES = path.join(REPO, 'templates');
const POSTGRES_BIN = process.env.TRIBUTARY_TEST_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
const stamp = Date.now().toString(36).slice(-5);

const humanize = (name: string) => {
  const words = name.replace(/[_-]+/g, ' ').toLowerCase();
  const fixed = words.replace(/\b(sql|url|http|json|csv|id)\b/g, (w) => w.toUpperCase());
  return fixed.charAt(0).toUpperCase() + fixed.slice(1);
};
const schemaOf = (project: string) => project.replace(/-/g, '_');

/** Sets a field of the template's values form, whatever control the form drew for it. */
async function setValue(values: Locator, name: string, value: unknown): Promise<void> {
  // A required field's label ends in " *".
  const label = humanize(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const field = values.getByLabel(new RegExp(`^${label}( \\*)?$`));
  const tag = await field.evaluate((el) => el.tagName.toLowerCase());
  if (tag === 'select') await field.selectOption(String(value));
  else if (typeof value === 'boolean') await field.setChecked(value);
  else await field.fill(String(value));
}

/**
 * A database on the local Postgres standing in for an external one, set up by the scenario's SQL;
 * its URL (with the server's own password) goes into the project's secret through the dialog.
 */
async function externalDatabase(server: SystemPostgres, name: string, setup: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    await admin.query(`create database ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  try {
    await db.query(setup);
  } finally {
    await db.end();
  }
  return url.toString();
}

/**
 * A producer project that publishes `orders` as a data product and shares it with `consumer`, all
 * through the API: its pipeline copies the scenario's rows from a local database into its schema.
 */
async function sharedProduct(
  ctx: ScenarioContext,
  server: SystemPostgres,
  setupFile: string,
  consumer: string,
): Promise<string> {
  const producer = `prod-${stamp}`;
  await apiCall(ctx, 'POST', '/projects', { id: producer, name: 'Producer' });
  const url = await externalDatabase(
    server,
    `producer_${stamp}`,
    fillVariables(readFileSync(setupFile, 'utf8'), { producer_schema: 'public' }),
  );
  await apiCall(ctx, 'PUT', `/projects/${producer}/secrets/orders-db`, { value: url });
  const pipelineId = `${producer}-orders`;
  await apiCall(ctx, 'POST', '/pipelines', {
    apiVersion: 'tributary/v1',
    id: pipelineId,
    name: 'Orders',
    project: producer,
    nodes: [
      {
        id: 'read',
        type: 'source.postgres',
        config: { connection: 'orders-db', query: 'select id, customer, amount from public.orders' },
      },
      { id: 'orders', type: 'sink.postgres', config: { table: 'orders', mode: 'replace' } },
    ],
    edges: [{ from: 'read', to: 'orders' }],
  });
  assert.equal((await runToEnd(ctx, pipelineId, {})).status, 'succeeded');
  const product = `${producer}-orders`;
  await apiCall(ctx, 'POST', `/projects/${producer}/products`, {
    id: product,
    table: `${schemaOf(producer)}.orders`,
    name: 'Orders',
  });
  await apiCall(ctx, 'PUT', `/products/${product}/shares/${consumer}`);
  return product;
}

export const scenarios: Scenario[] = [
  {
    name: 'every template succeeds the first time: created in its dialog (secrets set, files uploaded there), then a run is green',
    async run(ctx) {
      const { page } = ctx;
      // Templates for a real service (tag `needs-service`: GitHub, Stripe, HubSpot) need that
      // service for a first run; connector-templates.int.test.ts checks them against their
      // connector's real spec instead.
      const ids = readdirSync(TEMPLATES, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .filter(
          (id) =>
            !(
              JSON.parse(readFileSync(path.join(TEMPLATES, id, 'template.json'), 'utf8')) as {
                tags?: string[];
              }
            ).tags?.includes('needs-service'),
        )
        .sort();
      assert.ok(ids.length >= 15, `only ${ids.length} templates`);
      const server = await startSystemPostgres(POSTGRES_BIN);
      const closers: (() => Promise<unknown>)[] = [() => server.stop()];
      const failures: string[] = [];
      try {
        await signIn(ctx);
        for (const templateId of ids) {
          const folder = path.join(TEMPLATES, templateId);
          const fixtures = path.join(folder, 'fixtures');
          const template = JSON.parse(readFileSync(path.join(folder, 'template.json'), 'utf8')) as {
            title: string;
          };
          const scenario = readScenario(folder);
          const first = scenario.runs[0]!;
          // Only the default project reads the platform's telemetry; every other template gets a
          // project of its own, whose files folder does not exist yet, as on a fresh install.
          const telemetry = scenario.telemetrySchema !== undefined;
          const project = telemetry ? 'default' : `t${stamp}-${templateId}`.slice(0, 40);
          if (!telemetry) await apiCall(ctx, 'POST', '/projects', { id: project, name: template.title });
          const schema = telemetry ? 'public' : schemaOf(project);
          const variables: Record<string, string> = { files: 'in', schema };
          for (const [name, setup] of Object.entries(scenario.databases)) {
            variables[`db:${name}`] = await externalDatabase(
              server,
              `${templateId.replace(/-/g, '_')}_${name}_${stamp}`,
              readFileSync(path.join(fixtures, setup), 'utf8'),
            );
          }
          if (scenario.api) {
            const api = await startFixtureApi(fixtures, scenario.api);
            api.serve(first.api);
            closers.push(api.close);
            variables.api = api.url;
          }
          if (scenario.webhook) {
            const hook = await startWebhookReceiver(scenario.webhook.secret);
            closers.push(hook.close);
            variables.webhook = `${hook.url}/hooks/tributary`;
          }
          if (scenario.producer) {
            variables.product = await sharedProduct(
              ctx,
              server,
              path.join(fixtures, scenario.producer.setup),
              project,
            );
          }
          // The real telemetry, not the scenario's fixture rows: the stack's own sync writes it.
          const values = telemetry ? { target_schema: 'public' } : fillVariables(scenario.values, variables);
          const secrets = fillVariables(scenario.secrets, variables);
          // A folder of files (a Singer tap's) is not one path the dialog can ask for: upload it first.
          const folderOfFiles = 'folder' in scenario.values;
          for (const file of readdirSync(fixtures).filter(
            (f) => f.endsWith('.jsonl') || (folderOfFiles && f.endsWith('.csv')),
          )) {
            await apiCall(ctx, 'POST', `/projects/${project}/files`, {
              path: `in/${file}`,
              content: readFileSync(path.join(fixtures, file), 'utf8'),
            });
          }

          await page.goto(`${ctx.baseUrl}/templates`);
          await page.getByRole('button', { name: `Use template ${template.title}`, exact: true }).click();
          const dialog = page.getByRole('dialog', { name: /^Use template: / });
          const pipelineId = `${templateId.slice(0, 24)}-${stamp}`;
          await dialog.getByLabel('New pipeline id').fill(pipelineId);
          await dialog.getByLabel('Project').selectOption(project);
          await dialog.getByRole('button', { name: 'Fill with examples' }).click();
          const form = dialog.getByRole('region', { name: 'Template values' });
          for (const [name, value] of Object.entries(values)) await setValue(form, name, value);

          // Secrets the project lacks: set in the dialog, with the scenario's values.
          const missing = dialog.getByRole('region', { name: 'Missing secrets' });
          for (const [name, value] of Object.entries(secrets)) {
            const create = missing.getByRole('group', { name: `Create secret ${name}` });
            await create.waitFor({ timeout: 10_000 });
            await create.getByLabel(`Value of secret ${name}`).fill(value);
            await create.getByRole('button', { name: `Create secret ${name}` }).click();
            await create.waitFor({ state: 'detached' });
          }
          // Files it reads that the project lacks: uploaded in the dialog, from the fixtures.
          const files = dialog.getByRole('region', { name: 'Files it reads' });
          if (await files.count()) {
            const uploads = files.getByLabel(/^Upload /);
            while ((await uploads.count()) > 0) {
              const upload = uploads.first();
              const wanted = ((await upload.getAttribute('aria-label')) ?? '').replace(/^Upload /, '');
              const csvs = readdirSync(fixtures)
                .filter((f) => f.endsWith('.csv'))
                .sort();
              const fixture =
                csvs.find((f) => f === path.basename(wanted)) ??
                csvs.find((f) => f.startsWith(path.basename(wanted, '.csv')));
              assert.ok(fixture, `${templateId}: no fixture for ${wanted}`);
              await upload.setInputFiles(path.join(fixtures, fixture));
              await files.getByLabel(`${wanted} is in the project`).waitFor();
            }
          }

          await dialog.getByRole('button', { name: 'Create pipeline' }).click();
          await page.getByRole('status', { name: 'Published, version 1' }).waitFor({ timeout: 30_000 });
          await pressRun(page);
          await page.getByLabel(/^Run status: (succeeded|failed)$/).waitFor({ timeout: 180_000 });
          const runId = new URL(page.url()).searchParams.get('run')!;
          const run = await apiCall<{
            status: string;
            steps: Record<string, { status: string; error: string | null }>;
          }>(ctx, 'GET', `/runs/${runId}`);
          if (run.status !== 'succeeded')
            failures.push(
              `${templateId} ${run.status}: ${Object.entries(run.steps)
                .filter(([, s]) => s.error)
                .map(([k, s]) => `${k}: ${s.error}`)
                .join('; ')}`,
            );
          console.log(`    ${templateId}: ${run.status}`);
          if (templateId === 'csv-to-table') await docsScreenshot(page, 'builder-template-run');
        }
      } finally {
        for (const close of closers.reverse()) await close().catch(() => {});
      }
      assert.deepEqual(failures, [], failures.join('\n'));
    },
  },
];
