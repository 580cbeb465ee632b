// Kubernetes quantities read exactly: the forms resource.Quantity takes, compared as the API server compares them.
import { describe, expect, it } from 'vitest';
import { ceilQuantity, compareQuantities, parseQuantity } from '../src/config/quantity.js';

const cmp = (a: string | number, b: string | number) => compareQuantities(parseQuantity(a)!, parseQuantity(b)!);

describe('parseQuantity', () => {
  it('equal values in every form compare equal', () => {
    expect(cmp('500m', '0.5')).toBe(0);
    expect(cmp('.5', '500m')).toBe(0);
    expect(cmp('1.5', '1500m')).toBe(0);
    expect(cmp('0.3', '300m')).toBe(0); // 3 × 0.1 is not 0.3 in floating point
    expect(cmp('1e3', '1k')).toBe(0);
    expect(cmp('1E3', 1000)).toBe(0);
    expect(cmp('2Gi', 2 * 1024 ** 3)).toBe(0);
    expect(cmp('2G', '2e9')).toBe(0);
    expect(cmp('1.', '1')).toBe(0);
    expect(cmp('+2', 2)).toBe(0);
    expect(cmp('1e-3', '1m')).toBe(0);
  });

  it('orders binary and decimal suffixes, exponents and fractions', () => {
    expect(cmp('2G', '2Gi')).toBe(-1);
    expect(cmp('1E', '1Ei')).toBe(-1); // E alone is exa, not an exponent
    expect(cmp('999', '1e3')).toBe(-1);
    expect(cmp('1001m', '1')).toBe(1);
    expect(cmp('-1', '0')).toBe(-1);
  });

  it('refuses what is not a quantity', () => {
    for (const bad of ['', 'lots', '1e', '1 Gi', '1gi', '1.2.3', '0x10', 'Gi', '1e99999', '1Mi3', true, null, {}]) {
      expect(parseQuantity(bad), String(bad)).toBeUndefined();
    }
  });

  it('ceilQuantity: CPU units and MiB without float rounding', () => {
    expect(ceilQuantity(parseQuantity('500m')!, 1024n)).toBe(512);
    expect(ceilQuantity(parseQuantity('0.1')!, 1024n)).toBe(103);
    expect(ceilQuantity(parseQuantity('1.5Gi')!, 1n, 2n ** 20n)).toBe(1536);
    expect(ceilQuantity(parseQuantity('1G')!, 1n, 2n ** 20n)).toBe(954);
    expect(ceilQuantity(parseQuantity('-1.5')!)).toBe(-1);
  });
});
