// k8s number flags name their range: `--uid -1` said "expected a whole number" (-1 is one), `--gid 99999999999`
// "expected a numeric id ≥ 0" (it is ≥ 0; it is above int32), and `--replicas 100000000000` was written into the
// spec for the API server to refuse at apply time.
import { describe, expect, it } from 'vitest';
import { integerOption, k8sOptions } from '../src/k8s/options.js';

describe('k8s number options', () => {
  it('a negative or non-numeric value is not a whole number ≥ 0', () => {
    expect(() => integerOption('--uid', '-1')).toThrow('--uid: got "-1"; expected a whole number ≥ 0');
    expect(() => integerOption('--replicas', 'many')).toThrow('--replicas: got "many"; expected a whole number ≥ 0');
  });

  it('ids and replicas above int32 are refused with the range', () => {
    expect(() => k8sOptions({ runAsGroup: 99_999_999_999 })).toThrow('--gid: got 99999999999; expected a numeric id from 0 to 2147483647');
    expect(() => k8sOptions({ kind: 'fleet', replicas: 100_000_000_000 })).toThrow('--replicas: got 100000000000; expected a whole number from 0 to 2147483647');
    expect(k8sOptions({ kind: 'fleet', replicas: 2_147_483_647 }).replicas).toBe(2_147_483_647);
  });
});
