// Parses the environment once at start. A bad value stops the process with a message that names
// the variable, instead of failing later somewhere far from the cause.
import path from 'node:path';
import { parseEgressAllow } from '@tributary/activities';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../model/run-contract.js';
import { CreditRatesEnv } from '../telemetry/credit-rates.js';

const optionalUrl = z.url().optional();
const port = z.coerce.number().int().min(0).max(65535);

const EnvSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().default('127.0.0.1'),
  TRIBUTARY_HOME: z.string().default('.tributary'),
  TRIBUTARY_DATA_DIR: z.string().optional(),
  DATABASE_URL: optionalUrl,
  WAREHOUSE_URL: optionalUrl,
  /** Lets DATABASE_URL and WAREHOUSE_URL name one database (the platform schema stays closed to pipelines). */
  TRIBUTARY_ALLOW_SHARED_DATABASE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Non-public hosts and ranges outbound HTTP may reach: a comma list of host names and CIDRs. */
  TRIBUTARY_EGRESS_ALLOW: z
    .string()
    .optional()
    .transform((value, issues) => {
      try {
        return parseEgressAllow(value);
      } catch (error) {
        issues.addIssue({ code: 'custom', message: (error as Error).message.replace(/^\w+: /, '') });
        return z.NEVER;
      }
    }),
  /** The interpreter Python steps' environments are made from; unset: python3 on PATH. */
  TRIBUTARY_PYTHON: z.string().default('python3'),
  /** The package index Python environments are installed from (a private mirror); unset: PyPI. */
  TRIBUTARY_PYTHON_INDEX_URL: optionalUrl,
  /** How Python steps are isolated: bubblewrap (default), or off (limits only; see docs/guides/python-steps.md). */
  TRIBUTARY_PYTHON_SANDBOX: z.enum(['bwrap', 'off']).default('bwrap'),
  /** Warm standby interpreters for transform.python the worker keeps at most (0: none; see docs/guides/python-steps.md). */
  TRIBUTARY_PYTHON_STANDBYS: z.coerce.number().int().min(0).max(16).default(2),
  /** An idle standby ends after this many seconds. */
  TRIBUTARY_PYTHON_STANDBY_IDLE_SECONDS: z.coerce.number().int().positive().default(300),
  POSTGRES_PORT: port.default(5433),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default(DEFAULT_TASK_QUEUE),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_PORT: port.default(7233),
  /** The dev server's UI port (8233 when unset); with TEMPORAL_ADDRESS, the port of that cluster's UI. */
  TEMPORAL_UI_PORT: port.optional(),
  TEMPORAL_UI_URL: z.url().optional(),
  WORKER_MAX_ACTIVITIES: z.coerce.number().int().positive().default(20),
  /** Ceiling of a step's timeoutSeconds and statementTimeoutSeconds (default 6 hours). */
  TRIBUTARY_MAX_STEP_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600)
    .default(6 * 3600),
  /** Steps of one project running at once across its runs; default half of WORKER_MAX_ACTIVITIES. */
  TRIBUTARY_PROJECT_MAX_ACTIVITIES: z.coerce.number().int().positive().optional(),
  WORKER_MAX_WORKFLOW_TASKS: z.coerce.number().int().positive().default(10),
  TRIBUTARY_MASTER_KEY: z.string().optional(),
  /** 32-byte AES key (base64 or hex) that encrypts Temporal payloads; generated when Temporal is embedded. */
  TRIBUTARY_PAYLOAD_KEY: z.string().optional(),
  /** The admin API token, for automation; without it the first start creates one. */
  TRIBUTARY_ADMIN_TOKEN: z
    .string()
    .min(24, 'must be at least 24 characters (openssl rand -base64 32)')
    .regex(/^\S+$/, 'must not contain spaces')
    .optional(),
  /** What this process runs: the API, a worker, or both (the default for `npm start`). */
  TRIBUTARY_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  /** Keep every run's staging tables for previews (pipelines can also ask with settings.keepStaging). */
  TRIBUTARY_KEEP_STAGING: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Hours kept staging stays before it is dropped. */
  STAGING_TTL_HOURS: z.coerce.number().positive().default(24),
  /** Credits per activity-second by node kind or type, as JSON (`{"source":1,"transform":2}`); unset: all 1. */
  TRIBUTARY_CREDIT_RATES: CreditRatesEnv.optional(),
  /** Minutes between the worker's syncs of run usage into the warehouse; 0 turns the sync off. */
  TRIBUTARY_TELEMETRY_SYNC_MINUTES: z.coerce.number().min(0).default(15),
  /** An OpenLineage collector (e.g. Marquez's http://host:5000): run events are pushed to it. Unset: not pushed. */
  TRIBUTARY_OPENLINEAGE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The collector's path under the URL (the OpenLineage HTTP transport's default). */
  TRIBUTARY_OPENLINEAGE_ENDPOINT: z.string().default('api/v1/lineage'),
  /** Sent as `Authorization: Bearer <key>` when set. */
  TRIBUTARY_OPENLINEAGE_API_KEY: z.string().optional(),
  /** Seconds between two passes of the OpenLineage outbox. */
  TRIBUTARY_OPENLINEAGE_INTERVAL_SECONDS: z.coerce.number().positive().default(5),
  /** Days a closed run's record is kept (docs/operations/run-records.md); unset: forever. */
  TRIBUTARY_RUN_RETENTION_DAYS: z.coerce.number().int().positive().optional(),
  /** Seconds between the recorder's passes, which write closed runs' records; keep it far below the namespace's retention. */
  TRIBUTARY_RUN_RECORD_SECONDS: z.coerce.number().positive().default(15),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Where users reach the builder; notifications link to runs there (default http://localhost:$PORT). */
  TRIBUTARY_PUBLIC_URL: z.url().optional(),
  /** Minutes between the worker's freshness checks of data products (stale notifications). */
  TRIBUTARY_FRESHNESS_CHECK_MINUTES: z.coerce.number().positive().default(5),
});

export type Env = z.infer<typeof EnvSchema> & {
  /** Absolute form of TRIBUTARY_HOME. */
  home: string;
  /** Absolute form of TRIBUTARY_DATA_DIR, defaulting to `$TRIBUTARY_HOME/files`. */
  dataDir: string;
};

export class EnvError extends Error {}

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  // Empty strings count as unset: `FOO= npm start` should not mean "FOO is the empty URL".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new EnvError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const home = path.resolve(result.data.TRIBUTARY_HOME);
  const dataDir = path.resolve(result.data.TRIBUTARY_DATA_DIR ?? path.join(home, 'files'));
  return { ...result.data, home, dataDir };
}
