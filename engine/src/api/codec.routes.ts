// Temporal's remote codec protocol, so an operator's Temporal Web UI (or `temporal workflow show
// --codec-endpoint http://host/api/codec --codec-auth "Bearer <token>"`) can show the payloads
// that the payload codec encrypted. Decoding reveals every run's plan, params and results, so it
// needs `admin` on every project; the CORS middleware lets the Temporal UI's origin call it.
import type { RequestHandler } from 'express';
import { z } from 'zod';
import {
  fromJsonPayload,
  PayloadDecryptError,
  toJsonPayload,
  type JsonPayload,
} from '../temporal/payload-codec.js';
import { HttpProblem } from './problem.js';
import { route, type AnyRoute } from './route.js';

const base64 = z.base64('must be base64');
const PayloadSchema = z
  .object({
    metadata: z.record(z.string(), base64).nullish(),
    data: base64.nullish(),
  })
  .meta({ id: 'CodecPayload' });
const PayloadsSchema = z
  .object({ payloads: z.array(PayloadSchema).max(10_000) })
  .meta({ id: 'CodecPayloads' });

function codecRoute(direction: 'encode' | 'decode'): AnyRoute {
  return route({
    method: 'post',
    path: `/codec/${direction}`,
    operationId: `${direction}Payloads`,
    summary: direction === 'decode' ? 'Decrypt Temporal payloads' : 'Encrypt Temporal payloads',
    description:
      "Temporal's remote codec protocol, for the Temporal Web UI and CLI (`--codec-endpoint <api>/codec`). " +
      'Payloads not encrypted by Tributary pass through unchanged on decode.',
    tag: 'meta',
    scope: 'admin',
    allProjects: true,
    body: PayloadsSchema,
    responses: { 200: { description: 'The payloads, in order', schema: PayloadsSchema } },
    problems: [503],
    async handler({ body, deps, res }) {
      const codecs = deps.temporal.options.loadedDataConverter.payloadCodecs;
      if (codecs.length === 0) {
        throw new HttpProblem(
          503,
          'Service Unavailable',
          'Payload encryption is off (no TRIBUTARY_PAYLOAD_KEY)',
        );
      }
      const out: JsonPayload[] = [];
      for (const [i, json] of body.payloads.entries()) {
        let payloads = [fromJsonPayload(json)];
        try {
          // Encoding runs the codecs in order, decoding in reverse, as the SDK does.
          for (const codec of direction === 'encode' ? codecs : [...codecs].reverse()) {
            payloads = await codec[direction](payloads);
          }
        } catch (error) {
          if (!(error instanceof PayloadDecryptError)) throw error;
          throw new HttpProblem(400, 'Bad Request', `payloads[${i}]: ${error.message}`, [
            { in: 'body', path: `payloads[${i}]`, message: `payloads[${i}]: ${error.message}` },
          ]);
        }
        out.push(toJsonPayload(payloads[0]!));
      }
      res.json({ payloads: out });
    },
  });
}

export const codecRoutes: AnyRoute[] = [codecRoute('decode'), codecRoute('encode')];

/**
 * CORS for the codec endpoint only: the Temporal UI (another origin) calls it from the browser,
 * with credentials and the `X-Namespace` header. Preflights are answered here, before auth.
 */
export function codecCors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins.map((o) => new URL(o).origin));
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin && allowed.has(origin)) {
      res.set({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Namespace',
        'Access-Control-Max-Age': '600',
        Vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  };
}
