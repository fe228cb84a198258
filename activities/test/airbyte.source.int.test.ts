// source.airbyte through real pipeline runs with the real airbyte-source-faker from PyPI (its
// environment built once with uv and cached under .tributary/python), the bubblewrap sandbox,
// Temporal and Postgres: full refresh typed from the stream schema, incremental reads whose STATE
// is committed only by a successful run, and a read killed mid-stream that is retried without
// duplicating a row (checked in SQL on the published table).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../engine/test/harness.js';
import { stagingSchemaFor } from '../../engine/src/model/run-ids.js';
import { killSandboxWhenFound } from './source-test-utils.js';

export const FAKER = 'airbyte-source-faker==6.2.32';

let h: Harness;
const suffix = randomBytes(4).toString('hex');
beforeAll(async () => {
  h = await startHarness();
}, 600_000);
afterAll(async () => {
  await h?.platform.warehousePool.query(`drop table if exists public.ab_users_${suffix}`);
  await h?.stop();
});

const faker = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  package: FAKER,
  config: { count: 50, seed: 1, records_per_slice: 20, always_updated: false, parallelism: 1, ...config },
  ...extra,
});

function onePipeline(id: string, config: Record<string, unknown>, node: Record<string, unknown> = {}) {
  return {
    apiVersion: 'tributary/v1',
    id,
    name: id,
    settings: { keepStaging: true },
    nodes: [{ id: 'src', type: 'source.airbyte', config, ...node }],
  };
}

async function columns(runId: string, pipelineId: string) {
  const result = await h.platform.warehousePool.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type from pg_attribute a
      where a.attrelid = to_regclass($1) and a.attnum > 0 and not a.attisdropped order by a.attnum`,
    [`"${stagingSchemaFor(runId, pipelineId)}".src`],
  );
  return Object.fromEntries(result.rows.map((r) => [r.name, r.type]));
}

/** Whether a sandbox's command line is the `read` of the faker whose config has this seed. */
function isRead(seed: number): (argv: string[]) => boolean {
  return (argv) => {
    if (!argv.includes('read')) return false;
    const scratch = argv[argv.indexOf('/scratch') - 1];
    try {
      const config = JSON.parse(readFileSync(`${scratch}/config.json`, 'utf8')) as { seed?: number };
      return config.seed === seed;
    } catch {
      return false; // not ours, or gone
    }
  };
}

describe('source.airbyte (airbyte-source-faker)', () => {
  it('reads a stream in full refresh into a table typed from its schema, nested values as jsonb', async () => {
    const id = `ab-full-${suffix}`;
    const { runId, status, progress } = await h.run(
      h.plan(onePipeline(id, faker({ count: 30 }, { stream: 'users' }), { retry: { maxAttempts: 1 } })),
    );
    expect(progress?.steps.src?.error ?? null).toBeNull();
    expect(status).toBe('succeeded');
    expect(progress?.steps.src).toMatchObject({ rowsOut: 30 });
    expect(await columns(runId, id)).toMatchObject({
      id: 'bigint',
      created_at: 'timestamp with time zone',
      name: 'text',
      age: 'bigint',
      address: 'jsonb',
    });
    const { rows } = await h.platform.warehousePool.query(
      `select count(*)::int as n, count(distinct id)::int as ids, min(id)::int as lo, max(id)::int as hi,
              bool_and(address ? 'city') as cities
         from "${stagingSchemaFor(runId, id)}".src`,
    );
    expect(rows[0]).toEqual({ n: 30, ids: 30, lo: 1, hi: 30, cities: true });
  }, 600_000);

  it('names the streams there are when the picked one does not exist, without retrying', async () => {
    const id = `ab-nostream-${suffix}`;
    const { progress } = await h.run(h.plan(onePipeline(id, faker({}, { stream: 'customers' }))));
    expect(progress?.steps.src?.attempt).toBe(1);
    expect(progress?.steps.src?.error).toMatch(
      /config\.stream: .* has no stream "customers" \(it has: products, users, purchases\)/,
    );
  }, 300_000);

  it('fails at once, not retried, when the config does not fit the spec: the field named, the connector never run past spec', async () => {
    const id = `ab-badconfig-${suffix}`;
    const { status, progress } = await h.run(
      h.plan(onePipeline(id, faker({ count: 'many', parallelism: 0 }, { stream: 'users' }))),
    );
    expect(status).toBe('failed');
    expect(progress?.steps.src?.attempt).toBe(1);
    expect(progress?.steps.src?.error).toMatch(
      /config\.config\.count: must be integer; config\.config\.parallelism: must be >= 1 \(checked against the spec of airbyte-source-faker==6\.2\.32, before running it\)/,
    );
  }, 300_000);

  it('refuses a secret for a field the spec does not mark secret', async () => {
    const id = `ab-secret-${suffix}`;
    const { progress } = await h.run(
      h.plan(onePipeline(id, faker({}, { stream: 'users', secrets: { count: 'some-secret' } }))),
    );
    expect(progress?.steps.src?.error).toMatch(/has no secret field "count"/);
  }, 300_000);

  it('reads incrementally: a killed read is retried from the committed state and duplicates nothing', async () => {
    const id = `ab-inc-${suffix}`;
    const target = `public.ab_users_${suffix}`;
    const seed = 4000 + Math.floor(Math.random() * 1000);
    // Enough records that the read still streams when it is killed, on a fast machine too (4,000
    // were all read within the 1.5 s this test once waited).
    const records = 40_000;
    const document = {
      apiVersion: 'tributary/v1',
      id,
      name: id,
      nodes: [
        {
          id: 'src',
          type: 'source.airbyte',
          config: faker(
            { count: records, seed, records_per_slice: 200 },
            { stream: 'users', syncMode: 'incremental' },
          ),
          retry: { maxAttempts: 3, initialIntervalSeconds: 1 },
        },
        { id: 'out', type: 'sink.postgres', config: { table: target, mode: 'append' } },
      ],
      edges: [{ from: 'src', to: 'out' }],
    };
    // Attempt 1 is killed (SIGKILL to its sandbox) while it streams records.
    const running = h.run(h.plan(document));
    expect(await killSandboxWhenFound(isRead(seed), 500)).toBeDefined();
    const first = await running;
    expect(first.status).toBe('succeeded');
    expect(first.progress?.steps.src?.attempt).toBe(2);
    const count = async () =>
      (
        await h.platform.warehousePool.query(
          `select count(*)::int as n, count(distinct id)::int as ids from ${target}`,
        )
      ).rows[0];
    expect(await count()).toEqual({ n: records, ids: records });
    const state = await h.platform.platformPool.query(
      `select state from tributary.node_state where pipeline_id = $1 and node_id = 'src' and branch = ''`,
      [id],
    );
    expect(state.rows[0]?.state).toMatchObject({ streams: { users: { seed, loop_offset: records } } });

    // The next run starts from the stored state: nothing new, nothing read twice.
    const second = await h.run(h.plan(document));
    expect(second.status).toBe('succeeded');
    expect(second.progress?.steps.src).toMatchObject({ rowsOut: 0 });
    expect(second.progress?.steps.src?.notes?.[0]).toMatch(/from the stored state/);
    expect(await count()).toEqual({ n: records, ids: records });
  }, 900_000);
});
