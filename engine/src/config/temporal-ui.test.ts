import { describe, expect, it } from 'vitest';
import { parseEnv } from './env.js';
import { temporalUiUrl } from './temporal-ui.js';

const env = (vars: Record<string, string>) => parseEnv({ TRIBUTARY_HOME: '/tmp/trb-ui-test', ...vars });

describe('the Temporal UI link', () => {
  it('is TEMPORAL_UI_URL when set, whatever else is', () => {
    expect(
      temporalUiUrl(
        env({ TEMPORAL_UI_URL: 'https://temporal.example.com/', TEMPORAL_UI_PORT: '9999' }),
        'http://localhost:9999',
      ),
    ).toBe('https://temporal.example.com');
  });

  it("is the started dev server's UI, which listens on TEMPORAL_UI_PORT", () => {
    expect(temporalUiUrl(env({ TEMPORAL_UI_PORT: '18233' }), 'http://localhost:18233')).toBe(
      'http://localhost:18233',
    );
  });

  it("is the external cluster's host on TEMPORAL_UI_PORT when that is set", () => {
    expect(
      temporalUiUrl(env({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_UI_PORT: '8080' }), undefined),
    ).toBe('http://temporal.internal:8080');
  });

  it('is unknown for an external cluster without a UI setting, rather than a guessed port 8233', () => {
    expect(temporalUiUrl(env({ TEMPORAL_ADDRESS: 'temporal.internal:7233' }), undefined)).toBeUndefined();
  });
});
