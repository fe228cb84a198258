// Builds the HTTP app from its dependencies; listening and shutdown live in the entry point, so
// tests can run the same app in-process on a random port.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { RunsClient } from '../client/runs.js';
import type { Logger } from '../infra/logger.js';
import type { SecretStore } from '../store/secrets.store.js';
import type { CreditRates } from '../telemetry/credit-rates.js';
import { codecCors } from './codec.routes.js';
import { createContext } from './context.js';
import { problemHandler, unknownRoute } from './problem.js';
import type { RateLimit } from './rate-limit.js';
import { mountRoutes } from './route.js';
import { apiRoutes } from './routes.js';

export interface AppDeps {
  /** The platform database (schema `tributary`). */
  pool: pg.Pool;
  temporal: Client;
  version: string;
  log: Logger;
  /** The built builder UI; served at `/` when present. */
  uiDir?: string;
  /** Where step outputs live (previews); defaults to `pool`. */
  warehousePool?: pg.Pool;
  /** Defaults to a client on `taskQueue`. */
  runs?: RunsClient;
  /** The workers' task queue, for schedules (default `tributary`). */
  taskQueue?: string;
  secrets?: SecretStore;
  /** Base URL webhook URLs are built on; defaults to the request's own host. */
  publicUrl?: string;
  /** Per webhook; default 60 a minute with bursts of 60. */
  hookRateLimit?: RateLimit;
  /** How often the run event stream looks for progress (default 500 ms). */
  ssePollMs?: number;
  /** Credits per activity-second for the usage routes (TRIBUTARY_CREDIT_RATES); default: every rate 1. */
  creditRates?: CreditRates;
  /** Origins (the Temporal Web UI) allowed to call the payload codec endpoint from a browser. */
  codecCorsOrigins?: readonly string[];
}

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    helmet({
      // The builder UI loads its own bundle only; inline styles come from React Flow.
      contentSecurityPolicy: {
        directives: { 'style-src': ["'self'", "'unsafe-inline'"], 'img-src': ["'self'", 'data:'] },
      },
    }),
  );
  app.use(express.json({ limit: '1mb', type: ['application/json', 'application/*+json'] }));

  const api = express.Router();
  api.use('/codec', codecCors(deps.codecCorsOrigins ?? []));
  mountRoutes(api, apiRoutes, createContext(deps));
  api.use(unknownRoute);
  app.use('/api', api);

  if (deps.uiDir && existsSync(path.join(deps.uiDir, 'index.html'))) {
    const uiDir = deps.uiDir;
    app.use(express.static(uiDir, { index: false, maxAge: '1h' }));
    // Client-side routes (/pipelines/x, /runs/y) all load the single page.
    app.get('/{*path}', (_req, res) => res.sendFile(path.join(uiDir, 'index.html')));
  }
  app.use(unknownRoute);
  app.use(problemHandler(deps.log));
  return app;
}
