// Every template end to end, in one table: instantiated with its example values (plus this environment's
// addresses), run on real Temporal and Postgres per its scenario, outputs compared with `expected/`.
import { randomBytes } from 'node:crypto';
import { cpSync, copyFileSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { projectSchemaName } from '@tributary/activities';
import { AuditLog } from '../../src/audit/audit-log.store.js';
import { publishProduct, shareProduct } from '../../src/products/product-service.js';
import { ProductStore } from '../../src/products/products.store.js';
import { PipelineStore } from '../../src/store/pipelines.store.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEMPLATES_DIR, readTemplateFolder } from '../../src/templates/catalog.js';
import { templateNodeCatalog } from '../../src/templates/check-template.js';
import { exampleValues, instantiate } from '../../src/templates/instantiate.js';
import { ProjectStore } from '../../src/store/projects.store.js';
import { createTelemetryTables } from '../../src/telemetry/telemetry-sync.js';
import { startHarness, type Harness } from '../harness.js';
import {
  fillVariables,
  readScenario,
  sortRows,
  startFixtureApi,
  startWebhookReceiver,
  tableAsCsv,
  type FixtureApi,
  type WebhookReceiver,
} from './scenario.js';

// Templates for a real service (tag `needs-service`: GitHub, Stripe, HubSpot) cannot run offline;
// connector-templates.int.test.ts checks them against their connector's real spec instead.
const TEMPLATE_IDS = readdirSync(TEMPLATES_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
  .map((e) => e.name)
  .filter(
    (id) =>
      !(
        JSON.parse(readFileSync(path.join(TEMPLATES_DIR, id, 'template.json'), 'utf8')) as {
          tags?: string[];
        }
      ).tags?.includes('needs-service'),
  )
  .sort();

const suffix = randomBytes(3).toString('hex');
let h: Harness;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await h?.stop();
});

/** A database on the test server standing in for an external one, dropped when the file ends. */
async function externalDatabase(name: string, setupSql: string): Promise<{ url: string; pool: pg.Pool }> {
  await h.platform.warehousePool.query(`create database ${pg.escapeIdentifier(name)}`);
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // The drop below terminates whatever is still connected; a client ending meanwhile must not throw.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  closers.push(async () => {
    await pool.end();
    await h.platform.warehousePool.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  });
  await pool.query(setupSql);
  return { url: url.toString(), pool };
}

