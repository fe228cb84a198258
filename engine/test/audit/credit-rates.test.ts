// The credit model's configuration: TRIBUTARY_CREDIT_RATES as JSON, rates per node kind with
// overrides per node type, and a clear error naming what is wrong.
import { describe, expect, it } from 'vitest';
import { EnvError, parseEnv } from '../../src/config/env.js';
import {
  CreditRatesError,
  DEFAULT_CREDIT_RATES,
  parseCreditRates,
  rateFor,
} from '../../src/telemetry/credit-rates.js';

describe('credit rates', () => {
  it('are all 1 when unset or empty', () => {
    expect(parseCreditRates(undefined)).toEqual(DEFAULT_CREDIT_RATES);
    expect(parseCreditRates('  ')).toEqual({ source: 1, transform: 1, sink: 1, types: {} });
  });

  it('take rates per kind, keep 1 for kinds not named, and let a node type override its kind', () => {
    const rates = parseCreditRates('{"transform":2,"sink":0.5,"transform.sql":4}');
    expect(rates).toEqual({ source: 1, transform: 2, sink: 0.5, types: { 'transform.sql': 4 } });
    expect(rateFor(rates, 'transform', 'transform.sql')).toBe(4);
    expect(rateFor(rates, 'transform', 'transform.filter')).toBe(2);
    expect(rateFor(rates, 'source', 'source.csv')).toBe(1);
  });

  it('reject text that is not JSON, naming the variable', () => {
    expect(() => parseCreditRates('source=1')).toThrow(CreditRatesError);
    expect(() => parseCreditRates('source=1')).toThrow(
      /^TRIBUTARY_CREDIT_RATES is not JSON .*expected e\.g\./,
    );
  });

  it('reject a negative rate and an unknown key, naming each', () => {
    expect(() => parseCreditRates('{"sink":-1}')).toThrow('TRIBUTARY_CREDIT_RATES sink: must be 0 or more');
    expect(() => parseCreditRates('{"sinks":1}')).toThrow(
      'TRIBUTARY_CREDIT_RATES sinks: "sinks" is neither a node kind (source, transform, sink) nor a dotted node type such as "<kind>.<name>"',
    );
    expect(() => parseCreditRates('{"source":"2"}')).toThrow(/TRIBUTARY_CREDIT_RATES source: /);
    expect(() => parseCreditRates('[1,2]')).toThrow(/TRIBUTARY_CREDIT_RATES /);
  });

  it('are read from the environment at start, and a bad value stops it naming the variable', () => {
    expect(parseEnv({ TRIBUTARY_CREDIT_RATES: '{"source":3}' }).TRIBUTARY_CREDIT_RATES).toMatchObject({
      source: 3,
      sink: 1,
    });
    expect(parseEnv({}).TRIBUTARY_CREDIT_RATES).toBeUndefined();
    expect(() => parseEnv({ TRIBUTARY_CREDIT_RATES: '{"sinks":1}' })).toThrow(EnvError);
    expect(() => parseEnv({ TRIBUTARY_CREDIT_RATES: '{"sinks":1}' })).toThrow(
      'TRIBUTARY_CREDIT_RATES.sinks: "sinks" is neither a node kind',
    );
  });
});
