// The credit model: credits per activity-second, by node kind (source, transform, sink) with
// optional overrides per node type. Configured by TRIBUTARY_CREDIT_RATES as JSON; every rate is 1
// unless set.
import { z } from 'zod';

export interface CreditRates {
  source: number;
  transform: number;
  sink: number;
  /** Node type → rate, overriding its kind's rate (e.g. `"<kind>.<name>": 3`). */
  types: Record<string, number>;
}

export const DEFAULT_CREDIT_RATES: CreditRates = { source: 1, transform: 1, sink: 1, types: {} };

const rate = z.number().finite().min(0, 'must be 0 or more');
const NODE_TYPE = /^[a-z]+(\.[a-z0-9_-]+)+$/;

const CreditRatesObject = z
  .record(z.string(), rate)
  .superRefine((rates, ctx) => {
    for (const key of Object.keys(rates)) {
      if (key !== 'source' && key !== 'transform' && key !== 'sink' && !NODE_TYPE.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${key}" is neither a node kind (source, transform, sink) nor a dotted node type such as "<kind>.<name>"`,
        });
      }
    }
  })
  .transform((rates): CreditRates => ({
    source: rates.source ?? 1,
    transform: rates.transform ?? 1,
    sink: rates.sink ?? 1,
    types: Object.fromEntries(Object.entries(rates).filter(([k]) => k.includes('.'))),
  }));

/** For the env schema: `TRIBUTARY_CREDIT_RATES: CreditRatesEnv.optional()`. */
export const CreditRatesEnv = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `is not JSON (${(error as Error).message}); expected e.g. {"source":1,"transform":2,"sink":1}`,
      });
      return z.NEVER;
    }
  })
  .pipe(CreditRatesObject);

export class CreditRatesError extends Error {}

/** Parses the JSON text of TRIBUTARY_CREDIT_RATES (undefined or empty: all rates 1). */
export function parseCreditRates(text: string | undefined): CreditRates {
  if (text === undefined || text.trim() === '') return DEFAULT_CREDIT_RATES;
  const parsed = CreditRatesEnv.safeParse(text);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) =>
      i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message,
    );
    throw new CreditRatesError(`TRIBUTARY_CREDIT_RATES ${issues.join('; ')}`);
  }
  return parsed.data;
}

export function rateFor(rates: CreditRates, kind: string, type: string): number {
  return (
    rates.types[type] ?? (kind === 'source' || kind === 'transform' || kind === 'sink' ? rates[kind] : 1)
  );
}
