// Builds the HTTP app from its dependencies; listening and shutdown live in the entry point, so
// tests can run the same app in-process on a random port.
import { existsSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';
import { mcpHandler } from '../mcp/mcp-http.js';
import { codecCors } from './codec.routes.js';
import { createContext, type AppDeps } from './context.js';
import { jsonBody } from './json-body.js';
import { problemHandler, unknownRoute } from './problem.js';
import { mountRoutes } from './route.js';
import { apiRoutes } from './routes.js';

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
  // Bounded (size and depth) before any route, authentication included: see json-body.ts.
  app.use(jsonBody());

  const api = express.Router();
  // Every answer of the API is about mutable state: a browser may keep it, but must ask each time
  // (and the ETags change whenever an answer does, so its If-None-Match gets a 304 only when nothing did).
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-cache');
    next();
  });
  api.use('/codec', codecCors(deps.codecCorsOrigins ?? []));
  const context = createContext(deps);
  // The Model Context Protocol endpoint (JSON-RPC, not a REST route: not in the route table).
  api.all('/mcp', mcpHandler(context));
  mountRoutes(api, apiRoutes, context);
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
