// Template versions are ordered as semantic versions, so "1.10.0" is newer than "1.9.3".
import { describe, expect, it } from 'vitest';
import { compareSemver } from '../../src/templates/semver.js';

describe('compareSemver', () => {
  it.each([
    ['1.10.0', '1.9.3', 1],
    ['2.0.0', '10.0.0', -1],
    ['1.2.3', '1.2.3', 0],
    ['1.0.0', '1.0.0-rc.1', 1],
    ['1.0.0-rc.2', '1.0.0-rc.10', -1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-beta', '1.0.0-alpha.9', 1],
    ['1.0.0-1', '1.0.0-alpha', -1],
  ])('orders %s against %s as %i', (a, b, order) => {
    expect(compareSemver(a, b)).toBe(order);
  });

  it('refuses what is not a semantic version', () => {
    expect(() => compareSemver('1.0', '1.0.0')).toThrow('"1.0" is not a semantic version');
  });
});
