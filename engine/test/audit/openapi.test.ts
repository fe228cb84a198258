// The audit and telemetry routes describe themselves in a valid OpenAPI document, with their scopes,
// so adding them to the route table keeps GET /api/openapi.json valid.
import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, it } from 'vitest';
import { auditRoutes } from '../../src/api/audit.routes.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { telemetryRoutes } from '../../src/api/telemetry.routes.js';

describe('OpenAPI of the audit and telemetry routes', () => {
  const document = openApiDocument([...auditRoutes, ...telemetryRoutes], 'test');

  it('is a valid OpenAPI document', async () => {
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
  });

  it('names each operation with its scope and its query parameters', () => {
    const ops = Object.values(document.paths).flatMap((p) => Object.values(p));
    expect(Object.fromEntries(ops.map((o) => [o.operationId, o['x-tributary-scope']]))).toEqual({
      getRunAudit: 'read',
      listAuditLog: 'admin',
      getRunUsage: 'read',
      getUsage: 'read',
      syncTelemetry: 'admin',
    });
    const usage = document.paths['/telemetry/usage']!.get!;
    expect(usage.parameters.map((p) => p.name)).toEqual(['groupBy', 'split', 'from', 'to', 'project']);
    expect(document.paths['/runs/{runId}/audit']!.get!.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
      'path:runId',
      'query:format',
    ]);
  });
});