describe('pipeline templates, end to end', () => {
  it('has templates to test', () => {
    expect(TEMPLATE_IDS.length).toBeGreaterThanOrEqual(9);
  });

  /** A producer project of its own that publishes a table as a product and shares it with `consumer`. */
  async function publishSharedProduct(
    producer: NonNullable<ReturnType<typeof readScenario>['producer']>,
    fixtures: string,
    consumer: string,
    variables: Record<string, string>,
  ) {
    const projects = new ProjectStore(h.platform.platformPool);
    const id = `tplp-${suffix}`;
    if (!(await projects.get(id))) await projects.create({ id, name: id });
    const schema = projectSchemaName(id);
    await h.giveSchema(schema, id);
    closers.push(() =>
      h.platform.warehousePool.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`),
    );
    const sql = fillVariables(readFileSync(path.join(fixtures, producer.setup), 'utf8'), {
      ...variables,
      producer_schema: schema,
    });
    await h.platform.warehousePool.query(sql);
    await h.giveSchema(schema, id);
    const deps = {
      pool: h.platform.platformPool,
      warehousePool: h.platform.warehousePool,
      pipelines: new PipelineStore(h.platform.platformPool),
      projects,
      audit: new AuditLog(h.platform.platformPool),
      catalog: templateNodeCatalog,
    };
    const productId = `${id}-${producer.table}`.replace(/_/g, '-');
    if (!(await new ProductStore(h.platform.platformPool).get(productId))) {
      await publishProduct(
        deps,
        id,
        { id: productId, table: { schema, table: producer.table }, name: producer.table },
        'test',
      );
    }
    const product = await new ProductStore(h.platform.platformPool).require(productId);
    await shareProduct(deps, product, consumer, 'test');
    variables.product = productId;
  }

  it.each(TEMPLATE_IDS)('%s: runs its golden scenario and produces exactly its expected rows', async (id) => {
    const dir = path.join(TEMPLATES_DIR, id);
    const read = readTemplateFolder(dir);
    expect(read.problems).toEqual([]);
    const template = read.template!;
    const scenario = readScenario(dir);
    const fixtures = path.join(dir, 'fixtures');
    const tag = `${id.replace(/-/g, '_').slice(0, 20)}_${suffix}`;

    // Its own project (so default secret names cannot clash), data folder and warehouse schema,
    // one the project's naming rule gives it.
    const project = `tpl-${id}`.slice(0, 50);
    const schema = `${projectSchemaName(project)}_${suffix}`;
    if (!(await new ProjectStore(h.platform.platformPool).get(project))) {
      await new ProjectStore(h.platform.platformPool).create({ id: project, name: project });
    }
    const files = path.join(`templates-${suffix}`, id);
    cpSync(fixtures, path.join(h.dataDir, project, files), { recursive: true });
    const variables: Record<string, string> = { files, schema };
    closers.push(() =>
      h.platform.warehousePool.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`),
    );
    await h.giveSchema(schema, project);

    const databases = new Map<string, pg.Pool>([['warehouse', h.platform.warehousePool]]);
    for (const [name, setup] of Object.entries(scenario.databases)) {
      const db = await externalDatabase(
        `tpl_${tag}_${name}`,
        readFileSync(path.join(fixtures, setup), 'utf8'),
      );
      databases.set(name, db.pool);
      variables[`db:${name}`] = db.url;
    }
    if (scenario.producer) {
      await publishSharedProduct(scenario.producer, fixtures, project, variables);
    }
    if (scenario.telemetrySchema) {
      await createTelemetryTables(
        h.platform.warehousePool,
        fillVariables(scenario.telemetrySchema, variables),
      );
      await h.giveSchema(fillVariables(scenario.telemetrySchema, variables), project);
    }
    let api: FixtureApi | undefined;
    if (scenario.api) {
      api = await startFixtureApi(fixtures, scenario.api);
      closers.push(api.close);
      variables.api = api.url;
    }
    let webhook: WebhookReceiver | undefined;
    if (scenario.webhook) {
      webhook = await startWebhookReceiver(scenario.webhook.secret);
      closers.push(webhook.close);
      variables.webhook = `${webhook.url}/hooks/tributary`;
    }
    for (const [name, value] of Object.entries(fillVariables(scenario.secrets, variables))) {
      await h.platform.secrets.set(project, name, value);
    }

    const overrides = fillVariables(scenario.values, variables);
    for (const name of Object.keys(overrides))
      expect(Object.keys(template.params.properties)).toContain(name);
    const made = instantiate(
      template,
      { pipelineId: `g-${id}-${suffix}`, project, values: { ...exampleValues(template), ...overrides } },
      templateNodeCatalog,
    );
    if (!made.ok) throw new Error(`${id} does not instantiate: ${JSON.stringify(made.errors, null, 2)}`);

    for (const [i, run] of scenario.runs.entries()) {
      for (const [target, fixture] of Object.entries(run.files)) {
        copyFileSync(path.join(fixtures, fixture), path.join(h.dataDir, project, files, target));
      }
      for (const step of run.sql) {
        const sql = fillVariables(readFileSync(path.join(fixtures, step.file), 'utf8'), variables);
        await databases.get(step.database)!.query(sql);
        // What setup SQL made in the warehouse is the project's, as if its pipelines had made it.
        if (step.database === 'warehouse') await h.giveSchema(schema, project);
      }
      api?.serve(run.api);
      const seen = api?.requests.length ?? 0;
      const { status, progress } = await h.run(h.plan(made.document, fillVariables(run.params, variables)));
      const failures = Object.entries(progress?.steps ?? {})
        .filter(([, s]) => s.error)
        .map(([step, s]) => `${step}: ${s.error}`);
      expect(status, `run ${i + 1} of ${id}; step errors: ${failures.join('\n') || 'none'}`).toBe(run.status);
      for (const [step, stats] of Object.entries(run.steps)) {
        expect(progress!.steps[step], `step ${step} of run ${i + 1}`).toMatchObject(stats);
      }
      if (run.error) {
        for (const text of run.error.contains) expect(progress!.steps[run.error.step]!.error).toContain(text);
      }
      if (api && run.expectQuery) {
        const requests = api.requests.slice(seen);
        expect(requests.length).toBeGreaterThan(0);
        for (const request of requests) expect(request.query).toMatchObject(run.expectQuery);
      }
    }

    for (const expected of scenario.expected) {
      if ('table' in expected) {
        const table = fillVariables(expected.table, variables);
        const actual = await tableAsCsv(databases.get(expected.database)!, table, expected.orderBy);
        expect(actual, `${table} in ${expected.database}`).toBe(
          readFileSync(path.join(dir, 'expected', expected.file), 'utf8'),
        );
      } else {
        const wanted = JSON.parse(
          readFileSync(path.join(dir, 'expected', expected.webhook), 'utf8'),
        ) as unknown;
        expect(sortRows(webhook!.rows(), expected.orderBy)).toEqual(wanted);
      }
    }
  });
});
