// The route table: every API route, in one list. The router and the OpenAPI document are both
// built from it, and the auth matrix test walks it.
import { auditRoutes } from './audit.routes.js';
import { branchRoutes } from './branches.routes.js';
import { codecRoutes } from './codec.routes.js';
import { connectorRoutes } from './connectors.routes.js';
import { healthRoutes } from './health.routes.js';
import { lineageRoutes } from './lineage.routes.js';
import { metaRoutes } from './meta.routes.js';
import { notificationRoutes } from './notifications.routes.js';
import { pipelineSchemaRoutes } from './pipeline-schemas.routes.js';
import { pipelineVersionRoutes } from './pipeline-versions.routes.js';
import { pipelineRoutes } from './pipelines.routes.js';
import { productRoutes } from './products.routes.js';
import { fileRoutes } from './files.routes.js';
import { projectRoutes } from './projects.routes.js';
import type { AnyRoute } from './route.js';
import { runRoutes } from './runs.routes.js';
import { scheduleRoutes } from './schedules.routes.js';
import { secretRoutes } from './secrets.routes.js';
import { telemetryRoutes } from './telemetry.routes.js';
import { templateRoutes } from './templates.routes.js';
import { tokenRoutes } from './tokens.routes.js';
import { webhookRoutes } from './webhooks.routes.js';

export const apiRoutes: readonly AnyRoute[] = [
  ...healthRoutes,
  ...metaRoutes(() => apiRoutes),
  ...projectRoutes,
  ...fileRoutes,
  ...branchRoutes,
  ...secretRoutes,
  ...connectorRoutes,
  ...pipelineRoutes,
  ...pipelineVersionRoutes,
  ...pipelineSchemaRoutes,
  ...templateRoutes(),
  ...runRoutes,
  ...auditRoutes,
  ...telemetryRoutes,
  ...scheduleRoutes,
  ...webhookRoutes,
  ...tokenRoutes,
  ...productRoutes,
  ...lineageRoutes,
  ...codecRoutes,
  ...notificationRoutes,
];
