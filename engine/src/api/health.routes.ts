// GET /api/health: is each part this process depends on answering? 503 names the part that is not.
import { z } from 'zod';
import { RETRY_AFTER_SECONDS } from './outage.js';
import { route } from './route.js';

// Within the 2 s an outage is answered in (api/outage.ts).
const CHECK_TIMEOUT_MS = 1_500;

async function probe(check: () => Promise<unknown>): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `down: ${(error as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

const HealthSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  temporal: z.string(),
  postgres: z.string(),
  version: z.string(),
  temporalUi: z
    .string()
    .optional()
    .meta({
      description:
        'The Temporal Web UI (TEMPORAL_UI_URL, or the dev server started on TEMPORAL_UI_PORT), when this ' +
        'process knows it; a run is at `{temporalUi}/namespaces/{temporalNamespace}/workflows/{runId}`',
    }),
  temporalNamespace: z
    .string()
    .meta({ description: 'The Temporal namespace runs live in (TEMPORAL_NAMESPACE)' }),
});

export const healthRoutes = [
  route({
    method: 'get',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Whether Temporal and Postgres answer',
    tag: 'meta',
    scope: null,
    responses: {
      200: { description: 'Both answer', schema: HealthSchema },
      503: { description: 'A part is down; its field says why', schema: HealthSchema },
    },
    async handler({ deps, res }) {
      const [temporal, postgres] = await Promise.all([
        probe(() => deps.temporal.connection.workflowService.getSystemInfo({})),
        probe(() => deps.pool.query('select 1')),
      ]);
      const ok = temporal === 'ok' && postgres === 'ok';
      if (!ok) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
      res.status(ok ? 200 : 503).json({
        status: ok ? 'ok' : 'degraded',
        temporal,
        postgres,
        version: deps.version,
        temporalNamespace: deps.temporal.options.namespace,
        ...(deps.temporalUi ? { temporalUi: deps.temporalUi } : {}),
      });
    },
  }),
];
