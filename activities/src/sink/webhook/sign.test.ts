import { describe, expect, it } from 'vitest';
import { signPayload } from './sign.js';

describe('signPayload', () => {
  it('is sha256= and the hex HMAC-SHA256 of "<timestamp>.<body>"', () => {
    // Computed independently: printf '1767225600.{"rows":[],"batch":1}' | openssl dgst -sha256 -hmac shh
    expect(signPayload('shh', 1767225600, '{"rows":[],"batch":1}')).toBe(
      'sha256=ea6d74407e63cbe4ad663b802960c4014f457579a1770ac8021bfbb6f7b4a037',
    );
  });

  it('changes with the timestamp, the body and the secret', () => {
    const signature = signPayload('shh', 1, 'body');
    expect(signPayload('shh', 2, 'body')).not.toBe(signature);
    expect(signPayload('shh', 1, 'body ')).not.toBe(signature);
    expect(signPayload('shh!', 1, 'body')).not.toBe(signature);
  });
});
